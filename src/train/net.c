#include "train/net.h"

/* The convolution loops are plain element-wise row updates; GCC vectorises
 * them only at -O3. Vectorising element-wise loops does not reorder any
 * sum (no -ffast-math), so results stay bit-identical to -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.9f

const char *tr_kind_name(tr_kind k)
{
    static const char *names[] = {"conv", "dense", "batchnorm", "relu", "maxpool", "avgpool", "dropout"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static size_t in_size(const tr_layer *L) { return (size_t)L->c * L->h * L->w; }
static size_t out_size(const tr_layer *L) { return (size_t)L->oc * L->oh * L->ow; }

void tr_net_init(tr_net *net, int c, int h, int w, int max_batch)
{
    memset(net, 0, sizeof *net);
    net->in_c = c;
    net->in_h = h;
    net->in_w = w;
    net->max_batch = max_batch;
}

static int param_alloc(tr_param *p, int n, int decay)
{
    p->n = n;
    p->decay = decay;
    p->v = calloc((size_t)n, sizeof(float));
    p->g = calloc((size_t)n, sizeof(float));
    p->m1 = calloc((size_t)n, sizeof(float));
    p->m2 = calloc((size_t)n, sizeof(float));
    return p->v && p->g && p->m1 && p->m2;
}

static void param_free(tr_param *p)
{
    free(p->v);
    free(p->g);
    free(p->m1);
    free(p->m2);
}

/* A new layer whose input is the previous layer's output; the caller sets
 * the output shape and what it owns, then calls finish(). */
static tr_layer *begin(tr_net *net, tr_kind kind)
{
    if (net->n_layers >= TR_MAX_LAYERS) return NULL;
    tr_layer *L = &net->layers[net->n_layers];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    if (net->n_layers == 0) {
        L->c = net->in_c, L->h = net->in_h, L->w = net->in_w;
    } else {
        const tr_layer *P = &net->layers[net->n_layers - 1];
        L->c = P->oc, L->h = P->oh, L->w = P->ow;
    }
    L->oc = L->c, L->oh = L->h, L->ow = L->w;
    return L;
}

static void layer_free(tr_layer *L)
{
    param_free(&L->wt);
    param_free(&L->bs);
    free(L->run_mean);
    free(L->run_var);
    free(L->out);
    free(L->dout);
    free(L->cache);
    free(L->istd);
    free(L->arg);
}

static int finish(tr_net *net, tr_layer *L, int ok)
{
    size_t n = (size_t)net->max_batch * out_size(L);
    L->out = malloc(n * sizeof(float));
    L->dout = malloc(n * sizeof(float));
    if (!ok || !L->out || !L->dout || out_size(L) == 0) {
        layer_free(L);
        memset(L, 0, sizeof *L);
        return 0;
    }
    net->n_layers++;
    return 1;
}

int tr_add_conv(tr_net *net, int out_c, int k)
{
    tr_layer *L = begin(net, TR_CONV);
    if (!L || k < 1 || k % 2 == 0 || out_c < 1) return 0;
    L->oc = out_c;
    L->k = k;
    int ok = param_alloc(&L->wt, out_c * L->c * k * k, 1) && param_alloc(&L->bs, out_c, 0);
    return finish(net, L, ok);
}

int tr_add_dense(tr_net *net, int out)
{
    tr_layer *L = begin(net, TR_DENSE);
    if (!L || out < 1) return 0;
    L->oc = out, L->oh = 1, L->ow = 1;
    int ok = param_alloc(&L->wt, out * (int)in_size(L), 1) && param_alloc(&L->bs, out, 0);
    return finish(net, L, ok);
}

int tr_add_batchnorm(tr_net *net)
{
    tr_layer *L = begin(net, TR_BATCHNORM);
    if (!L) return 0;
    L->run_mean = calloc((size_t)L->c, sizeof(float));
    L->run_var = calloc((size_t)L->c, sizeof(float));
    L->istd = calloc((size_t)L->c, sizeof(float));
    L->cache = malloc((size_t)net->max_batch * in_size(L) * sizeof(float));
    int ok = param_alloc(&L->wt, L->c, 0) && param_alloc(&L->bs, L->c, 0) && L->run_mean &&
             L->run_var && L->istd && L->cache;
    return finish(net, L, ok);
}

int tr_add_relu(tr_net *net)
{
    tr_layer *L = begin(net, TR_RELU);
    return L ? finish(net, L, 1) : 0;
}

int tr_add_maxpool(tr_net *net)
{
    tr_layer *L = begin(net, TR_MAXPOOL);
    if (!L || L->h < 2 || L->w < 2) return 0;
    L->oh = L->h / 2, L->ow = L->w / 2;
    L->arg = malloc((size_t)net->max_batch * out_size(L) * sizeof(int));
    return finish(net, L, L->arg != NULL);
}

int tr_add_avgpool(tr_net *net)
{
    tr_layer *L = begin(net, TR_AVGPOOL);
    if (!L) return 0;
    L->oh = L->ow = 1;
    return finish(net, L, 1);
}

int tr_add_dropout(tr_net *net, float p)
{
    tr_layer *L = begin(net, TR_DROPOUT);
    if (!L || p < 0 || p >= 1) return 0;
    L->p = p;
    L->cache = malloc((size_t)net->max_batch * in_size(L) * sizeof(float));
    return finish(net, L, L->cache != NULL);
}

void tr_net_free(tr_net *net)
{
    for (int i = 0; i < net->n_layers; i++) layer_free(&net->layers[i]);
    free(net->din);
    memset(net, 0, sizeof *net);
}

void tr_net_init_weights(tr_net *net, tr_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++) {
        tr_layer *L = &net->layers[i];
        if (L->kind == TR_CONV || L->kind == TR_DENSE) {
            int fan_in = L->kind == TR_CONV ? L->c * L->k * L->k : (int)in_size(L);
            float sd = sqrtf(2.0f / (float)fan_in);
            for (int j = 0; j < L->wt.n; j++) L->wt.v[j] = sd * tr_rng_normal(rng);
            memset(L->bs.v, 0, (size_t)L->bs.n * sizeof(float));
        } else if (L->kind == TR_BATCHNORM) {
            for (int j = 0; j < L->c; j++) {
                L->wt.v[j] = 1;
                L->bs.v[j] = 0;
                L->run_mean[j] = 0, L->run_var[j] = 1;
            }
        }
    }
}

int tr_net_out_size(const tr_net *net)
{
    return net->n_layers ? (int)out_size(&net->layers[net->n_layers - 1]) : 0;
}

/* ---- forward ------------------------------------------------------------- */

static void conv_forward(tr_layer *L, const float *x, int n)
{
    int C = L->c, H = L->h, W = L->w, K = L->k, P = K / 2, HW = H * W;
    for (int s = 0; s < n; s++)
        for (int o = 0; o < L->oc; o++) {
            float *y = L->out + ((size_t)s * L->oc + o) * HW;
            for (int i = 0; i < HW; i++) y[i] = L->bs.v[o];
            for (int c = 0; c < C; c++) {
                const float *xc = x + ((size_t)s * C + c) * HW;
                const float *wk = L->wt.v + ((size_t)o * C + c) * K * K;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        /* out(yy,xx) += w * in(yy+dy, xx+dx) over the rows
                         * and columns where the input exists */
                        int dy = ky - P, dx = kx - P;
                        int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? H - dy : H;
                        int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? W - dx : W;
                        float wv = wk[ky * K + kx];
                        for (int yy = y0; yy < y1; yy++) {
                            float *yr = y + yy * W;
                            const float *xr = xc + (yy + dy) * W + dx;
                            for (int xx = x0; xx < x1; xx++) yr[xx] += wv * xr[xx];
                        }
                    }
            }
        }
}

static void dense_forward(tr_layer *L, const float *x, int n)
{
    int I = (int)in_size(L), O = L->oc;
    for (int s = 0; s < n; s++)
        for (int o = 0; o < O; o++) {
            const float *w = L->wt.v + (size_t)o * I, *xs = x + (size_t)s * I;
            float acc = L->bs.v[o];
            for (int i = 0; i < I; i++) acc += w[i] * xs[i];
            L->out[(size_t)s * O + o] = acc;
        }
}

static void bn_forward(tr_layer *L, const float *x, int n, int train)
{
    int C = L->c, HW = L->h * L->w;
    double m_count = (double)n * HW;
    for (int c = 0; c < C; c++) {
        float mean, var;
        if (train) {
            double sum = 0, sq = 0;
            for (int s = 0; s < n; s++) {
                const float *xc = x + ((size_t)s * C + c) * HW;
                for (int i = 0; i < HW; i++) sum += xc[i];
            }
            mean = (float)(sum / m_count);
            for (int s = 0; s < n; s++) {
                const float *xc = x + ((size_t)s * C + c) * HW;
                for (int i = 0; i < HW; i++) sq += (double)(xc[i] - mean) * (xc[i] - mean);
            }
            var = (float)(sq / m_count);
            L->run_mean[c] = BN_MOMENTUM * L->run_mean[c] + (1 - BN_MOMENTUM) * mean;
            L->run_var[c] = BN_MOMENTUM * L->run_var[c] + (1 - BN_MOMENTUM) * var;
        } else {
            mean = L->run_mean[c];
            var = L->run_var[c];
        }
        float istd = 1.0f / sqrtf(var + BN_EPS);
        L->istd[c] = istd;
        for (int s = 0; s < n; s++) {
            size_t off = ((size_t)s * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                float xh = (x[off + i] - mean) * istd;
                L->cache[off + i] = xh;
                L->out[off + i] = L->wt.v[c] * xh + L->bs.v[c];
            }
        }
    }
}

static void maxpool_forward(tr_layer *L, const float *x, int n)
{
    int C = L->c, H = L->h, W = L->w, OH = L->oh, OW = L->ow;
    for (int s = 0; s < n; s++)
        for (int c = 0; c < C; c++) {
            size_t ib = ((size_t)s * C + c) * H * W, ob = ((size_t)s * C + c) * OH * OW;
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    int best = (2 * oy) * W + 2 * ox;
                    for (int d = 1; d < 4; d++) {
                        int j = (2 * oy + d / 2) * W + 2 * ox + d % 2;
                        if (x[ib + j] > x[ib + best]) best = j;
                    }
                    L->arg[ob + oy * OW + ox] = best;
                    L->out[ob + oy * OW + ox] = x[ib + best];
                }
        }
}

static void avgpool_forward(tr_layer *L, const float *x, int n)
{
    int HW = L->h * L->w;
    for (size_t sc = 0; sc < (size_t)n * L->c; sc++) {
        double sum = 0;
        for (int i = 0; i < HW; i++) sum += x[sc * HW + i];
        L->out[sc] = (float)(sum / HW);
    }
}

static void dropout_forward(tr_layer *L, const float *x, int n, int train, tr_rng *rng)
{
    size_t total = (size_t)n * in_size(L);
    float keep = 1.0f / (1.0f - L->p);
    for (size_t i = 0; i < total; i++) {
        L->cache[i] = !train ? 1.0f : (tr_rng_uniform(rng) < L->p ? 0.0f : keep);
        L->out[i] = x[i] * L->cache[i];
    }
}

const float *tr_forward(tr_net *net, const float *x, int n, int train, tr_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++) {
        tr_layer *L = &net->layers[i];
        const float *in = i ? net->layers[i - 1].out : x;
        size_t total = (size_t)n * in_size(L);
        switch (L->kind) {
        case TR_CONV: conv_forward(L, in, n); break;
        case TR_DENSE: dense_forward(L, in, n); break;
        case TR_BATCHNORM: bn_forward(L, in, n, train); break;
        case TR_RELU:
            for (size_t j = 0; j < total; j++) L->out[j] = in[j] > 0 ? in[j] : 0;
            break;
        case TR_MAXPOOL: maxpool_forward(L, in, n); break;
        case TR_AVGPOOL: avgpool_forward(L, in, n); break;
        case TR_DROPOUT: dropout_forward(L, in, n, train, rng); break;
        }
    }
    return net->n_layers ? net->layers[net->n_layers - 1].out : x;
}

/* ---- backward ------------------------------------------------------------ */

static void conv_backward(tr_layer *L, const float *x, const float *dy_all, float *dx, int n)
{
    int C = L->c, H = L->h, W = L->w, K = L->k, P = K / 2, HW = H * W;
    memset(dx, 0, (size_t)n * in_size(L) * sizeof(float));
    for (int s = 0; s < n; s++)
        for (int o = 0; o < L->oc; o++) {
            const float *dy = dy_all + ((size_t)s * L->oc + o) * HW;
            double db = 0;
            for (int i = 0; i < HW; i++) db += dy[i];
            L->bs.g[o] += (float)db;
            for (int c = 0; c < C; c++) {
                const float *xc = x + ((size_t)s * C + c) * HW;
                float *dxc = dx + ((size_t)s * C + c) * HW;
                const float *wk = L->wt.v + ((size_t)o * C + c) * K * K;
                float *gk = L->wt.g + ((size_t)o * C + c) * K * K;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        int ddy = ky - P, ddx = kx - P;
                        int y0 = ddy < 0 ? -ddy : 0, y1 = ddy > 0 ? H - ddy : H;
                        int x0 = ddx < 0 ? -ddx : 0, x1 = ddx > 0 ? W - ddx : W;
                        float wv = wk[ky * K + kx], gw = 0;
                        for (int yy = y0; yy < y1; yy++) {
                            const float *dr = dy + yy * W;
                            const float *xr = xc + (yy + ddy) * W + ddx;
                            float *dxr = dxc + (yy + ddy) * W + ddx;
                            for (int xx = x0; xx < x1; xx++) {
                                gw += dr[xx] * xr[xx];
                                dxr[xx] += wv * dr[xx];
                            }
                        }
                        gk[ky * K + kx] += gw;
                    }
            }
        }
}

static void dense_backward(tr_layer *L, const float *x, const float *dy, float *dx, int n)
{
    int I = (int)in_size(L), O = L->oc;
    memset(dx, 0, (size_t)n * I * sizeof(float));
    for (int s = 0; s < n; s++)
        for (int o = 0; o < O; o++) {
            float d = dy[(size_t)s * O + o];
            const float *w = L->wt.v + (size_t)o * I, *xs = x + (size_t)s * I;
            float *g = L->wt.g + (size_t)o * I, *dxs = dx + (size_t)s * I;
            L->bs.g[o] += d;
            for (int i = 0; i < I; i++) {
                g[i] += d * xs[i];
                dxs[i] += d * w[i];
            }
        }
}

/* Batch-norm in training mode: the mean and variance depend on every
 * sample, hence the two sums in dx (Ioffe & Szegedy 2015, eq. in §3). */
static void bn_backward(tr_layer *L, const float *dy, float *dx, int n)
{
    int C = L->c, HW = L->h * L->w;
    double m = (double)n * HW;
    for (int c = 0; c < C; c++) {
        double sum_dy = 0, sum_dy_xh = 0;
        for (int s = 0; s < n; s++) {
            size_t off = ((size_t)s * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                sum_dy += dy[off + i];
                sum_dy_xh += (double)dy[off + i] * L->cache[off + i];
            }
        }
        L->wt.g[c] += (float)sum_dy_xh;
        L->bs.g[c] += (float)sum_dy;
        float k = L->wt.v[c] * L->istd[c];
        float mean_dy = (float)(sum_dy / m), mean_dy_xh = (float)(sum_dy_xh / m);
        for (int s = 0; s < n; s++) {
            size_t off = ((size_t)s * C + c) * HW;
            for (int i = 0; i < HW; i++)
                dx[off + i] = k * (dy[off + i] - mean_dy - L->cache[off + i] * mean_dy_xh);
        }
    }
}

void tr_backward(tr_net *net, const float *x, const float *dy, int n)
{
    if (!net->din) net->din = malloc((size_t)net->max_batch * net->in_c * net->in_h * net->in_w *
                                     sizeof(float));
    if (!net->din || !net->n_layers) return;
    const float *d = dy;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        tr_layer *L = &net->layers[i];
        const float *in = i ? net->layers[i - 1].out : x;
        float *dx = i ? net->layers[i - 1].dout : net->din;
        size_t total = (size_t)n * in_size(L);
        if (d != L->dout) memcpy(L->dout, d, (size_t)n * out_size(L) * sizeof(float));
        switch (L->kind) {
        case TR_CONV: conv_backward(L, in, L->dout, dx, n); break;
        case TR_DENSE: dense_backward(L, in, L->dout, dx, n); break;
        case TR_BATCHNORM: bn_backward(L, L->dout, dx, n); break;
        case TR_RELU:
            for (size_t j = 0; j < total; j++) dx[j] = in[j] > 0 ? L->dout[j] : 0;
            break;
        case TR_MAXPOOL: {
            memset(dx, 0, total * sizeof(float));
            size_t per_in = in_size(L), per_out = out_size(L);
            for (int s = 0; s < n; s++)
                for (int c = 0; c < L->c; c++) {
                    size_t ob = (size_t)s * per_out + (size_t)c * L->oh * L->ow;
                    size_t ib = (size_t)s * per_in + (size_t)c * L->h * L->w;
                    for (int j = 0; j < L->oh * L->ow; j++) dx[ib + L->arg[ob + j]] += L->dout[ob + j];
                }
            break;
        }
        case TR_AVGPOOL: {
            int HW = L->h * L->w;
            for (size_t sc = 0; sc < (size_t)n * L->c; sc++)
                for (int j = 0; j < HW; j++) dx[sc * HW + j] = L->dout[sc] / (float)HW;
            break;
        }
        case TR_DROPOUT:
            for (size_t j = 0; j < total; j++) dx[j] = L->dout[j] * L->cache[j];
            break;
        }
        d = dx;
    }
}

void tr_zero_grad(tr_net *net)
{
    tr_param *ps[2 * TR_MAX_LAYERS];
    int np = tr_net_params(net, ps, 2 * TR_MAX_LAYERS);
    for (int i = 0; i < np; i++) memset(ps[i]->g, 0, (size_t)ps[i]->n * sizeof(float));
}

int tr_net_params(tr_net *net, tr_param **params, int max)
{
    int k = 0;
    for (int i = 0; i < net->n_layers; i++) {
        tr_layer *L = &net->layers[i];
        if (L->kind != TR_CONV && L->kind != TR_DENSE && L->kind != TR_BATCHNORM) continue;
        if (params && k + 2 <= max) {
            params[k] = &L->wt;
            params[k + 1] = &L->bs;
        }
        k += 2;
    }
    return k;
}

double tr_softmax_ce(const float *logits, const int *labels, int n, int k, float *dlogits,
                     float *probs)
{
    double loss = 0;
    for (int s = 0; s < n; s++) {
        const float *z = logits + (size_t)s * k;
        float mx = z[0];
        for (int j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
        double sum = 0;
        for (int j = 0; j < k; j++) sum += exp((double)(z[j] - mx));
        for (int j = 0; j < k; j++) {
            double p = exp((double)(z[j] - mx)) / sum;
            if (probs) probs[(size_t)s * k + j] = (float)p;
            if (dlogits) dlogits[(size_t)s * k + j] = (float)((p - (j == labels[s])) / n);
        }
        loss -= (double)(z[labels[s]] - mx) - log(sum);
    }
    return loss / n;
}
