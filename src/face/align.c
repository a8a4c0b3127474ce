#include "face/align.h"

#include <math.h>

const float pl_arcface_template_112[10] = {
    38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f,
    71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f,
};

/* Umeyama's closed form restricted to 2-D similarities: with centred
 * points, the best rotation+scale is a = Σ(x·u + y·v)/Σ|p|², b = Σ(x·v − y·u)/Σ|p|²
 * for the matrix [a −b; b a]. This is exact least squares and needs no SVD. */
int pl_similarity_fit(const float *src, const float *dst, int n, float m[6])
{
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++) {
        sx += src[2 * i]; sy += src[2 * i + 1];
        dx += dst[2 * i]; dy += dst[2 * i + 1];
    }
    sx /= n; sy /= n; dx /= n; dy /= n;
    double num_a = 0, num_b = 0, den = 0;
    for (int i = 0; i < n; i++) {
        double x = src[2 * i] - sx, y = src[2 * i + 1] - sy;
        double u = dst[2 * i] - dx, v = dst[2 * i + 1] - dy;
        num_a += x * u + y * v;
        num_b += x * v - y * u;
        den += x * x + y * y;
    }
    if (den < 1e-12) return 0;
    double a = num_a / den, b = num_b / den;
    m[0] = (float)a;  m[1] = (float)-b; m[2] = (float)(dx - a * sx + b * sy);
    m[3] = (float)b;  m[4] = (float)a;  m[5] = (float)(dy - b * sx - a * sy);
    return 1;
}

void pl_face_template(int size, float margin, float out[10])
{
    /* Scale the 112 template about its centre (56,56) by 1/(1+2·margin),
     * then to the requested size. */
    float shrink = 1.0f / (1.0f + 2.0f * margin);
    float k = (float)size / 112.0f;
    for (int i = 0; i < 5; i++) {
        out[2 * i] = (56.0f + (pl_arcface_template_112[2 * i] - 56.0f) * shrink) * k;
        out[2 * i + 1] = (56.0f + (pl_arcface_template_112[2 * i + 1] - 56.0f) * shrink) * k;
    }
}
