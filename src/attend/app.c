/* app.c — opening the networks and the database once for both flows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attend/attend.h"

const char *pl_default_model(void) { return pl_embedder_default_name(); }

/* Every core the machine has, up to 8: a teacher's laptop has 2 to 4, and
 * results do not depend on the number of threads (the kernels sum each
 * value in the same order however the work is split). */
int pl_default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
}

pl_app *pl_app_open(const pl_app_options *opt, pl_error *err)
{
    pl_app_options defaults = {0};
    if (!opt) opt = &defaults;
    pl_app *app = calloc(1, sizeof *app);
    if (!app) {
        pl_fail(err, PL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    app->threads = opt->threads > 0 ? opt->threads : pl_default_threads();
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
    pl_image_free(&app->kept_photo);
    free(app);
}

/* Size and modification time of a file, to tell whether it changed. */
static int file_stamp(const char *path, long long *size, long long *mtime_ns)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    *size = (long long)st.st_size;
    *mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    return 1;
}

void pl_app_keep_photo(pl_app *app, const char *path, pl_image *img)
{
    pl_image_free(&app->kept_photo);
    app->kept_path[0] = '\0';
    if (strlen(path) < sizeof app->kept_path &&
        file_stamp(path, &app->kept_size, &app->kept_mtime_ns)) {
        app->kept_photo = *img;
        snprintf(app->kept_path, sizeof app->kept_path, "%s", path);
    } else {
        pl_image_free(img);
    }
    memset(img, 0, sizeof *img);
}

pl_status pl_app_load_photo(pl_app *app, const char *path, pl_image *out, pl_error *err)
{
    long long size, mtime;
    if (app->kept_photo.px && !strcmp(app->kept_path, path) && file_stamp(path, &size, &mtime) &&
        size == app->kept_size && mtime == app->kept_mtime_ns) {
        *out = app->kept_photo;
        memset(&app->kept_photo, 0, sizeof app->kept_photo);
        app->kept_path[0] = '\0';
        return PL_OK;
    }
    return pl_image_load(path, out, err);
}
