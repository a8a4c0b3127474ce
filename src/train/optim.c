#include "train/optim.h"

#include <math.h>
#include <string.h>

void tr_optim_init(tr_optim *o, tr_optimizer kind, float lr, float weight_decay)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->momentum = 0.9f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = weight_decay;
}

float tr_lr_at(const tr_optim *o, int epoch, int total)
{
    int warm = total >= 10 ? 2 : 0;
    if (epoch < warm) return o->lr * (float)(epoch + 1) / (float)(warm + 1);
    float t = total - warm > 1 ? (float)(epoch - warm) / (float)(total - warm - 1) : 1.0f;
    float lo = o->lr * 0.01f;
    return lo + 0.5f * (o->lr - lo) * (1.0f + cosf(3.14159265f * t));
}

void tr_optim_step(tr_optim *o, tr_net *net, float lr)
{
    tr_param *ps[2 * TR_MAX_LAYERS];
    int np = tr_net_params(net, ps, 2 * TR_MAX_LAYERS);
    o->step++;
    double c1 = 1.0 - pow(o->beta1, (double)o->step), c2 = 1.0 - pow(o->beta2, (double)o->step);
    for (int k = 0; k < np; k++) {
        tr_param *p = ps[k];
        float wd = p->decay ? o->weight_decay : 0.0f;
        for (int i = 0; i < p->n; i++) {
            float g = p->g[i] + wd * p->v[i];
            if (o->kind == TR_SGD) {
                p->m1[i] = o->momentum * p->m1[i] + g;
                p->v[i] -= lr * p->m1[i];
            } else {
                p->m1[i] = o->beta1 * p->m1[i] + (1 - o->beta1) * g;
                p->m2[i] = o->beta2 * p->m2[i] + (1 - o->beta2) * g * g;
                float mh = (float)(p->m1[i] / c1), vh = (float)(p->m2[i] / c2);
                p->v[i] -= lr * mh / (sqrtf(vh) + o->eps);
            }
        }
    }
}

void tr_optim_reset(tr_net *net)
{
    tr_param *ps[2 * TR_MAX_LAYERS];
    int np = tr_net_params(net, ps, 2 * TR_MAX_LAYERS);
    for (int k = 0; k < np; k++) {
        memset(ps[k]->m1, 0, (size_t)ps[k]->n * sizeof(float));
        memset(ps[k]->m2, 0, (size_t)ps[k]->n * sizeof(float));
    }
}
