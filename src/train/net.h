/* net.h — a small trainable network: layers with forward and backward
 * passes, in plain C.
 *
 * The training module owns this. It is deliberately separate from the
 * inference engine (src/engine): the engine runs other people's graphs as
 * fast as it can; this runs our own tiny networks and also needs
 * gradients. Everything is float32, one sample is C×H×W (channels first),
 * a batch is N samples back to back. Computation is single-threaded and in
 * a fixed order, so the same seed gives bit-identical weights.
 *
 * A network is a list of layers. Convolutions are stride 1 with "same"
 * padding (odd kernels); pooling does the downsampling. Dense layers are
 * 1×1 convolutions over a 1×1 map, so a feature vector of d values is a
 * sample of shape d×1×1. Batch-norm normalises per channel over N×H×W.
 */
#ifndef PL_TRAIN_NET_H
#define PL_TRAIN_NET_H

#include "train/rng.h"

typedef enum tr_kind {
    TR_CONV = 0,   /* k×k convolution, same padding, bias               */
    TR_DENSE,      /* fully connected (all of C×H×W -> out)              */
    TR_BATCHNORM,  /* per-channel batch normalisation, gamma/beta        */
    TR_RELU,
    TR_MAXPOOL,    /* 2×2, stride 2 (odd sizes drop the last row/column) */
    TR_AVGPOOL,    /* global average: C×H×W -> C×1×1                     */
    TR_DROPOUT     /* inverted dropout: scaled at training time          */
} tr_kind;

const char *tr_kind_name(tr_kind k);

/* A trainable tensor: value, gradient and the optimiser's two moments. */
typedef struct tr_param {
    float *v, *g, *m1, *m2;
    int n;
    int decay;               /* weight decay applies (not biases, not BN)  */
} tr_param;

typedef struct tr_layer {
    tr_kind kind;
    int c, h, w;             /* input shape of one sample                  */
    int oc, oh, ow;          /* output shape                               */
    int k;                   /* conv kernel side                           */
    float p;                 /* dropout probability                        */
    tr_param wt, bs;          /* conv/dense: weights, bias; BN: gamma, beta */
    float *run_mean, *run_var; /* BN statistics for inference            */
    float *out, *dout;       /* max_batch × output size                    */
    float *cache;            /* BN: x-hat; dropout: mask (0 or 1/(1-p))    */
    float *istd;             /* BN: 1/sqrt(var+eps) of the last batch      */
    int *arg;                /* maxpool: index of each output's maximum    */
} tr_layer;

#define TR_MAX_LAYERS 24

typedef struct tr_net {
    int n_layers;
    tr_layer layers[TR_MAX_LAYERS];
    int in_c, in_h, in_w;
    int max_batch;
    float *din;              /* gradient of the input (for tests)          */
} tr_net;

/* Start a network for inputs of c×h×w and batches up to max_batch. */
void tr_net_init(tr_net *net, int c, int h, int w, int max_batch);
/* Append a layer after the last one; returns 0 when out of memory or when
 * the shape does not allow it (a pool on a 1×1 map). */
int tr_add_conv(tr_net *net, int out_c, int k);
int tr_add_dense(tr_net *net, int out);
int tr_add_batchnorm(tr_net *net);
int tr_add_relu(tr_net *net);
int tr_add_maxpool(tr_net *net);
int tr_add_avgpool(tr_net *net);
int tr_add_dropout(tr_net *net, float p);
void tr_net_free(tr_net *net);

/* He-normal weights, zero biases, gamma 1, beta 0, running var 1. */
void tr_net_init_weights(tr_net *net, tr_rng *rng);

/* Output values per sample (the number of classes for a classifier). */
int tr_net_out_size(const tr_net *net);

/* Forward n samples (n ≤ max_batch). train: batch statistics, dropout
 * (masks drawn from rng). Returns the last layer's output, n × out size. */
const float *tr_forward(tr_net *net, const float *x, int n, int train, tr_rng *rng);

/* Backward from dy (gradient of the loss w.r.t. the output of the last
 * forward): adds into every parameter's g and writes net->din. */
void tr_backward(tr_net *net, const float *x, const float *dy, int n);

void tr_zero_grad(tr_net *net);

/* Every trainable tensor, in a fixed order (for optimisers and files).
 * Returns the count; params may be NULL to count only. */
int tr_net_params(tr_net *net, tr_param **params, int max);

/* Softmax cross-entropy over n rows of k logits against labels; writes the
 * mean loss's gradient into dlogits (may be NULL) and returns the mean
 * loss. probs (may be NULL) receives the softmax. */
double tr_softmax_ce(const float *logits, const int *labels, int n, int k,
                     float *dlogits, float *probs);

#endif
