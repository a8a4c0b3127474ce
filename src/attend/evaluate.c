/* evaluate.c — how good is pasalista on the user's own labelled photos?
 *
 * DATA holds identities/<person>/ photos and groups/<name>.jpg with
 * groups/<name>.json ground truth. Every photo is decoded and detected
 * ONCE (detection does not depend on the embedder); each model then
 * embeds the same faces, so the models are compared on identical inputs
 * and the run costs one detection per photo plus one embedding per face
 * and model. From the embeddings: verification (every pair of identity
 * photos), leave-one-out identification, attendance on the group photos
 * at the model's thresholds and at the roster-calibrated one. Detection
 * is scored against the annotated boxes. The arithmetic is eval/metrics.h.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attend/attend.h"
#include "eval/eval.h"
#include "eval/metrics.h"
#include "match/match.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/json.h"

#define MAX_MODELS 16
#define THUMB 96
#define MAX_CONFUSED 10

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_photo(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *ext[] = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"};
    if (!dot || name[0] == '.') return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot, ext[i])) return 1;
    return 0;
}

/* Sorted entries of a folder: folders (want_dirs) or photos. */
static pl_status list_dir(const char *dir, int want_dirs, const char *suffix, char ***out, int *n,
                          pl_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return pl_fail(err, PL_ERR_NOTFOUND, "%s: cannot open folder", dir);
    int cap = 0;
    struct dirent *e;
    pl_status st = PL_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
        int keep = want_dirs ? pl_is_dir(path)
                   : suffix  ? len > sl && !strcmp(e->d_name + len - sl, suffix)
                             : is_photo(e->d_name) && !pl_is_dir(path);
        if (!keep) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **bigger = realloc(*out, (size_t)cap * sizeof *bigger);
            if (!bigger) {
                st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            *out = bigger;
        }
        if (!((*out)[*n] = strdup(e->d_name))) {
            st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*out) qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return st;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---- the run's working state ---------------------------------------------- */

typedef struct group_data {
    int n_truth;                 /* annotated boxes                         */
    float (*truth)[4];
    char **people;               /* people_present                          */
    int n_people;
    int n_faces;                 /* detected                                */
    pl_face *faces;
    float *emb[MAX_MODELS];      /* n_faces x dim per model                 */
} group_data;

typedef struct run {
    const pl_eval_options *opt;
    pl_eval_result *r;
    pl_mtcnn *det;
    pl_mtcnn_options det_opt;
    pl_quality_limits quality;
    pl_embedder *emb[MAX_MODELS];
    double embed_ms[MAX_MODELS];
    /* identity photos kept: label and one row per model */
    int n_rows, cap_rows;
    int *label;
    float *rows[MAX_MODELS];
    group_data *g;
    int done, total;
} run;

static void progress(run *w, const char *what)
{
    w->done++;
    if (w->opt->progress) w->opt->progress(w->opt->ctx, w->done, w->total, what);
}

static pl_status skip_photo(pl_eval_result *r, const char *path, const char *reason, pl_error *err)
{
    pl_eval_photo_issue *bigger = realloc(r->skipped, (size_t)(r->n_skipped + 1) * sizeof *bigger);
    if (!bigger) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    r->skipped = bigger;
    pl_eval_photo_issue *s = &r->skipped[r->n_skipped++];
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->reason, sizeof s->reason, "%s", reason);
    return PL_OK;
}

/* Embed n faces with every loaded model; out[m] is malloc'd n x dim. */
static pl_status embed_all(run *w, const pl_image *img, const pl_face *faces, int n, float **out,
                           pl_error *err)
{
    for (int m = 0; m < w->r->n_models; m++) {
        out[m] = NULL;
        if (!w->emb[m]) continue;
        int dim = pl_embedder_dim(w->emb[m]);
        if (!(out[m] = malloc(((size_t)n * dim + 1) * sizeof **out)))
            return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        double t0 = pl_now_ms();
        pl_status st = n ? pl_embedder_run(w->emb[m], img, faces, n, out[m], err) : PL_OK;
        w->embed_ms[m] += pl_now_ms() - t0;
        w->r->models[m].faces_embedded += n;
        if (st != PL_OK) return st;
    }
    return PL_OK;
}

static void make_thumb(pl_eval_result *r, int id, const pl_image *img, const pl_face *f)
{
    float cx = (f->x1 + f->x2) / 2, cy = (f->y1 + f->y2) / 2;
    float side = fmaxf(f->x2 - f->x1, f->y2 - f->y1) * 1.4f;
    pl_image crop = {0}, small = {0};
    if (pl_image_crop_pad(img, (int)(cx - side / 2), (int)(cy - side / 2), (int)side, (int)side,
                          0x808080, &crop, NULL) == PL_OK &&
        pl_image_resize(&crop, THUMB, THUMB, PL_RESIZE_AUTO, &small, NULL) == PL_OK)
        pl_image_encode_jpeg(&small, 80, &r->thumb[id], &r->thumb_len[id], NULL);
    pl_image_free(&crop);
    pl_image_free(&small);
}

static pl_status keep_row(run *w, int id, float **emb, pl_error *err)
{
    if (w->n_rows == w->cap_rows) {
        int cap = w->cap_rows ? w->cap_rows * 2 : 256;
        int *l = realloc(w->label, (size_t)cap * sizeof *l);
        if (!l) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        w->label = l;
        for (int m = 0; m < w->r->n_models; m++) {
            if (!w->emb[m]) continue;
            int dim = pl_embedder_dim(w->emb[m]);
            float *rows = realloc(w->rows[m], (size_t)cap * dim * sizeof *rows);
            if (!rows) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
            w->rows[m] = rows;
        }
        w->cap_rows = cap;
    }
    w->label[w->n_rows] = id;
    for (int m = 0; m < w->r->n_models; m++) {
        if (!w->emb[m]) continue;
        int dim = pl_embedder_dim(w->emb[m]);
        memcpy(w->rows[m] + (size_t)w->n_rows * dim, emb[m], (size_t)dim * sizeof(float));
    }
    w->n_rows++;
    return PL_OK;
}

/* One identity photo: the face enrollment would take, embedded by all. */
static pl_status identity_photo(run *w, int id, const char *path, pl_error *err)
{
    pl_eval_result *r = w->r;
    pl_image img = {0};
    pl_error local = {0};
    r->identity_photos++;
    if (pl_image_load(path, &img, &local) != PL_OK) return skip_photo(r, path, local.msg, err);
    pl_face *faces = NULL;
    int n = 0;
    pl_status st = pl_mtcnn_detect(w->det, &img, &w->det_opt, &faces, &n, err);
    pl_quality q;
    if (st == PL_OK) pl_quality_check(&img, faces, n, &w->quality, &q);
    if (st == PL_OK && q.verdict != PL_QUALITY_OK) {
        st = skip_photo(r, path, q.reason, err);
    } else if (st == PL_OK) {
        float *emb[MAX_MODELS] = {0};
        st = embed_all(w, &img, &faces[q.face], 1, emb, err);
        if (st == PL_OK) st = keep_row(w, id, emb, err);
        if (st == PL_OK && !r->thumb[id]) make_thumb(r, id, &img, &faces[q.face]);
        for (int m = 0; m < r->n_models; m++) free(emb[m]);
        r->photos_used += st == PL_OK;
    }
    free(faces);
    pl_image_free(&img);
    return st;
}

static pl_status load_identities(run *w, pl_error *err)
{
    pl_eval_result *r = w->r;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/identities", r->data);
    char **names;
    int n;
    pl_status st = list_dir(dir, 1, NULL, &names, &n, err);
    if (st != PL_OK) return st;
    int listed_people = n;
    if (w->opt->max_identities > 0 && n > w->opt->max_identities) n = w->opt->max_identities;
    if (n == 0) {
        free(names);
        return pl_fail(err, PL_ERR_ARG, "%s: no person folders", dir);
    }
    r->identity = calloc((size_t)n, sizeof *r->identity);
    r->thumb = calloc((size_t)n, sizeof *r->thumb);
    r->thumb_len = calloc((size_t)n, sizeof *r->thumb_len);
    char ***photos = calloc((size_t)n, sizeof *photos);
    int *listed = calloc((size_t)n, sizeof *listed), *use = calloc((size_t)n, sizeof *use);
    if (!r->identity || !r->thumb || !r->thumb_len || !photos || !listed || !use)
        st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    r->n_identities = st == PL_OK ? n : 0;
    for (int i = 0; i < r->n_identities; i++) snprintf(r->identity[i], sizeof r->identity[i], "%s", names[i]);
    /* list everything first so that progress knows the total */
    for (int i = 0; i < n && st == PL_OK; i++) {
        char sub[8400];
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        st = list_dir(sub, 0, NULL, &photos[i], &listed[i], err);
        use[i] = listed[i];
        if (w->opt->max_photos_per_identity > 0 && use[i] > w->opt->max_photos_per_identity)
            use[i] = w->opt->max_photos_per_identity;
        w->total += use[i];
    }
    for (int i = 0; i < n && st == PL_OK; i++)
        for (int j = 0; j < use[i] && st == PL_OK; j++) {
            char path[8400];
            snprintf(path, sizeof path, "%s/%s/%s", dir, names[i], photos[i][j]);
            st = identity_photo(w, i, path, err);
            progress(w, path);
        }
    for (int i = 0; photos && i < n; i++) free_list(photos[i], listed ? listed[i] : 0);
    free(photos);
    free(listed);
    free(use);
    free_list(names, listed_people);
    return st;
}

/* ---- group photos ------------------------------------------------------------ */

static pl_status read_truth(const char *json_path, group_data *g, pl_error *err)
{
    pl_json *j = pl_json_load_file(json_path, err);
    if (!j) return err ? err->code : PL_ERR_FORMAT;
    const pl_json *faces = pl_json_get(j, "faces"), *people = pl_json_get(j, "people_present");
    pl_status st = PL_OK;
    g->n_truth = pl_json_len(faces);
    g->n_people = pl_json_len(people);
    g->truth = calloc((size_t)g->n_truth + 1, sizeof *g->truth);
    g->people = calloc((size_t)g->n_people + 1, sizeof *g->people);
    if (!g->truth || !g->people) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_truth && st == PL_OK; i++) {
        const pl_json *bb = pl_json_get(pl_json_at(faces, i), "bbox");
        if (pl_json_len(bb) != 4) st = pl_fail(err, PL_ERR_FORMAT, "%s: faces[%d].bbox is not [x, y, w, h]", json_path, i);
        for (int k = 0; k < 4 && st == PL_OK; k++) g->truth[i][k] = (float)pl_json_as_number(pl_json_at(bb, k), 0);
    }
    for (int i = 0; i < g->n_people && st == PL_OK; i++)
        if (!(g->people[i] = strdup(pl_json_as_string(pl_json_at(people, i), ""))))
            st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_json_free(j);
    return st;
}

static const char *face_identity(const char *json_path, int i, char *buf, size_t size)
{
    /* Re-reading the JSON per missed face is rare enough to keep group_data small. */
    buf[0] = 0;
    pl_json *j = pl_json_load_file(json_path, NULL);
    if (j) snprintf(buf, size, "%s", pl_json_as_string(pl_json_get(pl_json_at(pl_json_get(j, "faces"), i), "identity"), ""));
    pl_json_free(j);
    return buf;
}

static int size_bin(const float b[4])
{
    float s = sqrtf(fmaxf(b[2], 0) * fmaxf(b[3], 0));
    return s < 32 ? 0 : s < 64 ? 1 : s < 128 ? 2 : 3;
}

static pl_status push_box(pl_eval_box **v, int *n, const char *group, const char *who, const float b[4],
                          float score, pl_error *err)
{
    pl_eval_box *bigger = realloc(*v, (size_t)(*n + 1) * sizeof *bigger);
    if (!bigger) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    *v = bigger;
    pl_eval_box *x = &bigger[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->group, sizeof x->group, "%s", group);
    snprintf(x->identity, sizeof x->identity, "%s", who);
    memcpy(x->box, b, sizeof x->box);
    x->score = score;
    return PL_OK;
}

/* Detected faces against annotated boxes, at IoU 0.4 and 0.5. */
static pl_status score_detection(pl_eval_result *r, pl_eval_group *eg, const group_data *g,
                                 const char *json_path, pl_error *err)
{
    pl_eval_detection *d = &r->det;
    float(*det)[4] = calloc((size_t)g->n_faces + 1, sizeof *det);
    int *t2d = calloc((size_t)g->n_truth + 1, sizeof *t2d), *d2t = calloc((size_t)g->n_faces + 1, sizeof *d2t);
    int *t2d5 = calloc((size_t)g->n_truth + 1, sizeof *t2d5);
    pl_status st = det && t2d && d2t && t2d5 ? PL_OK : pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_faces && st == PL_OK; i++) {
        const pl_face *f = &g->faces[i];
        det[i][0] = f->x1;
        det[i][1] = f->y1;
        det[i][2] = f->x2 - f->x1 + 1; /* MTCNN boxes are inclusive */
        det[i][3] = f->y2 - f->y1 + 1;
    }
    if (st == PL_OK) st = pl_eval_match_boxes((const float(*)[4])g->truth, g->n_truth, (const float(*)[4])det, g->n_faces, 0.4f, t2d, d2t, NULL, err);
    if (st == PL_OK) st = pl_eval_match_boxes((const float(*)[4])g->truth, g->n_truth, (const float(*)[4])det, g->n_faces, 0.5f, t2d5, NULL, NULL, err);
    eg->annotated = g->n_truth;
    eg->detected = g->n_faces;
    for (int t = 0; t < g->n_truth && st == PL_OK; t++) {
        int b = size_bin(g->truth[t]);
        d->size_annotated[b]++;
        d->size_found40[b] += t2d[t] >= 0;
        d->size_found50[b] += t2d5[t] >= 0;
        eg->found40 += t2d[t] >= 0;
        eg->found50 += t2d5[t] >= 0;
        if (t2d[t] < 0) {
            char who[128];
            st = push_box(&d->missed, &d->n_missed, eg->name, face_identity(json_path, t, who, sizeof who), g->truth[t], 0, err);
        }
    }
    for (int i = 0; i < g->n_faces && st == PL_OK; i++)
        if (d2t[i] < 0) st = push_box(&d->false_faces, &d->n_false, eg->name, "", det[i], g->faces[i].score, err);
    d->annotated += eg->annotated;
    d->detections += eg->detected;
    d->matched40 += eg->found40;
    d->matched50 += eg->found50;
    free(det);
    free(t2d);
    free(d2t);
    free(t2d5);
    return st;
}

static pl_status group_photo(run *w, int gi, const char *dir, const char *name, pl_error *err)
{
    pl_eval_group *eg = &w->r->groups[gi];
    group_data *g = &w->g[gi];
    char json[8400];
    snprintf(eg->name, sizeof eg->name, "%s", name);
    snprintf(eg->path, sizeof eg->path, "%.3900s/%.150s.jpg", dir, name);
    snprintf(json, sizeof json, "%s/%s.json", dir, name);
    pl_error local = {0};
    pl_image img = {0};
    if (read_truth(json, g, &local) != PL_OK || pl_image_load(eg->path, &img, &local) != PL_OK) {
        snprintf(eg->error, sizeof eg->error, "%s", local.msg);
        return PL_OK; /* reported with the group; the others still count */
    }
    pl_status st = pl_mtcnn_detect(w->det, &img, &w->det_opt, &g->faces, &g->n_faces, err);
    if (st == PL_OK) st = embed_all(w, &img, g->faces, g->n_faces, g->emb, err);
    if (st == PL_OK) st = score_detection(w->r, eg, g, json, err);
    pl_image_free(&img);
    return st;
}

static pl_status load_groups(run *w, pl_error *err)
{
    pl_eval_result *r = w->r;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/groups", r->data);
    if (!pl_is_dir(dir)) return PL_OK; /* groups are optional */
    char **names;
    int n;
    pl_status st = list_dir(dir, 0, ".json", &names, &n, err);
    if (st != PL_OK) return st;
    int use = w->opt->max_groups > 0 && n > w->opt->max_groups ? w->opt->max_groups : n;
    r->groups = calloc((size_t)use + 1, sizeof *r->groups);
    w->g = calloc((size_t)use + 1, sizeof *w->g);
    if (!r->groups || !w->g) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    r->n_groups = st == PL_OK ? use : 0;
    w->total += r->n_groups;
    for (int i = 0; i < r->n_groups && st == PL_OK; i++) {
        names[i][strlen(names[i]) - 5] = 0; /* drop ".json" */
        st = group_photo(w, i, dir, names[i], err);
        progress(w, r->groups[i].path);
    }
    free_list(names, n);
    return st;
}

/* ---- per model ---------------------------------------------------------------- */

static pl_status verification(const float *rows, const int *label, int n, int dim,
                              pl_eval_verification *v, pl_error *err)
{
    size_t pairs = (size_t)n * (n - 1) / 2;
    float *s = malloc((pairs + 1) * sizeof *s);
    unsigned char *gen = malloc(pairs + 1);
    v->genuine = malloc((pairs + 1) * sizeof *v->genuine);
    v->impostor = malloc((pairs + 1) * sizeof *v->impostor);
    pl_status st = s && gen && v->genuine && v->impostor ? PL_OK : pl_fail(err, PL_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (int i = 0; i < n && st == PL_OK; i++)
        for (int j = i + 1; j < n; j++, k++) {
            s[k] = pl_cosine(rows + (size_t)i * dim, rows + (size_t)j * dim, dim);
            gen[k] = label[i] == label[j];
            if (gen[k]) v->genuine[v->n_genuine++] = s[k];
            else v->impostor[v->n_impostor++] = s[k];
        }
    if (st == PL_OK) st = pl_eval_roc(s, gen, (int)pairs, &v->roc, &v->n_roc, err);
    if (st == PL_OK) {
        v->auc = pl_eval_auc(v->roc, v->n_roc);
        v->eer = pl_eval_eer(v->roc, v->n_roc, &v->eer_thr);
        static const double fars[PL_EVAL_N_FAR] = {1e-2, 1e-3};
        for (int i = 0; i < PL_EVAL_N_FAR; i++) {
            v->far[i] = fars[i];
            v->tar[i] = pl_eval_tar_at_far(v->roc, v->n_roc, fars[i], &v->thr[i]);
        }
    }
    free(s);
    free(gen);
    return st;
}

static int confusion_order(const void *a, const void *b)
{
    const pl_eval_confusion *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return (x->score < y->score) - (x->score > y->score);
}

static int closest_order(const void *a, const void *b)
{
    float x = ((const pl_eval_confusion *)a)->score, y = ((const pl_eval_confusion *)b)->score;
    return (x < y) - (x > y);
}

/* The pairs of people whose photos come closest: where a wrong name is
 * likeliest, even when leave-one-out got everyone right. */
static pl_status closest_pairs(const float *rows, const int *label, int n, int dim, int n_id,
                               pl_eval_identification *idf, pl_error *err)
{
    pl_eval_confusion *c = calloc((size_t)n_id * n_id + 1, sizeof *c);
    if (!c) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int a = 0; a < n_id; a++)
        for (int b = 0; b < n_id; b++) c[(size_t)a * n_id + b] = (pl_eval_confusion){a, b, 0, -2};
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int a = label[i] < label[j] ? label[i] : label[j], b = label[i] < label[j] ? label[j] : label[i];
            if (a == b) continue;
            float s = pl_cosine(rows + (size_t)i * dim, rows + (size_t)j * dim, dim);
            if (s > c[(size_t)a * n_id + b].score) c[(size_t)a * n_id + b].score = s;
        }
    qsort(c, (size_t)n_id * n_id, sizeof *c, closest_order);
    int m = 0;
    while (m < MAX_CONFUSED && m < n_id * n_id && c[m].score > -2) m++;
    idf->closest = malloc(((size_t)m + 1) * sizeof *idf->closest);
    if (!idf->closest) {
        free(c);
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    memcpy(idf->closest, c, (size_t)m * sizeof *c);
    idf->n_closest = m;
    free(c);
    return PL_OK;
}

/* Leave-one-out: each photo against every person's mean embedding, its own
 * person's mean taken without it. */
static pl_status identification(const float *rows, const int *label, int n, int dim, int n_id,
                                pl_eval_identification *idf, pl_error *err)
{
    float *sum = calloc((size_t)n_id * dim + 1, sizeof *sum), *own = malloc((size_t)dim * sizeof *own);
    float *scores = malloc((size_t)n_id * sizeof *scores);
    int *count = calloc((size_t)n_id + 1, sizeof *count);
    pl_eval_confusion *conf = calloc((size_t)n_id * n_id + 1, sizeof *conf);
    if (!sum || !own || !scores || !count || !conf) {
        free(sum), free(own), free(scores), free(count), free(conf);
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        count[label[i]]++;
        for (int k = 0; k < dim; k++) sum[(size_t)label[i] * dim + k] += rows[(size_t)i * dim + k];
    }
    double r1 = 0, r5 = 0;
    for (int q = 0; q < n; q++) {
        int t = label[q];
        if (count[t] < 2) continue;
        const float *x = rows + (size_t)q * dim;
        for (int p = 0; p < n_id; p++) {
            const float *m = sum + (size_t)p * dim;
            if (p == t) {
                for (int k = 0; k < dim; k++) own[k] = m[k] - x[k];
                m = own;
            }
            scores[p] = count[p] ? pl_cosine(x, m, dim) : -2; /* nobody to match */
        }
        idf->queries++;
        r1 += pl_eval_rank_credit(scores, n_id, t, 1);
        r5 += pl_eval_rank_credit(scores, n_id, t, 5);
        int best = t;
        for (int p = 0; p < n_id; p++)
            if (scores[p] > scores[best]) best = p;
        if (best != t) {
            pl_eval_confusion *c = &conf[(size_t)t * n_id + best];
            c->truth = t;
            c->predicted = best;
            if (!c->count++ || scores[best] > c->score) c->score = scores[best];
        }
    }
    idf->rank1 = idf->queries ? r1 / idf->queries : 0;
    idf->rank5 = idf->queries ? r5 / idf->queries : 0;
    qsort(conf, (size_t)n_id * n_id, sizeof *conf, confusion_order);
    int m = 0;
    while (m < MAX_CONFUSED && m < n_id * n_id && conf[m].count > 0) m++;
    idf->confused = malloc(((size_t)m + 1) * sizeof *idf->confused);
    if (idf->confused) memcpy(idf->confused, conf, (size_t)m * sizeof *conf);
    idf->n_confused = idf->confused ? m : 0;
    free(sum), free(own), free(scores), free(count), free(conf);
    return PL_OK;
}

static void append_name(char *buf, size_t size, const char *name, float score)
{
    size_t len = strlen(buf);
    if (score > -2) snprintf(buf + len, size - len, "%s%s (%.2f)", len ? ", " : "", name, score);
    else snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

/* The enrolled gallery take would use: each person's L2-normalised mean. */
static float *gallery_means(const float *rows, const int *label, int n, int dim, int n_id)
{
    float *means = calloc((size_t)n_id * dim + 1, sizeof *means);
    if (!means) return NULL;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < dim; k++) means[(size_t)label[i] * dim + k] += rows[(size_t)i * dim + k];
    for (int p = 0; p < n_id; p++) pl_l2_normalize(means + (size_t)p * dim, dim);
    return means;
}

/* One group photo as take decides it: one-to-one assignment, then the
 * accept / review bands; "present" is what counts. */
static pl_status attend_group(const run *w, int m, int gi, const float *means, int dim,
                              const int *has_rows, pl_eval_attendance *a, pl_error *err)
{
    const pl_eval_result *r = w->r;
    const group_data *g = &w->g[gi];
    pl_eval_group_att *ga = &a->groups[gi];
    int n_id = r->n_identities, n = g->n_faces;
    float *scores = malloc(((size_t)n * n_id + 1) * sizeof *scores);
    pl_match_result *res = calloc((size_t)n + 1, sizeof *res);
    unsigned char *present = calloc((size_t)n_id + 1, 1);
    float *present_score = calloc((size_t)n_id + 1, sizeof *present_score);
    pl_status st = scores && res && present && present_score ? PL_OK : pl_fail(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK && n) st = pl_match_scores(g->emb[m], n, means, n_id, dim, scores, err);
    /* People without a usable photo are not enrolled: they can never match. */
    for (int i = 0; i < n && st == PL_OK; i++)
        for (int p = 0; p < n_id; p++)
            if (!has_rows[p]) scores[(size_t)i * n_id + p] = -1;
    pl_match_thresholds th = {a->accept, a->review};
    if (st == PL_OK) st = pl_match_assign(scores, n, n_id, th, res, err);
    ga->faces = n;
    for (int i = 0; i < n && st == PL_OK; i++) {
        if (res[i].decision == PL_MATCH_PRESENT && res[i].student >= 0) {
            present[res[i].student] = 1;
            present_score[res[i].student] = res[i].score;
        }
        ga->unknown += res[i].decision == PL_MATCH_UNKNOWN;
    }
    ga->truth = g->n_people;
    for (int p = 0; p < n_id && st == PL_OK; p++) {
        int truth = 0;
        for (int k = 0; k < g->n_people; k++) truth |= !strcmp(g->people[k], r->identity[p]);
        if (present[p] && truth) ga->tp++;
        if (present[p] && !truth) {
            ga->fp++;
            append_name(ga->false_present, sizeof ga->false_present, r->identity[p], present_score[p]);
        }
        if (!truth && has_rows[p]) a->absent_slots++;
    }
    for (int k = 0; k < g->n_people && st == PL_OK; k++) {
        int seen = 0;
        for (int p = 0; p < n_id; p++) seen |= present[p] && !strcmp(g->people[k], r->identity[p]);
        if (!seen) {
            ga->fn++;
            append_name(ga->missed, sizeof ga->missed, g->people[k], -3);
        }
    }
    a->tp += ga->tp;
    a->fp += ga->fp;
    a->fn += ga->fn;
    a->unknown += ga->unknown;
    free(scores);
    free(res);
    free(present);
    free(present_score);
    return st;
}

static pl_status attendance(const run *w, int m, const float *means, int dim, const int *has_rows,
                            float accept, float review, pl_eval_attendance *a, pl_error *err)
{
    const pl_eval_result *r = w->r;
    a->accept = accept;
    a->review = review < accept ? review : accept;
    a->groups = calloc((size_t)r->n_groups + 1, sizeof *a->groups);
    if (!a->groups) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int gi = 0; gi < r->n_groups && st == PL_OK; gi++)
        if (!r->groups[gi].error[0]) st = attend_group(w, m, gi, means, dim, has_rows, a, err);
    a->precision = a->tp + a->fp ? (double)a->tp / (a->tp + a->fp) : 1;
    a->recall = a->tp + a->fn ? (double)a->tp / (a->tp + a->fn) : 1;
    a->false_present_rate = a->absent_slots ? (double)a->fp / a->absent_slots : 0;
    return st;
}

static pl_status analyse_model(run *w, int m, pl_error *err)
{
    pl_eval_result *r = w->r;
    pl_eval_model *em = &r->models[m];
    int dim = em->dim, n_id = r->n_identities;
    const float *rows = w->rows[m];
    em->ms_per_face = em->faces_embedded ? w->embed_ms[m] / em->faces_embedded : 0;
    pl_status st = verification(rows, w->label, w->n_rows, dim, &em->ver, err);
    if (st == PL_OK) st = identification(rows, w->label, w->n_rows, dim, n_id, &em->ident, err);
    if (st == PL_OK) st = closest_pairs(rows, w->label, w->n_rows, dim, n_id, &em->ident, err);
    int *has_rows = calloc((size_t)n_id + 1, sizeof *has_rows);
    float *means = gallery_means(rows, w->label, w->n_rows, dim, n_id);
    if (st == PL_OK && (!has_rows || !means)) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; st == PL_OK && i < w->n_rows; i++) has_rows[w->label[i]] = 1;
    if (st == PL_OK)
        st = attendance(w, m, means, dim, has_rows, em->default_accept, em->default_review, &em->att, err);
    pl_calibration cal;
    memset(&cal, 0, sizeof cal);
    const char **names = malloc(((size_t)n_id + 1) * sizeof *names);
    if (st == PL_OK && !names) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int p = 0; st == PL_OK && p < n_id; p++) names[p] = r->identity[p];
    if (st == PL_OK)
        st = pl_calibrate_rows(rows, w->label, w->n_rows, dim, n_id, names, r->target_far, &cal, err);
    free(names);
    em->cal_accept = cal.accept;
    em->cal_review = cal.review;
    em->cal_lookalikes = cal.n_lookalikes;
    pl_calibration_free(&cal);
    if (st == PL_OK) st = attendance(w, m, means, dim, has_rows, em->cal_accept, em->cal_review, &em->att_cal, err);
    free(has_rows);
    free(means);
    if (st != PL_OK) pl_error_prefix(err, "model %s: ", em->name);
    return st;
}

/* ---- the run ------------------------------------------------------------------ */

static pl_status open_models(run *w, const char *list, pl_error *err)
{
    pl_eval_result *r = w->r;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list && *list ? list : pl_default_model());
    r->models = calloc(MAX_MODELS, sizeof *r->models);
    if (!r->models) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    int threads = w->opt->threads > 0 ? w->opt->threads : 1;
    for (char *save = NULL, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ') name++;
        if (!*name) continue;
        if (r->n_models == MAX_MODELS) return pl_fail(err, PL_ERR_ARG, "at most %d models per run", MAX_MODELS);
        int m = r->n_models++;
        pl_eval_model *em = &r->models[m];
        snprintf(em->name, sizeof em->name, "%s", name);
        pl_error local = {0};
        if (!(w->emb[m] = pl_embedder_new(name, threads, &local))) {
            snprintf(em->error, sizeof em->error, "%s", local.msg);
            continue; /* reported with the model; the others still run */
        }
        const pl_embedder_spec *spec = pl_embedder_spec_of(w->emb[m]);
        em->dim = pl_embedder_dim(w->emb[m]);
        em->default_accept = spec->accept;
        em->default_review = spec->review;
    }
    if (r->n_models == 0) return pl_fail(err, PL_ERR_ARG, "no model named in \"%s\"", buf);
    for (int m = 0; m < r->n_models; m++)
        if (w->emb[m]) return PL_OK;
    return pl_fail(err, PL_ERR_ARG, "no model could be loaded: %s", r->models[0].error);
}

static void run_free(run *w)
{
    for (int m = 0; m < MAX_MODELS; m++) {
        pl_embedder_free(w->emb[m]);
        free(w->rows[m]);
    }
    for (int i = 0; w->g && w->r && i < w->r->n_groups; i++) {
        group_data *g = &w->g[i];
        free(g->truth);
        free_list(g->people, g->n_people);
        free(g->faces);
        for (int m = 0; m < MAX_MODELS; m++) free(g->emb[m]);
    }
    free(w->g);
    free(w->label);
    pl_mtcnn_free(w->det);
}

pl_status pl_evaluate(const pl_eval_options *opt, pl_eval_result *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opt || !opt->data || !*opt->data) return pl_fail(err, PL_ERR_ARG, "evaluate: no data folder given");
    double t0 = pl_now_ms();
    run w;
    memset(&w, 0, sizeof w);
    w.opt = opt;
    w.r = out;
    snprintf(out->data, sizeof out->data, "%s", opt->data);
    out->target_far = opt->target_far > 0 ? opt->target_far : 1e-3;
    pl_mtcnn_default_options(&w.det_opt);
    pl_quality_default_limits(&w.quality);
    pl_status st = PL_OK;
    if (!pl_is_dir(opt->data)) st = pl_fail(err, PL_ERR_NOTFOUND, "%s: no such folder", opt->data);
    if (st == PL_OK) st = open_models(&w, opt->models, err);
    if (st == PL_OK && !(w.det = pl_mtcnn_new(opt->threads > 0 ? opt->threads : 1, err))) st = err ? err->code : PL_ERR_IO;
    snprintf(out->det.size_label[0], sizeof out->det.size_label[0], "< 32 px");
    snprintf(out->det.size_label[1], sizeof out->det.size_label[1], "32-63 px");
    snprintf(out->det.size_label[2], sizeof out->det.size_label[2], "64-127 px");
    snprintf(out->det.size_label[3], sizeof out->det.size_label[3], ">= 128 px");
    double t_det = pl_now_ms();
    if (st == PL_OK) st = load_identities(&w, err);
    if (st == PL_OK) st = load_groups(&w, err);
    int photos = out->identity_photos + out->n_groups;
    double embed_total = 0;
    for (int m = 0; m < out->n_models; m++) embed_total += w.embed_ms[m];
    out->ms_detect_per_photo = photos ? (pl_now_ms() - t_det - embed_total) / photos : 0;
    if (st == PL_OK && w.n_rows < 2) st = pl_fail(err, PL_ERR_ARG, "%s: fewer than 2 usable identity photos", opt->data);
    for (int m = 0; m < out->n_models && st == PL_OK; m++)
        if (w.emb[m]) st = analyse_model(&w, m, err);
    pl_eval_detection *d = &out->det;
    d->recall40 = d->annotated ? (double)d->matched40 / d->annotated : 0;
    d->recall50 = d->annotated ? (double)d->matched50 / d->annotated : 0;
    d->precision40 = d->detections ? (double)d->matched40 / d->detections : 0;
    d->precision50 = d->detections ? (double)d->matched50 / d->detections : 0;
    run_free(&w);
    out->seconds = (pl_now_ms() - t0) / 1e3;
    if (st != PL_OK) pl_eval_result_free(out);
    return st;
}

static void attendance_free(pl_eval_attendance *a) { free(a->groups); }

void pl_eval_result_free(pl_eval_result *r)
{
    for (int m = 0; r->models && m < r->n_models; m++) {
        pl_eval_model *em = &r->models[m];
        free(em->ver.genuine);
        free(em->ver.impostor);
        free(em->ver.roc);
        free(em->ident.confused);
        free(em->ident.closest);
        attendance_free(&em->att);
        attendance_free(&em->att_cal);
    }
    free(r->models);
    for (int i = 0; r->thumb && i < r->n_identities; i++) free(r->thumb[i]);
    free(r->thumb);
    free(r->thumb_len);
    free(r->identity);
    free(r->skipped);
    free(r->groups);
    free(r->det.missed);
    free(r->det.false_faces);
    memset(r, 0, sizeof *r);
}
