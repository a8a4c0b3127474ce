/* zipread.c — read members of a zip held in memory (libzip), refusing
 * anything that would make us inflate more than the caller's cap: a
 * declared size over the cap, a bomb-like compression ratio, or a member
 * whose real size turns out larger than it declared. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "roster/roster.h"

struct pl_zip {
    zip_t *z;
    char name[256];
};

/* Above this size a member may not be compressed more than MAX_RATIO:1.
 * Real spreadsheets XML compresses 5-50x; deflate tops out near 1032x. */
#define BOMB_MIN_SIZE (8u << 20)
#define BOMB_MAX_RATIO 200

pl_status pl_zip_open_mem(const uint8_t *data, size_t len, const char *name,
                          pl_zip **out, pl_error *err)
{
    *out = NULL;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return pl_fail(err, PL_ERR_NOMEM, "%s: cannot read the zip", name);
    }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!z) {
        pl_status st = pl_fail(err, PL_ERR_FORMAT, "%s: corrupt zip (%s)", name,
                               zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return st;
    }
    zip_error_fini(&ze);
    pl_zip *pz = calloc(1, sizeof *pz);
    if (!pz) {
        zip_discard(z);
        return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    }
    pz->z = z;
    snprintf(pz->name, sizeof pz->name, "%s", name);
    *out = pz;
    return PL_OK;
}

void pl_zip_close(pl_zip *z)
{
    if (!z) return;
    zip_discard(z->z);
    free(z);
}

static zip_int64_t locate(pl_zip *z, const char *member)
{
    while (*member == '/') member++;
    return zip_name_locate(z->z, member, ZIP_FL_NOCASE | ZIP_FL_ENC_GUESS);
}

int pl_zip_has(pl_zip *z, const char *member) { return locate(z, member) >= 0; }

pl_status pl_zip_read(pl_zip *z, const char *member, size_t max_bytes,
                      char **data, size_t *len, pl_error *err)
{
    *data = NULL;
    *len = 0;
    zip_int64_t idx = locate(z, member);
    if (idx < 0) return pl_fail(err, PL_ERR_NOTFOUND, "%s: no %s inside", z->name, member);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->z, (zip_uint64_t)idx, 0, &st) != 0)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %s: %s", z->name, member, zip_strerror(z->z));
    if ((st.valid & ZIP_STAT_SIZE) && st.size > max_bytes)
        return pl_fail(err, PL_ERR_NOMEM, "%s: %s unpacks to %llu bytes, over the limit of %zu",
                       z->name, member, (unsigned long long)st.size, max_bytes);
    if ((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && st.size > BOMB_MIN_SIZE &&
        st.size / (st.comp_size ? st.comp_size : 1) > BOMB_MAX_RATIO)
        return pl_fail(err, PL_ERR_FORMAT,
                       "%s: %s is compressed %llu:1, which only zip bombs do; refused", z->name,
                       member, (unsigned long long)(st.size / (st.comp_size ? st.comp_size : 1)));
    zip_file_t *f = zip_fopen_index(z->z, (zip_uint64_t)idx, 0);
    if (!f) return pl_fail(err, PL_ERR_FORMAT, "%s: %s: %s", z->name, member, zip_strerror(z->z));
    size_t cap = (st.valid & ZIP_STAT_SIZE) ? (size_t)st.size + 1 : 4096, n = 0;
    char *buf = malloc(cap + 1);
    pl_status ret = PL_OK;
    while (buf) {
        if (n == cap) {
            if (cap > max_bytes) {
                ret = pl_fail(err, PL_ERR_NOMEM, "%s: %s unpacks to more than %zu bytes", z->name,
                              member, max_bytes);
                break;
            }
            cap *= 2;
            char *b = realloc(buf, cap + 1);
            if (!b) break;
            buf = b;
        }
        zip_int64_t got = zip_fread(f, buf + n, cap - n);
        if (got < 0) {
            ret = pl_fail(err, PL_ERR_FORMAT, "%s: %s is damaged (%s)", z->name, member,
                          zip_file_strerror(f));
            break;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (n > max_bytes) {
            ret = pl_fail(err, PL_ERR_NOMEM, "%s: %s unpacks to more than %zu bytes", z->name,
                          member, max_bytes);
            break;
        }
    }
    zip_fclose(f);
    if (!buf) return pl_fail(err, PL_ERR_NOMEM, "%s: %s: out of memory", z->name, member);
    if (ret) {
        free(buf);
        return ret;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return PL_OK;
}
