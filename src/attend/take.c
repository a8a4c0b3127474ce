/* take.c — who is in these class photos?
 *
 * Per photo: decode, detect every face, embed them (one batch split across
 * the threads, or one face per run with a single thread), score each face
 * against each enrolled student, and assign faces to students one-to-one
 * (Hungarian), so nobody is counted twice in a photo and two
 * look-alikes cannot both take the same name. A student seen in any photo
 * is present; one only matched in the "needs review" band is left for a
 * person to decide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "match/match.h"
#include "util/clock.h"

const char *pl_decision_name(pl_decision d)
{
    switch (d) {
    case PL_PRESENT: return "present";
    case PL_REVIEW: return "review";
    case PL_UNKNOWN: return "unknown";
    case PL_ABSENT: return "absent";
    }
    return "?";
}

void pl_app_thresholds(pl_app *app, pl_match_thresholds *th)
{
    const pl_embedder_spec *spec = pl_embedder_spec_of(app->embedder);
    pl_store_thresholds_get(app->store, app->model, &th->accept, &th->review_low, spec->accept,
                            spec->review);
    if (th->review_low > th->accept) th->review_low = th->accept;
}

typedef struct face_list {
    pl_take_face *v;
    int n, cap;
} face_list;

static pl_take_face *push_face(face_list *l)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        pl_take_face *bigger = realloc(l->v, (size_t)cap * sizeof *bigger);
        if (!bigger) return NULL;
        l->v = bigger;
        l->cap = cap;
    }
    pl_take_face *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static pl_decision from_match(pl_match_decision d)
{
    return d == PL_MATCH_PRESENT ? PL_PRESENT : d == PL_MATCH_REVIEW ? PL_REVIEW : PL_UNKNOWN;
}

/* Faces of one decoded photo: detect, embed, assign. */
static pl_status process_photo(pl_app *app, const pl_gallery *g, const pl_match_thresholds *th,
                               const pl_image *img, int photo_index, pl_take_photo *ph,
                               face_list *faces, pl_error *err)
{
    pl_face *found = NULL;
    int n = 0;
    double t0 = pl_now_ms();
    pl_status st = pl_mtcnn_detect(app->detector, img, &app->detect, &found, &n, err);
    double t1 = pl_now_ms();
    ph->ms_detect = t1 - t0;
    ph->n_faces = n;
    if (st != PL_OK || n == 0) {
        free(found);
        return st;
    }
    int dim = pl_embedder_dim(app->embedder);
    float *emb = malloc((size_t)n * dim * sizeof *emb);
    float *scores = malloc((size_t)n * (g->n_students ? g->n_students : 1) * sizeof *scores);
    pl_match_result *res = calloc((size_t)n, sizeof *res);
    if (!emb || !scores || !res) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) st = pl_embedder_run(app->embedder, img, found, n, emb, err);
    double t2 = pl_now_ms();
    ph->ms_align = pl_embedder_last_align_ms(app->embedder);
    ph->ms_embed = t2 - t1 - ph->ms_align;
    if (st == PL_OK && g->n_students > 0 && g->dim != dim)
        st = pl_fail(err, PL_ERR_ARG, "gallery has %d-d embeddings but model %s gives %d-d", g->dim,
                     app->model, dim);
    if (st == PL_OK && g->n_students > 0)
        st = pl_match_scores(emb, n, g->means, g->n_students, dim, scores, err);
    if (st == PL_OK) st = pl_match_assign(scores, n, g->n_students, *th, res, err);
    for (int i = 0; i < n && st == PL_OK; i++) {
        pl_take_face *f = push_face(faces);
        if (!f) {
            st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        f->photo = photo_index;
        f->x1 = found[i].x1;
        f->y1 = found[i].y1;
        f->x2 = found[i].x2;
        f->y2 = found[i].y2;
        f->det_score = found[i].score;
        memcpy(f->landmarks, found[i].landmarks, sizeof f->landmarks);
        f->decision = g->n_students ? from_match(res[i].decision) : PL_UNKNOWN;
        f->student = f->decision == PL_UNKNOWN ? -1 : res[i].student;
        f->best_guess = res[i].best_student;
        f->score = f->student >= 0 ? res[i].score : res[i].best_score;
    }
    ph->ms_match = pl_now_ms() - t2;
    free(res);
    free(scores);
    free(emb);
    free(found);
    return st;
}

/* A student's status across photos: the best evidence wins. */
static void decide_students(pl_take_result *r)
{
    for (int s = 0; s < r->n_students; s++) {
        r->students[s].status = PL_ABSENT;
        r->students[s].photo = r->students[s].face = -1;
    }
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *f = &r->faces[i];
        if (f->student < 0) continue;
        pl_take_student *s = &r->students[f->student];
        int better = s->status == PL_ABSENT || (f->decision == PL_PRESENT && s->status != PL_PRESENT) ||
                     (f->decision == s->status && f->score > s->score);
        if (better) {
            s->status = f->decision;
            s->score = f->score;
            s->photo = f->photo;
            s->face = i;
        }
    }
    for (int s = 0; s < r->n_students; s++) {
        r->present += r->students[s].status == PL_PRESENT;
        r->review += r->students[s].status == PL_REVIEW;
        r->absent += r->students[s].status == PL_ABSENT;
    }
    for (int i = 0; i < r->n_faces; i++) r->unknown += r->faces[i].decision == PL_UNKNOWN;
}

static pl_status init_result(pl_app *app, const pl_gallery *g, const pl_match_thresholds *th,
                             int n_photos, pl_take_result *r, pl_error *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", app->model);
    r->accept_threshold = th->accept;
    r->review_threshold = th->review_low;
    r->photos = calloc((size_t)(n_photos ? n_photos : 1), sizeof *r->photos);
    r->students = calloc((size_t)(g->n_students ? g->n_students : 1), sizeof *r->students);
    if (!r->photos || !r->students) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    r->n_photos = n_photos;
    r->n_students = g->n_students;
    for (int s = 0; s < g->n_students; s++) {
        r->students[s].id = g->student_id[s];
        snprintf(r->students[s].name, sizeof r->students[s].name, "%s", g->student_name[s]);
    }
    return PL_OK;
}

pl_status pl_take(pl_app *app, const char *const *photos, int n_photos, pl_take_result *out,
                  pl_error *err)
{
    pl_gallery g;
    memset(&g, 0, sizeof g);
    pl_status st = pl_store_gallery_load(app->store, app->model, &g, err);
    if (st != PL_OK) return st;
    st = pl_take_gallery(app, &g, photos, n_photos, out, err);
    pl_gallery_free(&g);
    return st;
}

pl_status pl_take_gallery(pl_app *app, const pl_gallery *gallery, const char *const *photos,
                          int n_photos, pl_take_result *out, pl_error *err)
{
    const pl_gallery g = *gallery;
    pl_match_thresholds th;
    pl_app_thresholds(app, &th);
    pl_status st = init_result(app, &g, &th, n_photos, out, err);
    face_list faces = {0};
    for (int p = 0; p < n_photos && st == PL_OK; p++) {
        pl_take_photo *ph = &out->photos[p];
        snprintf(ph->path, sizeof ph->path, "%s", photos[p]);
        pl_image img = {0};
        pl_error local = {0};
        double t0 = pl_now_ms();
        if (pl_image_load(photos[p], &img, &local) != PL_OK) {
            snprintf(ph->error, sizeof ph->error, "%s", local.msg);
            out->photos_failed++;
            continue;
        }
        ph->ms_decode = pl_now_ms() - t0;
        ph->w = img.w;
        ph->h = img.h;
        ph->ok = 1;
        st = process_photo(app, &g, &th, &img, p, ph, &faces, err);
        pl_app_keep_photo(app, photos[p], &img); /* frees the one kept before */
    }
    out->faces = faces.v;
    out->n_faces = faces.n;
    if (st == PL_OK) decide_students(out);
    if (st != PL_OK) pl_take_result_free(out);
    return st;
}

void pl_take_result_free(pl_take_result *r)
{
    free(r->photos);
    free(r->faces);
    free(r->students);
    memset(r, 0, sizeof *r);
}
