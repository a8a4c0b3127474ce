/* session.c — `take --class`: match a class's photos against that class's
 * students only, then record the session (photos by hash, every face, each
 * student's mark) in one transaction. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "records/records.h"
#include "util/sha256.h"

/* Every photo must be readable, and hashed, before anything is written:
 * a session is all of its photos or none of them. */
static pl_status check_photos(const pl_take_result *r, char (*sha)[65], pl_error *err)
{
    for (int p = 0; p < r->n_photos; p++) {
        if (!r->photos[p].ok)
            return pl_fail(err, PL_ERR_ARG, "%s; nothing recorded",
                           r->photos[p].error[0] ? r->photos[p].error : r->photos[p].path);
        pl_status st = pl_sha256_file(r->photos[p].path, sha[p], err);
        if (st) return st;
    }
    return PL_OK;
}

static pl_status record_faces(pl_store *s, const pl_take_result *r, int p,
                              int64_t photo_id, int64_t *face_ids, pl_error *err)
{
    for (int i = 0; i < r->n_faces; i++) {
        const pl_take_face *f = &r->faces[i];
        if (f->photo != p) continue;
        int who = f->student >= 0 ? f->student : f->best_guess;
        pl_face_rec rec = {
            .session_photo_id = photo_id,
            .x = f->x1, .y = f->y1, .w = f->x2 - f->x1 + 1, .h = f->y2 - f->y1 + 1,
            .det_score = f->det_score,
            .model = r->model,
            .student_id = who >= 0 && who < r->n_students ? r->students[who].id : 0,
            .score = f->score,
            .status = pl_decision_name(f->decision),
        };
        pl_status st = pl_store_face_add(s, &rec, &face_ids[i], err);
        if (st) return st;
    }
    return PL_OK;
}

static pl_status record_marks(pl_store *s, const pl_take_result *r, int64_t session_id,
                              const int64_t *face_ids, int *changed_total, pl_error *err)
{
    for (int k = 0; k < r->n_students; k++) {
        const pl_take_student *t = &r->students[k];
        int changed = 0;
        int64_t face = t->face >= 0 ? face_ids[t->face] : 0;
        pl_status st = pl_store_mark_auto(s, session_id, t->id, pl_decision_name(t->status),
                                          t->face >= 0 ? t->score : NAN, face, &changed, err);
        if (st) return st;
        *changed_total += changed;
    }
    return PL_OK;
}

static pl_status record(pl_store *s, const pl_class_info *c, const int64_t *roster, int n_roster,
                        const pl_take_result *r, char (*sha)[65], pl_take_session *rec,
                        pl_error *err)
{
    int64_t *face_ids = calloc((size_t)(r->n_faces ? r->n_faces : 1), sizeof *face_ids);
    if (!face_ids) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = pl_store_begin(s, err);
    if (!st) st = pl_store_session_get(s, c->id, rec->date, &rec->session_id,
                                       &rec->session_created, err);
    for (int p = 0; p < r->n_photos && !st; p++) {
        int64_t photo_id;
        int created = 0;
        st = pl_store_session_photo_add(s, rec->session_id, sha[p], r->photos[p].path,
                                        r->photos[p].w, r->photos[p].h, &photo_id, &created, err);
        /* The same bytes again: their faces are already recorded. */
        if (!st && created) st = record_faces(s, r, p, photo_id, face_ids, err);
        rec->photos_added += !st && created;
        rec->photos_already += !st && !created;
    }
    for (int i = 0; i < r->n_faces; i++) rec->faces_added += face_ids[i] > 0;
    if (!st) st = record_marks(s, r, rec->session_id, face_ids, &rec->marks_changed, err);
    if (!st) st = pl_rec_fill_absent(s, rec->session_id, roster, n_roster, err);
    if (!st) st = pl_store_commit(s, err);
    else pl_store_rollback(s);
    free(face_ids);
    return st;
}

pl_status pl_take_class(pl_app *app, const char *cls, const char *date,
                        const char *const *photos, int n_photos,
                        pl_take_result *out, pl_take_session *rec, pl_error *err)
{
    memset(out, 0, sizeof *out);
    memset(rec, 0, sizeof *rec);
    if (date) {
        pl_status st = pl_rec_check_date(date, "--date", err);
        if (st) return st;
        snprintf(rec->date, sizeof rec->date, "%s", date);
    } else {
        pl_rec_today(rec->date);
    }
    if (n_photos < 1) return pl_fail(err, PL_ERR_ARG, "no class photo given");
    pl_store *s = app->store;
    pl_class_info c;
    int64_t *roster = NULL;
    int n_roster = 0;
    pl_status st = pl_rec_class(s, cls, &c, &roster, &n_roster, err);
    if (st) return st;
    snprintf(rec->cls, sizeof rec->cls, "%s", c.name);
    pl_gallery g;
    memset(&g, 0, sizeof g);
    st = pl_store_gallery_load(s, app->model, &g, err);
    if (!st) {
        pl_rec_gallery_restrict(&g, roster, n_roster);
        st = pl_take_gallery(app, &g, photos, n_photos, out, err);
    }
    pl_gallery_free(&g);
    char (*sha)[65] = st ? NULL : calloc((size_t)n_photos, sizeof *sha);
    if (!st && !sha) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    if (!st) st = check_photos(out, sha, err);
    if (!st) st = record(s, &c, roster, n_roster, out, sha, rec, err);
    if (st && out->photos) pl_take_result_free(out);
    free(sha);
    free(roster);
    return st;
}
