/* kernels_fast.c — choosing and running the fast convolution and fully
 * connected kernels (placeholder: no fast path yet, callers use the
 * reference). */
#include "engine/kernels.h"

#include <stdlib.h>

struct pl_conv_plan { int unused; };
struct pl_fc_plan { int unused; };

pl_conv_plan *pl_conv_plan_new(const pl_conv_shape *s, const float *w,
                               const float *bias, const pl_epilogue *ep)
{
    (void)s; (void)w; (void)bias; (void)ep;
    return NULL;
}
void pl_conv_plan_free(pl_conv_plan *p) { free(p); }
void pl_conv_plan_run(const pl_conv_plan *p, const float *x, float *y,
                      int row_begin, int row_end)
{
    (void)p; (void)x; (void)y; (void)row_begin; (void)row_end;
}
const char *pl_conv_plan_name(const pl_conv_plan *p) { (void)p; return "none"; }

pl_fc_plan *pl_fc_plan_new(int n, int k, const float *w, const float *bias,
                           const pl_epilogue *ep)
{
    (void)n; (void)k; (void)w; (void)bias; (void)ep;
    return NULL;
}
void pl_fc_plan_free(pl_fc_plan *p) { free(p); }
void pl_fc_plan_run(const pl_fc_plan *p, int m, const float *x, float *y,
                    int m_begin, int m_end)
{
    (void)p; (void)m; (void)x; (void)y; (void)m_begin; (void)m_end;
}
