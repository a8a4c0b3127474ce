/* gender_take.c — the optional gender ESTIMATE added to an attendance
 * result (`take --gender`). It reads the result, never changes it: each
 * present or to-review student's face is cut again from its photo and
 * given to the gender model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/gender.h"
#include "image/image.h"
#include "pasalista.h"

/* The faces of one photo that placed a student, and for which student. */
static pl_status photo_faces(const pl_take_result *r, pl_gender *g, int p, pl_take_gender *out,
                             pl_error *err)
{
    pl_face *faces = malloc((size_t)r->n_students * sizeof *faces);
    int *who = malloc((size_t)r->n_students * sizeof *who);
    float *pm = malloc((size_t)r->n_students * sizeof *pm);
    int n = 0;
    pl_status st = faces && who && pm ? PL_OK : pl_fail(err, PL_ERR_NOMEM, "gender: out of memory");
    for (int s = 0; st == PL_OK && s < r->n_students; s++) {
        const pl_take_student *ts = &r->students[s];
        if (ts->status == PL_ABSENT || ts->photo != p || ts->face < 0) continue;
        const pl_take_face *f = &r->faces[ts->face];
        pl_face pf = {f->x1, f->y1, f->x2, f->y2, f->det_score, {0}};
        memcpy(pf.landmarks, f->landmarks, sizeof pf.landmarks);
        faces[n] = pf;
        who[n++] = s;
    }
    if (st == PL_OK && n) {
        pl_image img = {0};
        st = pl_image_load(r->photos[p].path, &img, err);
        if (st == PL_OK) st = pl_gender_run(g, &img, faces, n, pm, err);
        pl_image_free(&img);
        for (int i = 0; st == PL_OK && i < n; i++) out->p_male[who[i]] = pm[i];
    }
    free(faces);
    free(who);
    free(pm);
    return st;
}

pl_status pl_take_gender_estimate(const pl_take_result *r, const char *model, int threads,
                                  pl_take_gender *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!model || !*model) model = pl_gender_default_model();
    snprintf(out->model, sizeof out->model, "%s", model);
    out->p_male = malloc((size_t)(r->n_students ? r->n_students : 1) * sizeof *out->p_male);
    if (!out->p_male) return pl_fail(err, PL_ERR_NOMEM, "gender: out of memory");
    for (int s = 0; s < r->n_students; s++) out->p_male[s] = -1;
    pl_gender *g = pl_gender_open(model, threads, err);
    if (!g) {
        pl_take_gender_free(out);
        return err ? err->code : PL_ERR_NOTFOUND;
    }
    pl_status st = PL_OK;
    for (int p = 0; p < r->n_photos && st == PL_OK; p++)
        if (r->photos[p].ok) st = photo_faces(r, g, p, out, err);
    pl_gender_close(g);
    for (int s = 0; st == PL_OK && s < r->n_students; s++) {
        float pm = out->p_male[s];
        if (pm < 0) continue;
        int male = pm >= 0.5f;
        if (r->students[s].status == PL_PRESENT) male ? out->male++ : out->female++;
        else male ? out->review_male++ : out->review_female++;
    }
    if (st != PL_OK) pl_take_gender_free(out);
    return st;
}

void pl_take_gender_free(pl_take_gender *g)
{
    free(g->p_male);
    memset(g, 0, sizeof *g);
}
