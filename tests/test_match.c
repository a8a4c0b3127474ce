/* Tests for src/match: cosine scores and the Hungarian face/student
 * assignment, on hand-made matrices and against brute force. */
#include "test.h"
#include "match/match.h"

static const pl_match_thresholds TH = {0.5f, 0.3f};

TEST(match_cosine_and_normalize)
{
    float a[3] = {3, 0, 4}, b[3] = {6, 0, 8}, c[3] = {0, 1, 0}, z[3] = {0, 0, 0};
    CHECK_NEAR(pl_cosine(a, b, 3), 1.0, 1e-6);
    CHECK_NEAR(pl_cosine(a, c, 3), 0.0, 1e-6);
    CHECK_NEAR(pl_cosine(a, z, 3), 0.0, 0);
    pl_l2_normalize(a, 3);
    CHECK_NEAR(a[0], 0.6, 1e-6);
    CHECK_NEAR(a[2], 0.8, 1e-6);
    pl_l2_normalize(z, 3);
    CHECK(z[0] == 0 && z[1] == 0 && z[2] == 0);
}

TEST(match_scores_matrix)
{
    float faces[2 * 2] = {1, 0, 1, 1};
    float gal[3 * 2] = {2, 0, 0, 5, -1, 0};
    float s[6];
    CHECK(pl_match_scores(faces, 2, gal, 3, 2, s, NULL) == PL_OK);
    CHECK_NEAR(s[0], 1, 1e-6);
    CHECK_NEAR(s[1], 0, 1e-6);
    CHECK_NEAR(s[2], -1, 1e-6);
    CHECK_NEAR(s[3], 0.70710678, 1e-6);
    CHECK_NEAR(s[4], 0.70710678, 1e-6);
    CHECK_NEAR(s[5], -0.70710678, 1e-6);
}

/* Face 0 is a little closer to student 0 than face 1 is, but face 1 looks
 * like nobody else: greedy gives student 0 to face 0 and leaves face 1 with
 * 0.1 (unknown); the assignment gives 0.8 + 0.85. */
TEST(match_hungarian_beats_greedy)
{
    const float s[4] = {0.90f, 0.80f,
                        0.85f, 0.10f};
    pl_match_result r[2];
    CHECK(pl_match_assign(s, 2, 2, TH, r, NULL) == PL_OK);
    CHECK_EQ_INT(r[0].student, 1);
    CHECK_EQ_INT(r[1].student, 0);
    CHECK_NEAR(r[0].score, 0.80, 1e-6);
    CHECK_NEAR(r[1].score, 0.85, 1e-6);
    CHECK(r[0].decision == PL_MATCH_PRESENT && r[1].decision == PL_MATCH_PRESENT);
    /* The best guess is kept even when the assignment chose otherwise. */
    CHECK_EQ_INT(r[0].best_student, 0);
    CHECK_NEAR(r[0].best_score, 0.90, 1e-6);
}

TEST(match_decisions_present_review_unknown)
{
    const float s[3 * 3] = {0.70f, 0.10f, 0.00f,
                            0.10f, 0.40f, 0.00f,
                            0.05f, 0.00f, 0.20f};
    pl_match_result r[3];
    CHECK(pl_match_assign(s, 3, 3, TH, r, NULL) == PL_OK);
    CHECK(r[0].decision == PL_MATCH_PRESENT && r[0].student == 0);
    CHECK(r[1].decision == PL_MATCH_REVIEW && r[1].student == 1);
    CHECK(r[2].decision == PL_MATCH_UNKNOWN && r[2].student == -1);
    CHECK_EQ_INT(r[2].best_student, 2);
    CHECK_NEAR(r[2].score, 0.20, 1e-6);
    CHECK_STR(pl_match_decision_name(r[1].decision), "review");
    /* A score exactly at a threshold is on the upper side. */
    const float edge[2] = {0.5f, 0.3f};
    CHECK(pl_match_assign(edge, 2, 1, TH, r, NULL) == PL_OK);
    CHECK(r[0].decision == PL_MATCH_PRESENT);
    CHECK(r[1].decision == PL_MATCH_UNKNOWN); /* student 0 is taken */
}

TEST(match_ties_are_one_to_one_and_deterministic)
{
    float s[3 * 3];
    for (int i = 0; i < 9; i++) s[i] = 0.8f;
    pl_match_result r[3], again[3];
    CHECK(pl_match_assign(s, 3, 3, TH, r, NULL) == PL_OK);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        CHECK(r[i].student >= 0 && r[i].student < 3);
        seen[r[i].student]++;
        CHECK(r[i].decision == PL_MATCH_PRESENT);
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(r[i].student, i);
    CHECK(pl_match_assign(s, 3, 3, TH, again, NULL) == PL_OK);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(again[i].student, r[i].student);
    /* Two faces equally like one student: one gets them, one stays unknown
     * with that student as best guess. */
    const float two[2] = {0.9f, 0.9f};
    CHECK(pl_match_assign(two, 2, 1, TH, r, NULL) == PL_OK);
    CHECK((r[0].student == 0) + (r[1].student == 0) == 1);
    CHECK(r[0].best_student == 0 && r[1].best_student == 0);
}

TEST(match_more_faces_than_students)
{
    /* 4 faces, 2 students: the best face for each student wins. */
    const float s[4 * 2] = {0.2f, 0.6f,
                            0.9f, 0.1f,
                            0.7f, 0.2f,
                            0.1f, 0.95f};
    pl_match_result r[4];
    CHECK(pl_match_assign(s, 4, 2, TH, r, NULL) == PL_OK);
    CHECK_EQ_INT(r[0].student, -1);
    CHECK_EQ_INT(r[1].student, 0);
    CHECK_EQ_INT(r[2].student, -1);
    CHECK_EQ_INT(r[3].student, 1);
    CHECK(r[2].decision == PL_MATCH_UNKNOWN && r[2].best_student == 0);
}

TEST(match_more_students_than_faces)
{
    const float s[2 * 4] = {0.1f, 0.2f, 0.9f, 0.3f,
                            0.2f, 0.6f, 0.8f, 0.1f};
    pl_match_result r[2];
    CHECK(pl_match_assign(s, 2, 4, TH, r, NULL) == PL_OK);
    CHECK_EQ_INT(r[0].student, 2);
    CHECK_EQ_INT(r[1].student, 1);
}

TEST(match_empty)
{
    pl_match_result r[3];
    const float dummy = 0;
    CHECK(pl_match_assign(&dummy, 0, 0, TH, r, NULL) == PL_OK);
    CHECK(pl_match_assign(&dummy, 0, 3, TH, r, NULL) == PL_OK);
    CHECK(pl_match_assign(&dummy, 3, 0, TH, r, NULL) == PL_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(r[i].student, -1);
        CHECK_EQ_INT(r[i].best_student, -1);
        CHECK(r[i].decision == PL_MATCH_UNKNOWN);
    }
}

TEST(match_rejects_bad_input)
{
    pl_error err = {0};
    pl_match_result r[1];
    const float s[1] = {NAN};
    CHECK(pl_match_assign(s, 1, 1, TH, r, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "not a number");
    const float ok[1] = {0.5f};
    pl_match_thresholds bad = {0.3f, 0.5f};
    CHECK(pl_match_assign(ok, 1, 1, bad, r, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "above accept");
}

/* ---- against brute force --------------------------------------------------- */

static unsigned rng_state = 12345;
static double rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (double)((rng_state >> 8) & 0xFFFF) / 65535.0;
}

/* Best total of a partial one-to-one matching of non-negative weights. */
static double brute(const double *w, int m, int n, int row, unsigned used)
{
    if (row == m) return 0;
    double best = brute(w, m, n, row + 1, used); /* row left out */
    for (int j = 0; j < n; j++) {
        if (used & (1u << j)) continue;
        double t = w[row * n + j] + brute(w, m, n, row + 1, used | (1u << j));
        if (t > best) best = t;
    }
    return best;
}

TEST(match_hungarian_equals_brute_force)
{
    double w[8 * 8];
    int col[8];
    for (int trial = 0; trial < 400; trial++) {
        int m = 1 + (int)(rnd() * 7.99), n = 1 + (int)(rnd() * 7.99);
        for (int k = 0; k < m * n; k++)
            w[k] = trial % 3 == 0 ? (double)(int)(rnd() * 4) : rnd(); /* many ties */
        CHECK(pl_hungarian_max(w, m, n, col, NULL) == PL_OK);
        double total = 0;
        unsigned used = 0;
        int matched = 0;
        for (int i = 0; i < m; i++) {
            if (col[i] < 0) continue;
            CHECK(col[i] < n && !(used & (1u << col[i])));
            used |= 1u << col[i];
            total += w[i * n + col[i]];
            matched++;
        }
        CHECK_EQ_INT(matched, m < n ? m : n);
        CHECK_NEAR(total, brute(w, m, n, 0, 0), 1e-9);
    }
}

TEST(match_assign_equals_brute_force)
{
    float s[7 * 7];
    double w[7 * 7];
    pl_match_result r[7];
    for (int trial = 0; trial < 300; trial++) {
        int m = 1 + (int)(rnd() * 6.99), n = 1 + (int)(rnd() * 6.99);
        for (int k = 0; k < m * n; k++) {
            s[k] = (float)(rnd() * 1.2 - 0.2);
            w[k] = s[k] >= TH.review_low ? s[k] : 0;
        }
        CHECK(pl_match_assign(s, m, n, TH, r, NULL) == PL_OK);
        double total = 0;
        unsigned used = 0;
        for (int i = 0; i < m; i++) {
            if (r[i].student < 0) {
                CHECK(r[i].decision == PL_MATCH_UNKNOWN);
                continue;
            }
            CHECK(!(used & (1u << r[i].student)));
            used |= 1u << r[i].student;
            CHECK(r[i].score >= TH.review_low);
            total += r[i].score;
        }
        CHECK_NEAR(total, brute(w, m, n, 0, 0), 1e-5);
    }
}

TEST(match_large_is_fast_enough)
{
    /* A big lecture photo: 150 faces against 400 students. */
    int m = 150, n = 400;
    float *s = malloc(sizeof *s * (size_t)m * n);
    pl_match_result *r = malloc(sizeof *r * (size_t)m);
    for (int k = 0; k < m * n; k++) s[k] = (float)(rnd() * 0.4);
    for (int i = 0; i < m; i++) s[i * n + (i * 7) % n] = 0.9f;
    CHECK(pl_match_assign(s, m, n, TH, r, NULL) == PL_OK);
    int ok = 1;
    for (int i = 0; i < m; i++) ok &= r[i].student == (i * 7) % n;
    free(s);
    free(r);
    CHECK(ok);
}
