#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pl_status pl_read_file(const char *path, size_t max_bytes, uint8_t **data,
                       size_t *len, pl_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return pl_fail(err, PL_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        fclose(f);
        return pl_fail(err, PL_ERR_NOMEM, "%s: file is %lld bytes, more than the limit of %zu",
                       path, (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return pl_fail(err, PL_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return pl_fail(err, PL_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return PL_OK;
}

static pl_status write_via_temp(const char *path, const void *data, size_t len, int durable,
                                pl_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return pl_fail(err, PL_ERR_ARG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return pl_fail(err, PL_ERR_IO, "%s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return pl_fail(err, PL_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    /* The descriptor is closed whether or not the flush failed. */
    int flush_errno = durable && fsync(fd) != 0 ? errno : 0;
    if (close(fd) != 0 && !flush_errno) flush_errno = errno;
    if (flush_errno) {
        unlink(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot flush: %s", path, strerror(flush_errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return PL_OK;
}

pl_status pl_write_file_atomic(const char *path, const void *data, size_t len,
                               pl_error *err)
{
    return write_via_temp(path, data, len, 1, err);
}

pl_status pl_write_file_replace(const char *path, const void *data, size_t len,
                                pl_error *err)
{
    return write_via_temp(path, data, len, 0, err);
}

pl_status pl_mkdirs(const char *path, int mode, pl_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return pl_fail(err, PL_ERR_ARG, "bad folder path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
                return pl_fail(err, PL_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    if (!pl_is_dir(path)) return pl_fail(err, PL_ERR_IO, "%s: exists and is not a folder", path);
    return PL_OK;
}

int pl_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int pl_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

long long pl_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long long)st.st_size;
}

int pl_path_join(char *dst, size_t size, const char *a, const char *b)
{
    size_t la = strlen(a);
    int need_slash = la > 0 && a[la - 1] != '/';
    int n = snprintf(dst, size, "%s%s%s", a, need_slash ? "/" : "", b);
    return n >= 0 && (size_t)n < size;
}
