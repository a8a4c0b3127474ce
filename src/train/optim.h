/* optim.h — optimisers and the learning-rate schedule for src/train.
 *
 * SGD with momentum and Adam (Kingma & Ba 2015), both with L2 weight
 * decay added to the gradient of tensors marked decay (weights; not
 * biases nor batch-norm). The schedule is a cosine decay from lr to
 * lr/100 over the run, after a short linear warm-up.
 */
#ifndef PL_TRAIN_OPTIM_H
#define PL_TRAIN_OPTIM_H

#include "train/net.h"

typedef enum tr_optimizer { TR_SGD = 0, TR_ADAM } tr_optimizer;

typedef struct tr_optim {
    tr_optimizer kind;
    float lr;            /* base learning rate                        */
    float momentum;      /* SGD                                       */
    float beta1, beta2, eps; /* Adam                                  */
    float weight_decay;
    long step;           /* updates done (Adam's bias correction)     */
} tr_optim;

void tr_optim_init(tr_optim *o, tr_optimizer kind, float lr, float weight_decay);

/* Learning rate for epoch e of total (0-based): warm-up, then cosine. */
float tr_lr_at(const tr_optim *o, int epoch, int total);

/* One update of every parameter with the given learning rate; gradients
 * are left as they are (call tr_zero_grad before the next batch). */
void tr_optim_step(tr_optim *o, tr_net *net, float lr);

/* Forget the moments (a fresh run with the same network). */
void tr_optim_reset(tr_net *net);

#endif
