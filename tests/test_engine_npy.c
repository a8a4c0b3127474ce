/* test_engine_npy.c — .npy round trips, numpy-written files, hostile files. */
#include <stdio.h>
#include <unistd.h>

#include "formats/npy.h"
#include "util/fs.h"
#include "test.h"

TEST(npy_round_trip)
{
    char path[] = "/tmp/pl_npy_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    int64_t dims[4] = {1, 3, 2, 5};
    float x[30];
    for (int i = 0; i < 30; i++) x[i] = (float)i * 0.5f - 3.0f;
    pl_error err = {0};
    CHECK_MSG(pl_npy_write(path, 4, dims, x, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT((pl_file_size(path) - 120) % 64, 0); /* data 64-aligned */
    int rank;
    int64_t d[PL_MAX_RANK];
    float *y;
    CHECK_MSG(pl_npy_read(path, &rank, d, &y, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(rank, 4);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(d[i], dims[i]);
    for (int i = 0; i < 30; i++) CHECK(y[i] == x[i]);
    free(y);
    /* rank 1 and rank 0 */
    int64_t one[1] = {3};
    CHECK(pl_npy_write(path, 1, one, x, &err) == PL_OK);
    CHECK(pl_npy_read(path, &rank, d, &y, &err) == PL_OK);
    CHECK_EQ_INT(rank, 1);
    CHECK_EQ_INT(d[0], 3);
    free(y);
    CHECK(pl_npy_write(path, 0, one, x, &err) == PL_OK);
    CHECK(pl_npy_read(path, &rank, d, &y, &err) == PL_OK);
    CHECK_EQ_INT(rank, 0);
    CHECK(y[0] == x[0]);
    free(y);
    unlink(path);
}

/* Bytes as numpy 1.x writes np.arange(6, dtype=np.uint8).reshape(2, 3)
 * and a float64 array, by hand. */
static size_t make_npy(uint8_t *buf, const char *descr, const char *shape, const void *data,
                       size_t n)
{
    char h[128];
    int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t hl = (size_t)((10 + len + 1 + 63) / 64 * 64 - 10);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)hl;
    buf[9] = 0;
    memset(buf + 10, ' ', hl);
    memcpy(buf + 10, h, (size_t)len);
    buf[10 + hl - 1] = '\n';
    memcpy(buf + 10 + hl, data, n);
    return 10 + hl + n;
}

TEST(npy_reads_other_dtypes)
{
    uint8_t buf[512];
    uint8_t u[6] = {0, 1, 2, 3, 4, 255};
    double f8[2] = {1.5, -2.25};
    int rank;
    int64_t d[PL_MAX_RANK];
    float *y;
    pl_error err = {0};
    size_t n = make_npy(buf, "|u1", "(2, 3)", u, 6);
    CHECK_MSG(pl_npy_read_memory(buf, n, "u1.npy", &rank, d, &y, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(rank, 2);
    CHECK_EQ_INT(d[1], 3);
    CHECK(y[5] == 255.0f);
    free(y);
    n = make_npy(buf, "<f8", "(2,)", f8, 16);
    CHECK(pl_npy_read_memory(buf, n, "f8.npy", &rank, d, &y, &err) == PL_OK);
    CHECK(y[1] == -2.25f);
    free(y);
}

TEST(npy_rejects_bad_files)
{
    uint8_t buf[512];
    float f[4] = {1, 2, 3, 4};
    int rank;
    int64_t d[PL_MAX_RANK];
    float *y = NULL;
    pl_error err = {0};
    size_t n = make_npy(buf, "<f4", "(2, 2)", f, 16);
    /* truncated data */
    CHECK(pl_npy_read_memory(buf, n - 1, "t.npy", &rank, d, &y, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "t.npy");
    CHECK_CONTAINS(err.msg, "truncated");
    CHECK(y == NULL);
    /* truncated header */
    CHECK(pl_npy_read_memory(buf, 40, "t.npy", &rank, d, &y, &err) == PL_ERR_FORMAT);
    /* bad magic */
    CHECK(pl_npy_read_memory((const uint8_t *)"hello world", 11, "m.npy", &rank, d, &y, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "magic");
    /* big-endian, fortran order, odd shapes */
    n = make_npy(buf, ">f4", "(2, 2)", f, 16);
    CHECK(pl_npy_read_memory(buf, n, "b.npy", &rank, d, &y, &err) == PL_ERR_UNSUPPORTED);
    n = make_npy(buf, "<f4", "(2, x)", f, 16);
    CHECK(pl_npy_read_memory(buf, n, "s.npy", &rank, d, &y, &err) == PL_ERR_FORMAT);
    n = make_npy(buf, "<f4", "(99999999999999, 99999999999)", f, 16);
    CHECK(pl_npy_read_memory(buf, n, "s.npy", &rank, d, &y, &err) != PL_OK);
    n = make_npy(buf, "<f4", "(1, 1, 1, 1, 1, 1, 1)", f, 16);
    CHECK(pl_npy_read_memory(buf, n, "s.npy", &rank, d, &y, &err) == PL_ERR_UNSUPPORTED);
    CHECK(pl_npy_read("/nonexistent/x.npy", &rank, d, &y, &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.npy");
}
