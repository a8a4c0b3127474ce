/* enroll.c — students' photos into the gallery, each one checked.
 *
 * Every photo ends in exactly one state (added, already there, rejected
 * with a reason, or unreadable with a reason): nothing is dropped
 * silently. Each student is one transaction, so a student with no usable
 * photo leaves the database as it was, and a crash loses at most the
 * student being enrolled.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "util/fs.h"
#include "util/sha256.h"

#define MAX_PHOTO_BYTES ((size_t)64 << 20)
#define THUMB_SIDE 160

static pl_enroll_item *new_item(pl_enroll_result *r, const pl_source_photo *p)
{
    pl_enroll_item *it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    snprintf(it->student, sizeof it->student, "%s", p->student);
    snprintf(it->path, sizeof it->path, "%s", p->path);
    return it;
}

static void set_reason(pl_enroll_item *it, pl_enroll_status st, const char *reason)
{
    it->status = st;
    snprintf(it->reason, sizeof it->reason, "%s", reason);
}

/* Is this photo already in the gallery with an embedding of this model? */
static int already_enrolled(pl_app *app, int64_t student_id, const char *sha)
{
    int64_t photo_id;
    if (pl_store_photo_find(app->store, student_id, sha, &photo_id, NULL) != PL_OK) return 0;
    sqlite3_stmt *q;
    int found = 0;
    if (sqlite3_prepare_v2(pl_store_db(app->store),
                           "SELECT 1 FROM embeddings WHERE photo_id = ? AND model = ?", -1, &q,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, photo_id);
        sqlite3_bind_text(q, 2, app->model, -1, SQLITE_STATIC);
        found = sqlite3_step(q) == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    return found;
}

/* A face thumbnail for contact sheets: the box grown by 40%, square. */
static pl_status make_thumbnail(const pl_image *img, const pl_face *f, uint8_t **jpeg, size_t *len,
                                pl_error *err)
{
    float cx = (f->x1 + f->x2) / 2, cy = (f->y1 + f->y2) / 2;
    float side = fmaxf(f->x2 - f->x1, f->y2 - f->y1) * 1.4f;
    pl_image crop = {0}, small = {0};
    pl_status st = pl_image_crop_pad(img, (int)(cx - side / 2), (int)(cy - side / 2), (int)side,
                                     (int)side, 0x808080, &crop, err);
    if (st == PL_OK) st = pl_image_resize(&crop, THUMB_SIDE, THUMB_SIDE, PL_RESIZE_AUTO, &small, err);
    if (st == PL_OK) st = pl_image_encode_jpeg(&small, 85, jpeg, len, err);
    pl_image_free(&crop);
    pl_image_free(&small);
    return st;
}

/* What a usable photo brings to the gallery, computed before the
 * transaction so the database is locked only while writing. */
typedef struct prepared {
    char sha[65];
    int w, h;
    float *vec;
    float quality;
    uint8_t *thumb;
    size_t thumb_len;
} prepared;

static void prepared_free(prepared *p)
{
    free(p->vec);
    free(p->thumb);
    memset(p, 0, sizeof *p);
}

/* Check one photo; fill *p when it is usable. The verdict goes in it. */
static void check_photo(pl_app *app, int64_t known_student, pl_enroll_item *it, prepared *p)
{
    pl_error local = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!it->path[0]) {
        set_reason(it, PL_ENROLL_ERROR, "no photos in the student's folder");
        return;
    }
    if (pl_read_file(it->path, MAX_PHOTO_BYTES, &bytes, &len, &local) != PL_OK) {
        set_reason(it, PL_ENROLL_ERROR, local.msg);
        return;
    }
    if (len == 0) {
        free(bytes);
        snprintf(local.msg, sizeof local.msg, "%.900s: empty file (0 bytes)", it->path);
        set_reason(it, PL_ENROLL_ERROR, local.msg);
        return;
    }
    pl_sha256_hex(bytes, len, p->sha);
    if (known_student > 0 && already_enrolled(app, known_student, p->sha)) {
        free(bytes);
        set_reason(it, PL_ENROLL_ALREADY, "already enrolled");
        return;
    }
    pl_image img = {0};
    pl_status st = pl_image_decode(bytes, len, it->path, &img, &local);
    free(bytes);
    if (st != PL_OK) {
        set_reason(it, PL_ENROLL_ERROR, local.msg);
        return;
    }
    pl_face *faces = NULL;
    int n = 0;
    pl_quality q;
    if (pl_mtcnn_detect(app->detector, &img, &app->detect, &faces, &n, &local) != PL_OK) {
        set_reason(it, PL_ENROLL_ERROR, local.msg);
    } else if (pl_quality_check(&img, faces, n, &app->quality, &q), q.verdict != PL_QUALITY_OK) {
        set_reason(it, PL_ENROLL_REJECTED, q.reason);
    } else if (!(p->vec = malloc((size_t)pl_embedder_dim(app->embedder) * sizeof *p->vec))) {
        set_reason(it, PL_ENROLL_ERROR, "out of memory");
    } else if (pl_embedder_run(app->embedder, &img, &faces[q.face], 1, p->vec, &local) != PL_OK) {
        set_reason(it, PL_ENROLL_ERROR, local.msg);
    } else {
        make_thumbnail(&img, &faces[q.face], &p->thumb, &p->thumb_len, NULL);
        p->w = img.w;
        p->h = img.h;
        p->quality = q.sharpness;
        set_reason(it, PL_ENROLL_ADDED, "ok");
    }
    if (it->status != PL_ENROLL_ADDED) prepared_free(p);
    free(faces);
    pl_image_free(&img);
}

static pl_status store_student(pl_app *app, const pl_source_photo *first, pl_enroll_item *items,
                               prepared *prep, int n, pl_error *err)
{
    pl_student s = {0};
    snprintf(s.name, sizeof s.name, "%s", first->student);
    snprintf(s.code, sizeof s.code, "%s", first->code);
    snprintf(s.email, sizeof s.email, "%s", first->email);
    snprintf(s.gender, sizeof s.gender, "%s", first->gender);
    int64_t id, photo_id;
    int created;
    pl_status st = pl_store_begin(app->store, err);
    if (st == PL_OK) st = pl_store_student_add(app->store, &s, &id, &created, err);
    for (int i = 0; i < n && st == PL_OK; i++) {
        if (items[i].status != PL_ENROLL_ADDED) continue;
        pl_photo_rec rec = {id, items[i].path, prep[i].sha, prep[i].w, prep[i].h, 0, NULL,
                            prep[i].thumb, prep[i].thumb_len};
        st = pl_store_photo_add(app->store, &rec, &photo_id, &created, err);
        if (st == PL_OK)
            st = pl_store_embedding_add(app->store, photo_id, app->model, prep[i].vec,
                                        pl_embedder_dim(app->embedder), prep[i].quality, err);
    }
    if (st == PL_OK) st = pl_store_commit(app->store, err);
    else pl_store_rollback(app->store);
    return st;
}

/* One student: check every photo, then one short transaction that is
 * committed only if some photo is usable. */
static pl_status enroll_student(pl_app *app, const pl_source_photo *photos, int n,
                                pl_enroll_result *r, pl_error *err)
{
    pl_student existing;
    int64_t known = pl_store_student_find(app->store, photos[0].student, &existing, NULL) == PL_OK
                        ? existing.id : 0;
    prepared *prep = calloc((size_t)n, sizeof *prep);
    if (!prep) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_enroll_item *items = r->items + r->n_items;
    int usable = 0, added = 0;
    for (int i = 0; i < n; i++) {
        pl_enroll_item *it = new_item(r, &photos[i]);
        check_photo(app, known, it, &prep[i]);
        usable += it->status == PL_ENROLL_ADDED || it->status == PL_ENROLL_ALREADY;
        added += it->status == PL_ENROLL_ADDED;
    }
    pl_status st = added ? store_student(app, &photos[0], items, prep, n, err) : PL_OK;
    for (int i = 0; i < n; i++) prepared_free(&prep[i]);
    free(prep);
    if (st == PL_OK) {
        if (usable) r->students_ok++;
        else r->students_failed++;
    }
    return st;
}

static int by_student(const void *a, const void *b)
{
    const pl_source_photo *pa = a, *pb = b;
    int c = strcmp(pa->student, pb->student);
    return c ? c : (pa < pb ? -1 : pa > pb);
}

pl_status pl_enroll(pl_app *app, const char *source, pl_progress_fn progress, void *ctx,
                    pl_enroll_result *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    pl_source_photo *photos;
    int n;
    pl_status st = pl_source_scan(source, &photos, &n, err);
    if (st != PL_OK) return st;
    /* Photos of one student must be contiguous (flat folders list by file). */
    qsort(photos, (size_t)n, sizeof *photos, by_student);
    out->items = calloc((size_t)n, sizeof *out->items);
    if (!out->items) {
        free(photos);
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int start = 0; start < n && st == PL_OK;) {
        int end = start + 1;
        while (end < n && !strcmp(photos[end].student, photos[start].student)) end++;
        if (progress) progress(ctx, start, n, photos[start].student);
        out->students++;
        st = enroll_student(app, photos + start, end - start, out, err);
        start = end;
    }
    if (progress && st == PL_OK) progress(ctx, n, n, "");
    for (int i = 0; i < out->n_items; i++) {
        switch (out->items[i].status) {
        case PL_ENROLL_ADDED: out->added++; break;
        case PL_ENROLL_ALREADY: out->already++; break;
        case PL_ENROLL_REJECTED: out->rejected++; break;
        case PL_ENROLL_ERROR: out->errors++; break;
        }
    }
    free(photos);
    return st;
}

void pl_enroll_result_free(pl_enroll_result *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}
