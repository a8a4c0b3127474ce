/* identify.c — who is in each photo of a folder, one face per photo.
 *
 * The check the original notebook made: with one subfolder per person the
 * folder itself says who each photo shows, so every prediction is marked
 * right or wrong, in a table and in a grid of faces a person can scan.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "match/match.h"
#include "util/fs.h"

#define CELL 150
#define CAPTION 64

/* The biggest face of the photo, embedded; 0 when there is none. */
static int embed_main_face(pl_app *app, const pl_image *img, float *vec, pl_face *chosen,
                           pl_error *err)
{
    pl_face *faces = NULL;
    int n = 0;
    if (pl_mtcnn_detect(app->detector, img, &app->detect, &faces, &n, err) != PL_OK) return -1;
    if (n == 0) {
        free(faces);
        pl_fail(err, PL_ERR_NOTFOUND, "no face found");
        return 0;
    }
    int best = 0;
    for (int i = 1; i < n; i++)
        if ((faces[i].x2 - faces[i].x1) > (faces[best].x2 - faces[best].x1)) best = i;
    *chosen = faces[best];
    free(faces);
    return pl_embedder_run(app->embedder, img, chosen, 1, vec, err) == PL_OK ? 1 : -1;
}

static void identify_one(pl_app *app, const pl_gallery *g, const pl_source_photo *src, int has_truth,
                         float accept, float review, pl_identify_item *it, float *vec)
{
    pl_error err = {0};
    pl_image img = {0};
    snprintf(it->path, sizeof it->path, "%s", src->path);
    if (has_truth) snprintf(it->truth, sizeof it->truth, "%s", src->student);
    pl_face face;
    if (pl_image_load(src->path, &img, &err) != PL_OK || embed_main_face(app, &img, vec, &face, &err) != 1) {
        snprintf(it->error, sizeof it->error, "%s", err.msg);
        pl_image_free(&img);
        return;
    }
    pl_image_free(&img);
    it->ok = 1;
    it->decision = PL_UNKNOWN;
    int best = -1;
    float best_score = -2;
    for (int s = 0; s < g->n_students; s++) {
        float c = pl_cosine(vec, g->means + (size_t)s * g->dim, g->dim);
        if (c > best_score) {
            best_score = c;
            best = s;
        }
    }
    if (best >= 0) {
        snprintf(it->predicted, sizeof it->predicted, "%s", g->student_name[best]);
        it->score = best_score;
        it->decision = best_score >= accept ? PL_PRESENT : best_score >= review ? PL_REVIEW : PL_UNKNOWN;
    }
    it->correct = has_truth && it->decision == PL_PRESENT && !strcmp(it->truth, it->predicted);
}

pl_status pl_identify(pl_app *app, const char *dir, pl_progress_fn progress, void *ctx,
                      pl_identify_result *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    pl_source_photo *photos;
    int n;
    pl_status st = pl_source_scan(dir, &photos, &n, err);
    if (st != PL_OK) return st;
    /* The layout gives the truth only when photos sit in per-person folders. */
    int has_truth = n > 0 && photos[0].in_student_folder;
    pl_gallery g;
    memset(&g, 0, sizeof g);
    st = pl_store_gallery_load(app->store, app->model, &g, err);
    float *vec = malloc((size_t)pl_embedder_dim(app->embedder) * sizeof *vec);
    out->items = calloc((size_t)n, sizeof *out->items);
    if (st == PL_OK && (!vec || !out->items)) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_match_thresholds th;
    pl_app_thresholds(app, &th);
    for (int i = 0; i < n && st == PL_OK; i++) {
        if (!photos[i].path[0]) continue; /* an empty student folder */
        if (progress) progress(ctx, i, n, photos[i].path);
        pl_identify_item *it = &out->items[out->n_items++];
        identify_one(app, &g, &photos[i], has_truth, th.accept, th.review_low, it, vec);
        if (!it->ok) out->unreadable++;
        else if (has_truth) {
            out->with_truth++;
            if (it->correct) out->correct++;
            else out->wrong++;
        }
    }
    if (progress && st == PL_OK) progress(ctx, n, n, "");
    free(vec);
    free(photos);
    pl_gallery_free(&g);
    if (st != PL_OK) pl_identify_result_free(out);
    return st;
}

void pl_identify_result_free(pl_identify_result *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}

static pl_status grid_cell(const pl_identify_item *it, pl_image *grid, int x, int y, pl_font *font,
                           pl_error *err)
{
    pl_image img = {0}, small = {0};
    pl_status st = PL_OK;
    if (pl_image_load(it->path, &img, NULL) == PL_OK) {
        /* Fit the photo in the cell, keeping its shape. */
        float k = fminf((float)CELL / img.w, (float)CELL / img.h);
        int w = (int)fmaxf(1, img.w * k), h = (int)fmaxf(1, img.h * k);
        st = pl_image_resize(&img, w, h, PL_RESIZE_AUTO, &small, err);
        if (st == PL_OK) st = pl_image_paste(grid, &small, x + (CELL - w) / 2, y + (CELL - h) / 2, w, h, err);
    }
    uint32_t color = !it->ok ? 0x808080 : it->correct ? 0x1f9d3a : it->truth[0] ? 0xd62828 : 0xf08c00;
    pl_image_draw_rect(grid, x, y, CELL, CELL, 3, color);
    char line[300];
    if (st == PL_OK && it->truth[0]) {
        snprintf(line, sizeof line, "%.40s", it->truth);
        st = pl_image_draw_text(grid, font, x + 2, y + CELL + 2, line, 0x202020, err);
    }
    if (st == PL_OK) {
        if (it->ok)
            snprintf(line, sizeof line, "%s %.40s %.2f", it->truth[0] ? (it->correct ? "OK" : "X") : "->",
                     it->predicted[0] ? it->predicted : "?", it->score);
        else
            snprintf(line, sizeof line, "no face");
        st = pl_image_draw_text(grid, font, x + 2, y + CELL + 22, line, color, err);
    }
    pl_image_free(&img);
    pl_image_free(&small);
    return st;
}

pl_status pl_identify_write_grid(const pl_identify_result *r, const char *path, pl_error *err)
{
    int cols = r->n_items < 8 ? (r->n_items ? r->n_items : 1) : 8;
    int rows = (r->n_items + cols - 1) / cols;
    if (rows < 1) rows = 1;
    pl_image grid = {0};
    pl_status st = pl_image_new(cols * (CELL + 10), rows * (CELL + CAPTION), 3, &grid, err);
    if (st != PL_OK) return st;
    pl_image_fill_rect(&grid, 0, 0, grid.w, grid.h, 0xffffff);
    pl_font *font = NULL;
    st = pl_font_open(NULL, 13, &font, err);
    for (int i = 0; i < r->n_items && st == PL_OK; i++)
        st = grid_cell(&r->items[i], &grid, (i % cols) * (CELL + 10), (i / cols) * (CELL + CAPTION), font, err);
    if (st == PL_OK) st = pl_image_save_jpeg(path, &grid, 88, err);
    pl_font_close(font);
    pl_image_free(&grid);
    return st;
}
