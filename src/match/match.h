/* match.h — owns matching faces to students: cosine similarity of
 * L2-normalised embeddings and the one-to-one assignment within a photo.
 *
 * Within one photo a student can be at most one face and a face at most one
 * student, so picking each face's best student independently (greedy) is
 * wrong when two faces look alike. pl_match_assign solves the assignment
 * problem exactly (Hungarian / Kuhn-Munkres, O(n^3)): among the face-student
 * pairs scoring at least review_low it picks the one-to-one set with the
 * largest total similarity. Each face then gets a decision:
 *     score >= accept               PL_MATCH_PRESENT   (sure)
 *     review_low <= score < accept  PL_MATCH_REVIEW    (needs a person)
 *     otherwise / not assigned      PL_MATCH_UNKNOWN   (best guess kept)
 * Combining photos ("a student found in any photo is present") is the
 * caller's job.
 */
#ifndef PL_MATCH_H
#define PL_MATCH_H

#include "util/error.h"

/* v /= |v|; a zero vector stays zero. */
void pl_l2_normalize(float *v, int dim);
/* Cosine similarity; 0 when either vector is zero. */
float pl_cosine(const float *a, const float *b, int dim);

/* scores[i*n + j] = cosine(faces row i, gallery row j) for faces m x dim and
 * gallery n x dim (row-major). Neither input needs to be normalised. */
pl_status pl_match_scores(const float *faces, int m, const float *gallery,
                          int n, int dim, float *scores, pl_error *err);

typedef enum pl_match_decision {
    PL_MATCH_UNKNOWN = 0,
    PL_MATCH_REVIEW,
    PL_MATCH_PRESENT
} pl_match_decision;

const char *pl_match_decision_name(pl_match_decision d); /* "present" ... */

typedef struct pl_match_thresholds {
    float accept;     /* at or above: present */
    float review_low; /* at or above (and below accept): needs review */
} pl_match_thresholds;

typedef struct pl_match_result {
    int student;                 /* assigned student (column), or -1 */
    float score;                 /* its score; best_score when unassigned */
    pl_match_decision decision;
    int best_student;            /* the face's highest-scoring column, even if
                                    it went to another face; -1 if n == 0 */
    float best_score;
} pl_match_result;

/* Assign m faces (rows) to n students (columns) of the row-major score
 * matrix; out has m entries. Requires review_low <= accept. Deterministic:
 * the same matrix always gives the same answer (all scores equal: face i
 * gets student i). m or n may be 0. */
pl_status pl_match_assign(const float *scores, int m, int n,
                          pl_match_thresholds th, pl_match_result *out,
                          pl_error *err);

/* The bare assignment: maximise the total weight of a one-to-one matching
 * of an m x n matrix (every row matched when m <= n, every column when
 * m > n). row_to_col gets m entries (-1 for rows left over). */
pl_status pl_hungarian_max(const double *w, int m, int n, int *row_to_col,
                           pl_error *err);

#endif
