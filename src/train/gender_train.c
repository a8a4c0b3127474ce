/* gender_train.c — pl_gender_train and pl_gender_eval: the training loop
 * (class-balanced batches, augmentation, early stopping on held-out
 * identities), k-fold cross-validation by identity, and the metrics. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "face/embedder.h"
#include "face/gender.h"
#include "pasalista.h"
#include "train/augment.h"
#include "train/gender_data.h"
#include "train/model_file.h"
#include "train/optim.h"

#define BATCH_MAX 64

void pl_gender_train_options_default(pl_gender_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->arch = "small-cnn";
    o->feature = "faceres"; /* its descriptor carries gender (README: 0.97 vs 0.74 with fr-feature) */
    o->optimizer = "adam";
    o->epochs = 20;
    o->batch = 32;
    o->weight_decay = 5e-4f;
    o->folds = 5;
    o->patience = 5;
    o->augment = 1;
    o->seed = 1;
    o->threads = 1;
}

void pl_gender_metrics_finish(pl_gender_metrics *m)
{
    int (*c)[2] = m->confusion;
    m->n = c[0][0] + c[0][1] + c[1][0] + c[1][1];
    m->accuracy = m->n ? (double)(c[0][0] + c[1][1]) / m->n : 0;
    m->macro_f1 = 0;
    for (int k = 0; k < 2; k++) {
        int pred = c[0][k] + c[1][k], truth = c[k][0] + c[k][1];
        m->precision[k] = pred ? (double)c[k][k] / pred : 0;
        m->recall[k] = truth ? (double)c[k][k] / truth : 0;
        double pr = m->precision[k] + m->recall[k];
        m->f1[k] = pr > 0 ? 2 * m->precision[k] * m->recall[k] / pr : 0;
        m->macro_f1 += m->f1[k] / 2;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void logf_(const pl_gender_train_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const pl_gender_train_options *o, const char *fmt, ...)
{
    if (!o->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->log_ctx, line);
}

/* ---- what the network reads, computed once per photo ---------------------- */

typedef struct train_data {
    tr_dataset ds;
    int head;                /* features, else crops                       */
    pl_embedder *emb;
    int dim;                 /* head: feature size                         */
    float *feats;            /* head: per sample, plain then mirrored      */
    pl_image *crops;         /* small-cnn: per sample                      */
} train_data;

static pl_status visit(void *ctx, int i, const pl_image *img, pl_error *err)
{
    train_data *td = ctx;
    const pl_face *f = &td->ds.s[i].face;
    if (!td->head)
        return pl_gender_face_crop(img, f, PL_GENDER_CROP_SIDE, PL_GENDER_CROP_MARGIN,
                                   &td->crops[i], err);
    float *row = td->feats + (size_t)i * 2 * td->dim;
    if (pl_embedder_run(td->emb, img, f, 1, row, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
    /* the mirrored face: augmentation for a head on frozen features */
    pl_image flipped = {0};
    if (pl_image_clone(img, &flipped, err) != PL_OK) return err ? err->code : PL_ERR_NOMEM;
    pl_image_flip_h(&flipped);
    pl_face m = pl_face_mirror(f, img->w);
    pl_status st = pl_embedder_run(td->emb, &flipped, &m, 1, row + td->dim, err);
    pl_image_free(&flipped);
    return st;
}

static void train_data_free(train_data *td)
{
    if (td->crops)
        for (int i = 0; i < td->ds.n; i++) pl_image_free(&td->crops[i]);
    free(td->crops);
    free(td->feats);
    pl_embedder_free(td->emb);
    tr_dataset_free(&td->ds);
}

/* Write sample idx's network input; aug: random changes (training). */
static void make_input(const train_data *td, const tr_model *m, int idx, int aug, tr_rng *rng,
                       float *out)
{
    if (td->head) {
        int mirrored = aug ? tr_rng_int(rng, 2) : 0;
        memcpy(out, td->feats + ((size_t)idx * 2 + mirrored) * td->dim,
               (size_t)td->dim * sizeof *out);
        return;
    }
    tr_augment a;
    tr_augment_default(&a);
    tr_make_input(&td->crops[idx], m->region, m->in_h, aug ? &a : NULL, rng, out);
}

/* Mean loss and accuracy of the model on samples idx (no augmentation);
 * p_male (may be NULL) receives each prediction. */
static double evaluate(const train_data *td, tr_model *m, const int *idx, int n, float *buf,
                       double *acc, float *p_male)
{
    int per = m->in_c * m->in_h * m->in_w, correct = 0;
    double loss = 0;
    for (int start = 0; start < n; start += BATCH_MAX) {
        int b = n - start < BATCH_MAX ? n - start : BATCH_MAX, labels[BATCH_MAX];
        float probs[2 * BATCH_MAX];
        for (int i = 0; i < b; i++) {
            make_input(td, m, idx[start + i], 0, NULL, buf + (size_t)i * per);
            labels[i] = td->ds.s[idx[start + i]].label;
        }
        const float *z = tr_forward(&m->net, buf, b, 0, NULL);
        loss += tr_softmax_ce(z, labels, b, 2, NULL, probs) * b;
        for (int i = 0; i < b; i++) {
            correct += (probs[2 * i + 1] >= 0.5f) == labels[i];
            if (p_male) p_male[start + i] = probs[2 * i + 1];
        }
    }
    *acc = n ? (double)correct / n : 0;
    return n ? loss / n : 0;
}

/* Train one model on `train`, early-stopping on `val` (may be empty:
 * then the last epoch is kept). */
static pl_status train_one(const train_data *td, const pl_gender_train_options *o,
                           const int *train, int n_train, const int *val, int n_val,
                           const char *tag, tr_model *best, int *epochs_run, pl_error *err)
{
    int c = td->head ? td->dim : 3, hw = td->head ? 1 : PL_GENDER_INPUT;
    tr_model m;
    if (tr_model_build(&m, o->arch, c, hw, hw, BATCH_MAX, err) != PL_OK) return err ? err->code : PL_ERR_ARG;
    if (tr_model_build(best, o->arch, c, hw, hw, BATCH_MAX, err) != PL_OK) {
        tr_model_free(&m);
        return err ? err->code : PL_ERR_ARG;
    }
    for (tr_model *x = &m; x; x = x == &m ? best : NULL) {
        snprintf(x->feature, sizeof x->feature, "%s", td->head ? o->feature : "");
        x->margin = PL_GENDER_CROP_MARGIN;
        x->region = PL_GENDER_REGION;
    }
    tr_rng rng;
    tr_rng_seed(&rng, o->seed);
    tr_net_init_weights(&m.net, &rng);
    int sgd = o->optimizer && !strcmp(o->optimizer, "sgd");
    float lr = o->lr > 0 ? o->lr : sgd ? 0.05f : 2e-3f;
    tr_optim opt;
    tr_optim_init(&opt, sgd ? TR_SGD : TR_ADAM, lr, o->weight_decay);
    int B = o->batch < 2 ? 2 : o->batch > BATCH_MAX ? BATCH_MAX : o->batch;
    int per = c * hw * hw;
    float *buf = malloc((size_t)BATCH_MAX * per * sizeof *buf);
    int *by_class[2], n_class[2] = {0, 0};
    by_class[0] = malloc((size_t)n_train * sizeof(int));
    by_class[1] = malloc((size_t)n_train * sizeof(int));
    pl_status st = PL_OK;
    if (!buf || !by_class[0] || !by_class[1]) st = pl_fail(err, PL_ERR_NOMEM, "training: out of memory");
    for (int i = 0; st == PL_OK && i < n_train; i++) {
        int l = td->ds.s[train[i]].label;
        by_class[l][n_class[l]++] = train[i];
    }
    if (st == PL_OK && (!n_class[0] || !n_class[1]))
        st = pl_fail(err, PL_ERR_ARG, "%s: the training split has only one class", tag);
    double best_loss = INFINITY;
    int bad = 0, epoch;
    tr_model_copy_weights(best, &m);
    for (epoch = 0; st == PL_OK && epoch < o->epochs; epoch++) {
        float lr_e = tr_lr_at(&opt, epoch, o->epochs);
        int batches = (n_train + B - 1) / B, correct = 0;
        double loss = 0;
        for (int b = 0; b < batches; b++) {
            int labels[BATCH_MAX];
            float dz[2 * BATCH_MAX], probs[2 * BATCH_MAX];
            for (int i = 0; i < B; i++) {
                /* class-balanced: pick the class first, then a photo */
                int cl = tr_rng_int(&rng, 2);
                int idx = by_class[cl][tr_rng_int(&rng, n_class[cl])];
                make_input(td, &m, idx, o->augment || td->head, &rng, buf + (size_t)i * per);
                labels[i] = cl;
            }
            tr_zero_grad(&m.net);
            const float *z = tr_forward(&m.net, buf, B, 1, &rng);
            loss += tr_softmax_ce(z, labels, B, 2, dz, probs);
            for (int i = 0; i < B; i++) correct += (probs[2 * i + 1] >= 0.5f) == labels[i];
            tr_backward(&m.net, buf, dz, B);
            tr_optim_step(&opt, &m.net, lr_e);
        }
        double vacc = 0, vloss = n_val ? evaluate(td, &m, val, n_val, buf, &vacc, NULL) : 0;
        logf_(o, "%s epoch %2d/%d  lr %.5f  loss %.4f  acc %.3f%s%.4f%s%.3f", tag, epoch + 1,
              o->epochs, lr_e, loss / batches, (double)correct / (batches * B),
              n_val ? "  val_loss " : "", n_val ? vloss : 0.0, n_val ? "  val_acc " : "",
              n_val ? vacc : 0.0);
        if (!n_val || vloss < best_loss - 1e-6) {
            best_loss = vloss;
            bad = 0;
            tr_model_copy_weights(best, &m);
            *epochs_run = epoch + 1;
        } else if (++bad >= o->patience && o->patience > 0) {
            logf_(o, "%s early stop: no better validation loss for %d epochs (best epoch %d)", tag,
                  bad, *epochs_run);
            epoch++;
            break;
        }
    }
    free(buf);
    free(by_class[0]);
    free(by_class[1]);
    tr_model_free(&m);
    if (st != PL_OK) tr_model_free(best);
    return st;
}

/* ---- the features cache (head) --------------------------------------------
 * Computing faceres features for a few hundred photos takes a minute or
 * two; a second run on the same photos need not. The file holds, per photo,
 * its path, size and mtime (a changed photo is recomputed), the face found
 * and both feature vectors (plain, mirrored). Layout: "PLGFEAT1", feature
 * name (32 bytes), u32 dim, u32 count, then per entry u32 path length, the
 * path, i64 size, i64 mtime, u32 has_face, 15 floats (pl_face), 2×dim
 * floats. Native byte order: it is a cache, not an exchange format. */

#include <sys/stat.h>

static void photo_key(const char *path, int64_t *size, int64_t *mtime)
{
    struct stat st;
    *size = *mtime = -1;
    if (stat(path, &st) == 0) *size = st.st_size, *mtime = (int64_t)st.st_mtime;
}

static void cache_load(train_data *td, const char *cache, const char *feature)
{
    FILE *f = fopen(cache, "rb");
    if (!f) return;
    char magic[8], name[32];
    uint32_t dim = 0, count = 0;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "PLGFEAT1", 8) ||
        fread(name, 1, 32, f) != 32 || strncmp(name, feature, 32) ||
        fread(&dim, 4, 1, f) != 1 || (int)dim != td->dim || fread(&count, 4, 1, f) != 1) {
        fclose(f);
        return;
    }
    float *vec = malloc((size_t)2 * dim * sizeof *vec);
    char *path = malloc(4096);
    for (uint32_t e = 0; vec && path && e < count; e++) {
        uint32_t len;
        int64_t size, mtime;
        uint32_t has;
        pl_face face;
        if (fread(&len, 4, 1, f) != 1 || len >= 4096 || fread(path, 1, len, f) != len ||
            fread(&size, 8, 1, f) != 1 || fread(&mtime, 8, 1, f) != 1 || fread(&has, 4, 1, f) != 1 ||
            fread(&face, sizeof face, 1, f) != 1 || fread(vec, sizeof *vec, 2 * dim, f) != 2 * dim)
            break;
        path[len] = 0;
        for (int i = 0; i < td->ds.n; i++) {
            tr_sample *s = &td->ds.s[i];
            int64_t sz, mt;
            if (s->cached || strcmp(s->path, path)) continue;
            photo_key(s->path, &sz, &mt);
            if (sz != size || mt != mtime) continue;
            s->cached = 1;
            s->has_face = has != 0;
            s->face = face;
            memcpy(td->feats + (size_t)i * 2 * dim, vec, (size_t)2 * dim * sizeof *vec);
        }
    }
    free(vec);
    free(path);
    fclose(f);
}

static pl_status cache_save(const train_data *td, const char *cache, const char *feature,
                            pl_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", cache);
    FILE *f = fopen(tmp, "wb");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: cannot create the features cache", tmp);
    char name[32] = {0};
    snprintf(name, sizeof name, "%s", feature);
    uint32_t dim = (uint32_t)td->dim, count = (uint32_t)td->ds.n;
    int ok = fwrite("PLGFEAT1", 1, 8, f) == 8 && fwrite(name, 1, 32, f) == 32 &&
             fwrite(&dim, 4, 1, f) == 1 && fwrite(&count, 4, 1, f) == 1;
    for (int i = 0; ok && i < td->ds.n; i++) {
        const tr_sample *s = &td->ds.s[i];
        uint32_t len = (uint32_t)strlen(s->path), has = (uint32_t)s->has_face;
        int64_t size, mtime;
        photo_key(s->path, &size, &mtime);
        ok = fwrite(&len, 4, 1, f) == 1 && fwrite(s->path, 1, len, f) == len &&
             fwrite(&size, 8, 1, f) == 1 && fwrite(&mtime, 8, 1, f) == 1 &&
             fwrite(&has, 4, 1, f) == 1 && fwrite(&s->face, sizeof s->face, 1, f) == 1 &&
             fwrite(td->feats + (size_t)i * 2 * dim, sizeof(float), 2 * dim, f) == 2 * dim;
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, cache) != 0) {
        remove(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot write the features cache", cache);
    }
    return PL_OK;
}

static pl_status prepare(const char *data_dir, const char *labels, const pl_gender_train_options *o,
                         train_data *td, pl_error *err)
{
    memset(td, 0, sizeof *td);
    if (strcmp(o->arch, "small-cnn") && strcmp(o->arch, "head"))
        return pl_fail(err, PL_ERR_ARG, "unknown architecture '%s' (known: small-cnn, head)", o->arch);
    if (tr_labels_read(data_dir, labels, &td->ds, err) != PL_OK) return err ? err->code : PL_ERR_ARG;
    td->head = !strcmp(o->arch, "head");
    if (td->head) {
        if (!(td->emb = pl_embedder_new(o->feature, o->threads, err))) return err ? err->code : PL_ERR_NOTFOUND;
        td->dim = pl_embedder_dim(td->emb);
        td->feats = calloc((size_t)td->ds.n * 2 * td->dim, sizeof(float));
        if (!td->feats) return pl_fail(err, PL_ERR_NOMEM, "features: out of memory");
    } else {
        td->crops = calloc((size_t)td->ds.n, sizeof *td->crops);
        if (!td->crops) return pl_fail(err, PL_ERR_NOMEM, "crops: out of memory");
    }
    int from_cache = 0;
    if (td->head && o->cache) {
        cache_load(td, o->cache, o->feature);
        for (int i = 0; i < td->ds.n; i++) from_cache += td->ds.s[i].cached;
    }
    pl_status st = tr_dataset_detect(&td->ds, o->threads, visit, td, err);
    if (st == PL_OK && td->head && o->cache) {
        logf_(o, "features cache %s: %d of %d photos reused", o->cache, from_cache, td->ds.n);
        if (from_cache < td->ds.n) st = cache_save(td, o->cache, o->feature, err);
    }
    return st;
}

pl_status pl_gender_train(const char *data_dir, const char *labels_csv, const char *out_path,
                          const pl_gender_train_options *opt, pl_gender_train_report *rep,
                          pl_error *err)
{
    pl_gender_train_options o;
    if (opt) o = *opt;
    else pl_gender_train_options_default(&o);
    if (!o.arch) o.arch = "small-cnn";
    if (!o.feature) o.feature = "faceres";
    if (o.epochs < 1) return pl_fail(err, PL_ERR_ARG, "epochs must be at least 1");
    memset(rep, 0, sizeof *rep);
    train_data td;
    double t0 = now_s();
    pl_status st = prepare(data_dir, labels_csv, &o, &td, err);
    rep->seconds_features = now_s() - t0;
    int *used = st == PL_OK ? malloc((size_t)td.ds.n * sizeof *used) : NULL;
    int *fold = st == PL_OK ? malloc((size_t)td.ds.n_identities * sizeof *fold) : NULL;
    int *tr = st == PL_OK ? malloc((size_t)td.ds.n * sizeof *tr) : NULL;
    int *va = st == PL_OK ? malloc((size_t)td.ds.n * sizeof *va) : NULL;
    int *te = st == PL_OK ? malloc((size_t)td.ds.n * sizeof *te) : NULL;
    float *p = st == PL_OK ? malloc((size_t)td.ds.n * sizeof *p) : NULL;
    if (st == PL_OK && (!used || !fold || !tr || !va || !te || !p))
        st = pl_fail(err, PL_ERR_NOMEM, "training: out of memory");
    int n_used = 0;
    if (st == PL_OK) {
        for (int i = 0; i < td.ds.n; i++)
            if (td.ds.s[i].has_face) used[n_used++] = i;
        rep->photos = td.ds.n;
        rep->used = n_used;
        rep->skipped = td.ds.skipped;
        rep->identities = td.ds.n_identities;
        logf_(&o, "%d labelled photos of %d people; %d with a face (%d without); %s computed in %.1f s",
              td.ds.n, td.ds.n_identities, n_used, td.ds.skipped,
              td.head ? "features" : "crops", rep->seconds_features);
        if (td.ds.n_identities < 3)
            st = pl_fail(err, PL_ERR_ARG, "%s: %d identities; need at least 3 (train, validation, test)",
                         labels_csv, td.ds.n_identities);
    }
    double t1 = now_s();
    int k = o.folds >= 2 ? o.folds : 5;
    if (st == PL_OK && k > td.ds.n_identities) k = td.ds.n_identities;
    if (st == PL_OK) tr_identity_folds(&td.ds, k, o.seed, fold);
    /* k-fold: test fold f, validation fold f+1, train on the rest */
    for (int f = 0; st == PL_OK && o.folds >= 2 && f < k; f++) {
        int ntr = 0, nva = 0, nte = 0, majority[2] = {0, 0};
        for (int j = 0; j < n_used; j++) {
            int i = used[j], fi = fold[td.ds.s[i].identity];
            if (fi == f) te[nte++] = i;
            else if (fi == (f + 1) % k) va[nva++] = i;
            else tr[ntr++] = i, majority[td.ds.s[i].label]++;
        }
        char tag[32];
        snprintf(tag, sizeof tag, "fold %d/%d", f + 1, k);
        tr_model best;
        int ep = 0;
        st = train_one(&td, &o, tr, ntr, va, nva, tag, &best, &ep, err);
        if (st != PL_OK) break;
        float *buf = malloc((size_t)BATCH_MAX * best.in_c * best.in_h * best.in_w * sizeof *buf);
        double acc = 0;
        if (buf) evaluate(&td, &best, te, nte, buf, &acc, p);
        free(buf);
        tr_model_free(&best);
        if (!buf) {
            st = pl_fail(err, PL_ERR_NOMEM, "training: out of memory");
            break;
        }
        int maj = majority[1] >= majority[0], maj_right = 0;
        for (int j = 0; j < nte; j++) {
            int l = td.ds.s[te[j]].label;
            rep->cv.confusion[l][p[j] >= 0.5f]++;
            rep->majority.confusion[l][maj]++;
            maj_right += l == maj;
        }
        logf_(&o, "%s test: %d photos, accuracy %.3f (majority class %s: %.3f)", tag, nte, acc,
              maj ? "M" : "F", nte ? (double)maj_right / nte : 0.0);
    }
    pl_gender_metrics_finish(&rep->cv);
    pl_gender_metrics_finish(&rep->majority);
    /* the saved model: every identity but one validation fold */
    if (st == PL_OK) {
        int ntr = 0, nva = 0;
        for (int j = 0; j < n_used; j++) {
            int i = used[j];
            if (fold[td.ds.s[i].identity] == 0) va[nva++] = i;
            else tr[ntr++] = i;
        }
        tr_model best;
        st = train_one(&td, &o, tr, ntr, va, nva, "final", &best, &rep->final_epochs, err);
        if (st == PL_OK) {
            st = tr_model_save(&best, out_path, err);
            tr_model_free(&best);
        }
    }
    rep->seconds_train = now_s() - t1;
    free(used);
    free(fold);
    free(tr);
    free(va);
    free(te);
    free(p);
    train_data_free(&td);
    return st;
}

/* ---- evaluation of ready models ------------------------------------------ */

typedef struct eval_ctx {
    tr_dataset *ds;
    pl_gender **models;
    int n_models;
    pl_gender_metrics *out;
} eval_ctx;

static pl_status eval_visit(void *ctx, int i, const pl_image *img, pl_error *err)
{
    eval_ctx *e = ctx;
    const tr_sample *s = &e->ds->s[i];
    for (int k = 0; k < e->n_models; k++) {
        float p;
        if (pl_gender_run(e->models[k], img, &s->face, 1, &p, err) != PL_OK)
            return pl_error_prefix(err, "%s: ", s->path);
        e->out[k].confusion[s->label][p >= 0.5f]++;
    }
    return PL_OK;
}

pl_status pl_gender_eval(const char *data_dir, const char *labels_csv, const char *const *models,
                         int n_models, int threads, pl_gender_metrics *out, int *photos,
                         int *skipped, pl_error *err)
{
    if (n_models < 1) return pl_fail(err, PL_ERR_ARG, "no model to evaluate");
    pl_gender **g = calloc((size_t)n_models, sizeof *g);
    if (!g) return pl_fail(err, PL_ERR_NOMEM, "eval: out of memory");
    pl_status st = PL_OK;
    for (int k = 0; k < n_models && st == PL_OK; k++) {
        memset(&out[k], 0, sizeof out[k]);
        if (!(g[k] = pl_gender_open(models[k], threads, err))) st = err ? err->code : PL_ERR_NOTFOUND;
    }
    tr_dataset ds = {0};
    if (st == PL_OK) st = tr_labels_read(data_dir, labels_csv, &ds, err);
    if (st == PL_OK) {
        eval_ctx e = {&ds, g, n_models, out};
        st = tr_dataset_detect(&ds, threads, eval_visit, &e, err);
    }
    for (int k = 0; k < n_models; k++) {
        pl_gender_metrics_finish(&out[k]);
        pl_gender_close(g[k]);
    }
    if (photos) *photos = ds.n;
    if (skipped) *skipped = ds.skipped;
    free(g);
    tr_dataset_free(&ds);
    return st;
}
