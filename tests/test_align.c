/* Alignment: similarity fit recovers known transforms; templates scale. */
#include "face/align.h"
#include "test.h"

static void apply(const float m[6], float x, float y, float *u, float *v)
{
    *u = m[0] * x + m[1] * y + m[2];
    *v = m[3] * x + m[4] * y + m[5];
}

TEST(similarity_fit_recovers_rotation_scale_translation)
{
    float truth[6], src[10], dst[10], m[6];
    double ang = 0.3, s = 1.7;
    truth[0] = (float)(s * cos(ang)); truth[1] = (float)(-s * sin(ang)); truth[2] = 12.5f;
    truth[3] = (float)(s * sin(ang)); truth[4] = (float)(s * cos(ang));  truth[5] = -4.0f;
    for (int i = 0; i < 5; i++) {
        src[2 * i] = pl_arcface_template_112[2 * i] + 3 * i;
        src[2 * i + 1] = pl_arcface_template_112[2 * i + 1] - i;
        apply(truth, src[2 * i], src[2 * i + 1], &dst[2 * i], &dst[2 * i + 1]);
    }
    CHECK(pl_similarity_fit(src, dst, 5, m));
    for (int k = 0; k < 6; k++) CHECK_NEAR(m[k], truth[k], 1e-4);
}

TEST(similarity_fit_is_least_squares_under_noise)
{
    /* Identity plus symmetric noise: the fit stays the identity. */
    float src[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    float dst[8] = {0.5f, 0, 9.5f, 0, 10, 10.5f, 0, 9.5f}, m[6];
    CHECK(pl_similarity_fit(src, dst, 4, m));
    CHECK_NEAR(m[0], 1.0, 0.05);
    CHECK_NEAR(m[3], 0.0, 0.05);
}

TEST(similarity_fit_rejects_degenerate_points)
{
    float src[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, m[6];
    CHECK(!pl_similarity_fit(src, pl_arcface_template_112, 5, m));
}

TEST(affine_invert_roundtrip)
{
    float m[6] = {1.2f, -0.3f, 7, 0.3f, 1.2f, -2}, inv[6];
    CHECK(pl_affine_invert(m, inv));
    float u, v, x, y;
    apply(m, 13, 21, &u, &v);
    apply(inv, u, v, &x, &y);
    CHECK_NEAR(x, 13, 1e-4);
    CHECK_NEAR(y, 21, 1e-4);
}

TEST(template_scales_with_size_and_margin)
{
    float t[10];
    pl_face_template(112, 0, t);
    for (int i = 0; i < 10; i++) CHECK_NEAR(t[i], pl_arcface_template_112[i], 1e-5);
    pl_face_template(224, 0, t);
    CHECK_NEAR(t[0], 2 * pl_arcface_template_112[0], 1e-4);
    pl_face_template(112, 0.25f, t);
    /* eyes closer together with margin */
    CHECK(t[2] - t[0] < pl_arcface_template_112[2] - pl_arcface_template_112[0]);
}
