/* Tests for src/util: sha256 against FIPS 180-4 vectors, files, errors. */
#include <stdio.h>
#include <unistd.h>

#include "test.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"

TEST(sha256_known_vectors)
{
    char hex[65];
    pl_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pl_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    pl_sha256_hex(two_blocks, strlen(two_blocks), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(sha256_streaming_equals_one_shot)
{
    char data[1000], a[65], b[65];
    for (int i = 0; i < 1000; i++) data[i] = (char)(i * 7);
    pl_sha256_hex(data, sizeof data, a);
    pl_sha256 h;
    uint8_t d[32];
    pl_sha256_init(&h);
    for (int i = 0; i < 1000; i += 37) pl_sha256_update(&h, data + i, i + 37 <= 1000 ? 37 : 1000 - i);
    pl_sha256_final(&h, d);
    for (int i = 0; i < 32; i++) sprintf(b + 2 * i, "%02x", d[i]);
    CHECK_STR(a, b);
}

TEST(read_file_names_missing_file)
{
    pl_error err = {0};
    uint8_t *buf;
    size_t len;
    CHECK(pl_read_file("/nonexistent/x.bin", 100, &buf, &len, &err) == PL_ERR_IO);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.bin");
}

TEST(atomic_write_then_read_with_limit)
{
    char path[] = "/tmp/pl_test_fs_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    pl_error err = {0};
    CHECK(pl_write_file_atomic(path, "hello", 5, &err) == PL_OK);
    uint8_t *buf;
    size_t len;
    CHECK(pl_read_file(path, 100, &buf, &len, &err) == PL_OK);
    CHECK_EQ_INT(len, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    free(buf);
    CHECK(pl_read_file(path, 4, &buf, &len, &err) == PL_ERR_NOMEM);
    CHECK_CONTAINS(err.msg, "limit");
    unlink(path);
}
