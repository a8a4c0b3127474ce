/* app.c — opening the networks and the database once for both flows. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "attend/attend.h"

const char *pl_default_model(void) { return pl_embedder_default_name(); }

pl_app *pl_app_open(const pl_app_options *opt, pl_error *err)
{
    pl_app_options defaults = {0};
    if (!opt) opt = &defaults;
    pl_app *app = calloc(1, sizeof *app);
    if (!app) {
        pl_fail(err, PL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    app->threads = opt->threads > 0 ? opt->threads : 1;
    const char *model = opt->model && *opt->model ? opt->model : pl_default_model();
    snprintf(app->model, sizeof app->model, "%s", model);
    pl_mtcnn_default_options(&app->detect);
    if (opt->min_face > 0) app->detect.min_face = opt->min_face;
    pl_quality_default_limits(&app->quality);
    const char *db = opt->db_path && *opt->db_path ? opt->db_path : "pasalista.db";
    if (!(app->store = pl_store_open(db, opt->create_db ? PL_STORE_CREATE : 0, err)) ||
        !(app->detector = pl_mtcnn_new(app->threads, err)) ||
        !(app->embedder = pl_embedder_new(model, app->threads, err))) {
        pl_app_close(app);
        return NULL;
    }
    return app;
}

void pl_app_close(pl_app *app)
{
    if (!app) return;
    pl_embedder_free(app->embedder);
    pl_mtcnn_free(app->detector);
    pl_store_close(app->store);
    free(app);
}
