#include "train/gender_data.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "train/rng.h"
#include "util/fs.h"

static int parse_label(const char *s)
{
    static const char *male[] = {"m", "male", "man", "h", "hombre", "masculino"};
    static const char *female[] = {"f", "female", "woman", "w", "mujer", "femenino"};
    for (size_t i = 0; i < sizeof male / sizeof male[0]; i++)
        if (!strcasecmp(s, male[i])) return 1;
    for (size_t i = 0; i < sizeof female / sizeof female[0]; i++)
        if (!strcasecmp(s, female[i])) return 0;
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s) || *s == '"') s++;
    char *e = s + strlen(s);
    while (e > s && (isspace((unsigned char)e[-1]) || e[-1] == '"')) *--e = 0;
    return s;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

static int identity_of(tr_dataset *d, const char *rel)
{
    char id[256];
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        snprintf(id, sizeof id, "%s", rel); /* a flat folder: one photo, one person */
    } else {
        const char *start = slash;
        while (start > rel && start[-1] != '/') start--;
        snprintf(id, sizeof id, "%.*s", (int)(slash - start), start);
    }
    for (int i = 0; i < d->n_identities; i++)
        if (!strcmp(d->identities[i], id)) return i;
    snprintf(d->identities[d->n_identities], 256, "%s", id);
    return d->n_identities++;
}

static pl_status parse_rows(const char *data_dir, const char *csv, char *text, tr_dataset *d,
                            pl_error *err)
{
    int line_no = 0, counts[2] = {0, 0};
    for (char *line = text, *next; line && *line; line = next) {
        /* one line at a time, counting blank ones, so messages say file:line */
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        line_no++;
        char *comma = strchr(line, ',');
        if (!comma) comma = strchr(line, ';');
        if (!comma) {
            if (*trim(line) == 0) continue;
            return pl_fail(err, PL_ERR_FORMAT, "%s:%d: expected 'path,gender'", csv, line_no);
        }
        *comma = 0;
        char *rel = trim(line), *lab = trim(comma + 1);
        char *more = strpbrk(lab, ",;");
        if (more) *more = 0, lab = trim(lab);
        int label = parse_label(lab);
        if (label < 0 && line_no == 1) continue; /* the header */
        if (label < 0)
            return pl_fail(err, PL_ERR_FORMAT,
                           "%s:%d: unknown gender label '%s' (use M/F, male/female, hombre/mujer)",
                           csv, line_no, lab);
        tr_sample *s = &d->s[d->n];
        memset(s, 0, sizeof *s);
        if (!pl_path_join(s->path, sizeof s->path, data_dir, rel))
            return pl_fail(err, PL_ERR_ARG, "%s:%d: path too long", csv, line_no);
        if (!pl_file_exists(s->path))
            return pl_fail(err, PL_ERR_NOTFOUND, "%s:%d: photo '%s' not found (looked for %s)", csv,
                           line_no, rel, s->path);
        s->label = label;
        s->identity = identity_of(d, rel);
        counts[label]++;
        d->n++;
    }
    if (d->n == 0) return pl_fail(err, PL_ERR_ARG, "%s: no labelled photos", csv);
    if (!counts[0] || !counts[1])
        return pl_fail(err, PL_ERR_ARG,
                       "%s: every photo is labelled %s; a classifier needs both M and F", csv,
                       counts[1] ? "M" : "F");
    return PL_OK;
}

pl_status tr_labels_read(const char *data_dir, const char *csv, tr_dataset *d, pl_error *err)
{
    memset(d, 0, sizeof *d);
    if (!pl_is_dir(data_dir)) return pl_fail(err, PL_ERR_NOTFOUND, "%s: not a folder", data_dir);
    if (dir_is_empty(data_dir)) return pl_fail(err, PL_ERR_ARG, "%s: empty folder", data_dir);
    uint8_t *text = NULL;
    size_t len = 0;
    if (pl_read_file(csv, 64u << 20, &text, &len, err) != PL_OK) return err ? err->code : PL_ERR_IO;
    size_t rows = 1;
    for (size_t i = 0; i < len; i++) rows += text[i] == '\n';
    d->s = calloc(rows, sizeof *d->s);
    d->identities = calloc(rows, sizeof *d->identities);
    pl_status st = d->s && d->identities
                       ? parse_rows(data_dir, csv, (char *)text, d, err)
                       : pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", csv);
    free(text);
    if (st != PL_OK) tr_dataset_free(d);
    return st;
}

void tr_dataset_free(tr_dataset *d)
{
    free(d->s);
    free(d->identities);
    memset(d, 0, sizeof *d);
}

static float area(const pl_face *f) { return (f->x2 - f->x1) * (f->y2 - f->y1); }

pl_status tr_dataset_detect(tr_dataset *d, int threads, tr_visit_fn visit, void *ctx,
                            pl_error *err)
{
    pl_mtcnn *det = pl_mtcnn_new(threads, err);
    if (!det) return err ? err->code : PL_ERR_NOTFOUND;
    pl_mtcnn_options opt;
    pl_mtcnn_default_options(&opt);
    opt.min_face = 40; /* portraits: skip tiny background faces */
    pl_status st = PL_OK;
    d->skipped = 0;
    for (int i = 0; i < d->n && st == PL_OK; i++) {
        tr_sample *s = &d->s[i];
        if (s->cached) {
            d->skipped += !s->has_face;
            continue;
        }
        pl_image img = {0};
        pl_face *faces = NULL;
        int n = 0;
        st = pl_image_load_max(s->path, 1024, &img, NULL, err);
        if (st == PL_OK) st = pl_mtcnn_detect(det, &img, &opt, &faces, &n, err);
        if (st == PL_OK) {
            s->has_face = n > 0;
            for (int j = 0; j < n; j++)
                if (j == 0 || area(&faces[j]) > area(&s->face)) s->face = faces[j];
            if (!n) d->skipped++;
            else if (visit) st = visit(ctx, i, &img, err);
        }
        free(faces);
        pl_image_free(&img);
    }
    pl_mtcnn_free(det);
    return st;
}

void tr_identity_folds(const tr_dataset *d, int k, unsigned long long seed, int *fold)
{
    int *order = malloc((size_t)d->n_identities * sizeof *order);
    int *label = malloc((size_t)d->n_identities * sizeof *label);
    if (!order || !label) {
        for (int i = 0; i < d->n_identities; i++) fold[i] = i % k;
        free(order);
        free(label);
        return;
    }
    for (int i = 0; i < d->n_identities; i++) label[i] = -1;
    for (int i = 0; i < d->n; i++)
        if (label[d->s[i].identity] < 0) label[d->s[i].identity] = d->s[i].label;
    tr_rng rng;
    tr_rng_seed(&rng, seed);
    for (int i = 0; i < d->n_identities; i++) order[i] = i;
    tr_rng_shuffle(&rng, order, d->n_identities);
    /* deal each class round-robin so every fold gets both */
    int next = 0;
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < d->n_identities; i++)
            if (label[order[i]] == c) fold[order[i]] = next++ % k;
    free(order);
    free(label);
}
