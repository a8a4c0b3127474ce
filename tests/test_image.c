/* test_image.c — the image module: codecs, EXIF orientation, bad inputs,
 * geometry against hand-computed values, drawing and text, and the shared
 * test photos (read at run time, never copied). Every file is generated in
 * a temporary folder at run time. */
#include "engine/kernels.h"
#include "test.h"

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>
#include <libheif/heif.h>
#include <webp/encode.h>

#include "image/image.h"
#include "util/fs.h"

/* libx265 (used only by the test, to make a HEIC) leaks 1 KB per encoder
 * inside itself; keep LeakSanitizer on our code only. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_OFF() __lsan_disable()
#define LSAN_ON() __lsan_enable()
#else
#define LSAN_OFF() ((void)0)
#define LSAN_ON() ((void)0)
#endif

/* ---- helpers --------------------------------------------------------------- */

static char tmp_dir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void tmp_cleanup(void)
{
    if (tmp_dir[0]) nftw(tmp_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int i;
    if (!tmp_dir[0]) {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pl_test_image_XXXXXX");
        if (!mkdtemp(tmp_dir)) abort();
        atexit(tmp_cleanup);
    }
    char *b = buf[i++ % 8];
    snprintf(b, 512, "%s/%s", tmp_dir, name);
    return b;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

/* A smooth synthetic photo: gradients plus a soft disc, c channels. */
static pl_image synth(int w, int h, int c)
{
    pl_image img;
    if (pl_image_new(w, h, c, &img, NULL)) abort();
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.px + ((size_t)y * w + x) * c;
            double dx = x - w / 2.0, dy = y - h / 2.0;
            int disc = dx * dx + dy * dy < (w * h) / 10.0 ? 60 : 0;
            p[0] = (uint8_t)(x * 200 / w + disc / 2);
            if (c >= 3) {
                p[1] = (uint8_t)(y * 200 / h + disc);
                p[2] = (uint8_t)(128 + (x - y) * 50 / (w + h));
            }
            if (c == 4) p[3] = (uint8_t)(x * 255 / (w - 1));
        }
    return img;
}

static double psnr(const pl_image *a, const pl_image *b)
{
    double se = 0;
    size_t n = (size_t)a->w * a->h * a->c;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a->px[i] - b->px[i];
        se += d * d;
    }
    if (se == 0) return 99;
    return 10 * log10(255.0 * 255.0 / (se / n));
}

static const uint8_t *px_at(const pl_image *img, int x, int y)
{
    return img->px + ((size_t)y * img->w + x) * img->c;
}

static void encode_jpeg(const pl_image *img, int q, uint8_t **data, size_t *len)
{
    pl_error e;
    if (pl_image_encode_jpeg(img, q, data, len, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
}

/* ---- round trips ------------------------------------------------------------ */

TEST(jpeg_roundtrip_file)
{
    pl_image a = synth(97, 61, 3), b;
    pl_error e;
    const char *p = tmp_path("rt.jpg");
    CHECK(pl_image_save_jpeg(p, &a, 95, &e) == PL_OK);
    CHECK_MSG(pl_image_load(p, &b, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(b.w, 97);
    CHECK_EQ_INT(b.h, 61);
    CHECK_EQ_INT(b.c, 3);
    double q = psnr(&a, &b);
    CHECK_MSG(q > 35, "JPEG q95 PSNR %.1f dB", q);
    pl_image_free(&b);
    /* Grey and RGBA encode too and decode as RGB. */
    pl_image g;
    CHECK(pl_image_to_grey(&a, &g, &e) == PL_OK);
    CHECK(pl_image_save_jpeg(p, &g, 90, &e) == PL_OK);
    CHECK(pl_image_load(p, &b, &e) == PL_OK);
    CHECK_EQ_INT(b.c, 3);
    CHECK_NEAR(px_at(&b, 50, 30)[0], px_at(&g, 50, 30)[0], 4);
    CHECK_NEAR(px_at(&b, 50, 30)[2], px_at(&g, 50, 30)[0], 4);
    pl_image_free(&b);
    pl_image_free(&g);
    pl_image_free(&a);
}

TEST(png_roundtrip_exact)
{
    pl_error e;
    const char *p = tmp_path("rt.png");
    pl_image a = synth(33, 17, 3), b;
    CHECK(pl_image_save_png(p, &a, &e) == PL_OK);
    CHECK_MSG(pl_image_load(p, &b, &e) == PL_OK, "%s", e.msg);
    CHECK_EQ_INT(b.w, 33);
    CHECK_EQ_INT(b.h, 17);
    CHECK(memcmp(a.px, b.px, (size_t)33 * 17 * 3) == 0);
    pl_image_free(&b);
    /* grey → replicated RGB */
    pl_image g;
    CHECK(pl_image_to_grey(&a, &g, &e) == PL_OK);
    CHECK(pl_image_save_png(p, &g, &e) == PL_OK);
    CHECK(pl_image_load(p, &b, &e) == PL_OK);
    CHECK_EQ_INT(px_at(&b, 5, 5)[0], px_at(&g, 5, 5)[0]);
    CHECK_EQ_INT(px_at(&b, 5, 5)[1], px_at(&g, 5, 5)[0]);
    pl_image_free(&b);
    pl_image_free(&g);
    /* RGBA → over white: alpha 0 at x=0 is white, alpha 255 at the right edge is the colour */
    pl_image r = synth(33, 17, 4);
    CHECK(pl_image_save_png(p, &r, &e) == PL_OK);
    CHECK(pl_image_load(p, &b, &e) == PL_OK);
    CHECK_EQ_INT(b.c, 3);
    CHECK_EQ_INT(px_at(&b, 0, 3)[0], 255);
    CHECK_EQ_INT(px_at(&b, 32, 3)[1], px_at(&r, 32, 3)[1]);
    pl_image_free(&b);
    pl_image_free(&r);
    pl_image_free(&a);
}

TEST(webp_decode)
{
    pl_error e;
    pl_image a = synth(40, 30, 3), b;
    uint8_t *out = NULL;
    size_t n = WebPEncodeLosslessRGB(a.px, 40, 30, 40 * 3, &out);
    CHECK(n > 0);
    const char *p = tmp_path("x.webp");
    write_bytes(p, out, n);
    pl_image_info info;
    CHECK(pl_image_probe(out, n, "x.webp", &info, &e) == PL_OK);
    CHECK_EQ_INT(info.format, PL_IMAGE_WEBP);
    CHECK_EQ_INT(info.w, 40);
    CHECK_EQ_INT(info.h, 30);
    WebPFree(out);
    CHECK_MSG(pl_image_load(p, &b, &e) == PL_OK, "%s", e.msg);
    CHECK(b.w == 40 && b.h == 30 && b.c == 3);
    CHECK(memcmp(a.px, b.px, (size_t)40 * 30 * 3) == 0);
    pl_image_free(&b);
    /* lossy */
    n = WebPEncodeRGB(a.px, 40, 30, 40 * 3, 90, &out);
    CHECK(pl_image_decode(out, n, "lossy.webp", &b, &e) == PL_OK);
    CHECK(psnr(&a, &b) > 30);
    /* truncated */
    pl_image c;
    pl_status st = pl_image_decode(out, n / 2, "cut.webp", &c, &e);
    CHECK(st != PL_OK);
    CHECK_CONTAINS(e.msg, "cut.webp");
    WebPFree(out);
    pl_image_free(&b);
    pl_image_free(&a);
}

TEST(heic_encode_decode)
{
    if (!heif_have_encoder_for_format(heif_compression_HEVC))
        SKIP("this libheif has no HEVC encoder, cannot make a HEIC to decode");
    int w = 128, h = 96;
    pl_image a = synth(w, h, 3);
    LSAN_OFF();
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    CHECK(heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc).code == heif_error_Ok);
    heif_encoder_set_lossy_quality(enc, 90);
    CHECK(heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img).code == heif_error_Ok);
    CHECK(heif_image_add_plane(img, heif_channel_interleaved, w, h, 8).code == heif_error_Ok);
    int stride;
    uint8_t *pl = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    for (int y = 0; y < h; y++) memcpy(pl + (size_t)y * stride, a.px + (size_t)y * w * 3, (size_t)w * 3);
    CHECK(heif_context_encode_image(ctx, img, enc, NULL, NULL).code == heif_error_Ok);
    const char *p = tmp_path("x.heic");
    CHECK(heif_context_write_to_file(ctx, p).code == heif_error_Ok);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    LSAN_ON();

    pl_error e;
    pl_image b;
    CHECK_MSG(pl_image_load(p, &b, &e) == PL_OK, "%s", e.msg);
    CHECK(b.w == w && b.h == h && b.c == 3);
    double q = psnr(&a, &b);
    CHECK_MSG(q > 28, "HEIC PSNR %.1f dB", q);
    pl_image_free(&b);
    uint8_t *data;
    size_t n;
    CHECK(pl_read_file(p, 1 << 24, &data, &n, &e) == PL_OK);
    pl_image_info info;
    CHECK_MSG(pl_image_probe(data, n, p, &info, &e) == PL_OK, "%s", e.msg);
    CHECK(info.format == PL_IMAGE_HEIF && info.w == w && info.h == h);
    CHECK(pl_image_decode(data, n / 2, "cut.heic", &b, &e) != PL_OK);
    CHECK_CONTAINS(e.msg, "cut.heic");
    free(data);
    pl_image_free(&a);
}

/* libjpeg directly, for the flavours pl_image_encode_jpeg does not write:
 * progressive scans, and 4-channel CMYK (stored inverted with an Adobe
 * marker, as Photoshop does). */
static void encode_jpeg_raw(const uint8_t *px, int w, int h, int c, int progressive,
                            uint8_t **data, size_t *len)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    unsigned char *buf = NULL;
    unsigned long size = 0;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &buf, &size);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = c;
    ci.in_color_space = c == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 95, TRUE);
    if (progressive) jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = (JSAMPROW)px + (size_t)ci.next_scanline * w * c;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *data = buf;
    *len = size;
}

TEST(jpeg_progressive_and_cmyk)
{
    pl_image a = synth(64, 48, 3), b;
    pl_error e;
    uint8_t *d;
    size_t n;
    encode_jpeg_raw(a.px, 64, 48, 3, 1, &d, &n);
    CHECK_MSG(pl_image_decode(d, n, "prog.jpg", &b, &e) == PL_OK, "%s", e.msg);
    CHECK(psnr(&a, &b) > 35);
    pl_image_free(&b);
    /* A progressive file cut short is an error too, not a blurry image. */
    CHECK(pl_image_decode(d, n * 3 / 4, "prog.jpg", &b, &e) != PL_OK);
    CHECK_CONTAINS(e.msg, "prog.jpg: truncated JPEG");
    free(d);
    /* CMYK (inverted): C'=255 M'=0 Y'=0 K'=255 is pure red. */
    uint8_t cmyk[16 * 16 * 4];
    for (int i = 0; i < 256; i++) {
        cmyk[i * 4 + 0] = 255;
        cmyk[i * 4 + 1] = 0;
        cmyk[i * 4 + 2] = 0;
        cmyk[i * 4 + 3] = 255;
    }
    encode_jpeg_raw(cmyk, 16, 16, 4, 0, &d, &n);
    CHECK_MSG(pl_image_decode(d, n, "cmyk.jpg", &b, &e) == PL_OK, "%s", e.msg);
    CHECK(b.c == 3 && b.w == 16);
    CHECK_MSG(b.px[0] > 245 && b.px[1] < 10 && b.px[2] < 10, "%d %d %d", b.px[0], b.px[1], b.px[2]);
    pl_image_free(&b);
    free(d);
    pl_image_free(&a);
}

/* ---- EXIF orientation -------------------------------------------------------- */

static void put16(uint8_t *t, size_t *n, unsigned v, int little)
{
    t[(*n)++] = (uint8_t)(little ? v & 255 : v >> 8);
    t[(*n)++] = (uint8_t)(little ? v >> 8 : v & 255);
}

static void put32(uint8_t *t, size_t *n, uint32_t v, int little)
{
    put16(t, n, little ? v & 0xffff : v >> 16, little);
    put16(t, n, little ? v >> 16 : v & 0xffff, little);
}

/* An APP1 Exif segment holding only IFD0 tag 0x0112 = o, in either byte
 * order, as SHORT or LONG; returns its length. */
static size_t exif_app1(uint8_t *b, int o, int little, int as_long)
{
    uint8_t t[32];
    size_t n = 0;
    t[n++] = little ? 'I' : 'M';
    t[n++] = little ? 'I' : 'M';
    put16(t, &n, 42, little);
    put32(t, &n, 8, little); /* IFD0 right after the header */
    put16(t, &n, 1, little); /* one entry */
    put16(t, &n, 0x0112, little);
    put16(t, &n, as_long ? 4 : 3, little);
    put32(t, &n, 1, little);
    if (as_long) {
        put32(t, &n, (uint32_t)o, little);
    } else {
        put16(t, &n, (unsigned)o, little);
        put16(t, &n, 0, little);
    }
    put32(t, &n, 0, little); /* no next IFD */
    size_t seg = 2 + 6 + n;
    b[0] = 0xFF;
    b[1] = 0xE1;
    b[2] = (uint8_t)(seg >> 8);
    b[3] = (uint8_t)seg;
    memcpy(b + 4, "Exif\0\0", 6);
    memcpy(b + 10, t, n);
    return 2 + seg;
}

/* Six flat blocks A..F stored as  A B C / D E F. */
static const uint32_t block_rgb[6] = {0xE02020, 0x20E020, 0x2020E0, 0xE0E020, 0x20E0E0, 0xE020E0};

TEST(exif_orientations)
{
    /* Where the blocks land upright, row-major (EXIF 2..8 by definition:
     * 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 cw,
     * 7 transverse, 8 rotate 90 ccw). */
    static const char *upright[9] = {"", "ABCDEF", "CBAFED", "FEDCBA", "DEFABC",
                                     "ADBECF", "DAEBFC", "FCEBDA", "CFBEAD"};
    /* Blocks of BS pixels: 144×96 spans two of the decoder's 64-row bands. */
    enum { BS = 48 };
    pl_image s;
    CHECK(pl_image_new(3 * BS, 2 * BS, 3, &s, NULL) == PL_OK);
    for (int b = 0; b < 6; b++)
        pl_image_fill_rect(&s, (b % 3) * BS, (b / 3) * BS, BS, BS, block_rgb[b]);
    uint8_t *jpg;
    size_t n;
    encode_jpeg(&s, 100, &jpg, &n);
    for (int o = 1; o <= 8; o++) {
        uint8_t *buf = malloc(n + 64);
        buf[0] = 0xFF;
        buf[1] = 0xD8;
        size_t k = exif_app1(buf + 2, o, o % 2, o == 7);
        memcpy(buf + 2 + k, jpg + 2, n - 2);
        size_t len = n + k;
        CHECK_EQ_INT(pl_jpeg_exif_orientation(buf, len), o);
        pl_error e;
        pl_image_info info;
        CHECK(pl_image_probe(buf, len, "o.jpg", &info, &e) == PL_OK);
        int tall = o >= 5;
        CHECK_EQ_INT(info.orientation, o);
        CHECK_EQ_INT(info.w, tall ? 2 * BS : 3 * BS);
        CHECK_EQ_INT(info.h, tall ? 3 * BS : 2 * BS);
        pl_image u;
        CHECK_MSG(pl_image_decode(buf, len, "o.jpg", &u, &e) == PL_OK, "%s", e.msg);
        CHECK_EQ_INT(u.w, info.w);
        CHECK_EQ_INT(u.h, info.h);
        int cols = tall ? 2 : 3;
        for (int i = 0; i < 6; i++) {
            int bx = i % cols, by = i / cols;
            const uint8_t *p = px_at(&u, bx * BS + BS / 2, by * BS + BS / 2);
            uint32_t want = block_rgb[upright[o][i] - 'A'];
            CHECK_MSG(abs(p[0] - (int)(want >> 16)) < 12 && abs(p[1] - (int)(want >> 8 & 255)) < 12 &&
                          abs(p[2] - (int)(want & 255)) < 12,
                      "orientation %d: block %d is %02x%02x%02x, want %06x", o, i, p[0], p[1], p[2], want);
        }
        /* The same through DCT-scaled decoding. */
        pl_image half;
        double sc;
        CHECK(pl_image_decode_max(buf, len, "o.jpg", 3 * BS / 2, &half, &sc, &e) == PL_OK);
        CHECK_EQ_INT(half.w, tall ? BS : 3 * BS / 2);
        CHECK_NEAR(sc, 0.5, 1e-9);
        pl_image_free(&half);
        pl_image_free(&u);
        free(buf);
    }
    free(jpg);
    pl_image_free(&s);
}

TEST(exif_garbage_is_ignored)
{
    pl_image s = synth(16, 16, 3);
    uint8_t *jpg;
    size_t n;
    encode_jpeg(&s, 90, &jpg, &n);
    /* An APP1 whose IFD offset points far outside: orientation 1, decodes. */
    uint8_t *buf = malloc(n + 64);
    buf[0] = 0xFF;
    buf[1] = 0xD8;
    size_t k = exif_app1(buf + 2, 6, 1, 0);
    buf[2 + 4 + 6 + 4] = 0xF0; /* IFD0 offset low byte */
    buf[2 + 4 + 6 + 7] = 0x7F;
    memcpy(buf + 2 + k, jpg + 2, n - 2);
    CHECK_EQ_INT(pl_jpeg_exif_orientation(buf, n + k), 1);
    pl_image u;
    CHECK(pl_image_decode(buf, n + k, "g.jpg", &u, NULL) == PL_OK);
    CHECK(u.w == 16 && u.h == 16);
    pl_image_free(&u);
    free(buf);
    free(jpg);
    pl_image_free(&s);
}

/* ---- bad inputs ---------------------------------------------------------------- */

static void expect_load_error(const char *name, const void *data, size_t n, const char *needle)
{
    const char *p = tmp_path(name);
    write_bytes(p, data, n);
    pl_image img = {1, 1, 1, (uint8_t *)1};
    pl_error e;
    pl_status st = pl_image_load(p, &img, &e);
    CHECK_MSG(st != PL_OK, "%s loaded", name);
    CHECK(img.px == NULL && img.w == 0);
    CHECK_CONTAINS(e.msg, p);
    CHECK_CONTAINS(e.msg, needle);
}

TEST(bad_inputs_named_errors)
{
    expect_load_error("empty.jpg", "", 0, "empty file");
    expect_load_error("notes.jpg", "hello, this is text\n", 20, "not an image (starts with 'hello, this ')");
    expect_load_error("page.jpg", "<html><body>Sign in</body></html>", 33, "not an image (starts with '<html");
    expect_load_error("anim.jpg", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14, "GIF is not supported: save the photo as JPEG");
    expect_load_error("soi.jpg", "\xFF\xD8", 2, "truncated JPEG");
    pl_image img;
    pl_error e;
    CHECK(pl_image_load(tmp_path("absent.jpg"), &img, &e) == PL_ERR_IO);
    CHECK_CONTAINS(e.msg, "absent.jpg");
}

TEST(truncated_jpeg_is_an_error)
{
    pl_image s = synth(120, 90, 3);
    uint8_t *jpg;
    size_t n;
    encode_jpeg(&s, 90, &jpg, &n);
    int cuts = 0;
    for (size_t cut = 3; cut < n - 2; cut += (n / 23) | 1, cuts++) {
        const char *p = tmp_path("cut.jpg");
        write_bytes(p, jpg, cut);
        pl_image img;
        pl_error e;
        pl_status st = pl_image_load(p, &img, &e);
        CHECK_MSG(st != PL_OK, "cut at %zu of %zu decoded", cut, n);
        CHECK_CONTAINS(e.msg, p);
        CHECK_MSG(strstr(e.msg, "truncated") || strstr(e.msg, "corrupt"), "%s", e.msg);
    }
    CHECK(cuts > 10);
    /* The message the CLI shows for a cut in the picture data. */
    pl_image img;
    pl_error e;
    CHECK(pl_image_decode(jpg, n * 2 / 3, "x.jpg", &img, &e) != PL_OK);
    CHECK_STR(e.msg, "x.jpg: truncated JPEG (premature end of data)");
    /* Corrupt data: never a crash; success or a named error. */
    for (size_t i = n / 3; i < n - 2; i += 97) {
        uint8_t *bad = malloc(n);
        memcpy(bad, jpg, n);
        bad[i] ^= 0x5A;
        if (pl_image_decode(bad, n, "flip.jpg", &img, &e) == PL_OK) pl_image_free(&img);
        else CHECK_CONTAINS(e.msg, "flip.jpg");
        free(bad);
    }
    free(jpg);
    pl_image_free(&s);
}

/* PNG's CRC-32 (bitwise; the test patches a header and must re-sign it). */
static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

TEST(huge_dimensions_refused)
{
    /* PNG: an IHDR declaring 40000×40000. */
    pl_image s = synth(8, 8, 3);
    uint8_t *png;
    size_t n;
    CHECK(pl_image_encode_png(&s, &png, &n, NULL) == PL_OK);
    png[16] = 0; png[17] = 0; png[18] = 0x9C; png[19] = 0x40; /* 40000 */
    png[20] = 0; png[21] = 0; png[22] = 0x9C; png[23] = 0x40;
    uint32_t crc = crc32_bytes(png + 12, 17); /* "IHDR" + 13 data bytes */
    for (int i = 0; i < 4; i++) png[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    expect_load_error("huge.png", png, n, "image too large");
    pl_image_info info;
    pl_error e;
    CHECK(pl_image_probe(png, n, "huge.png", &info, &e) == PL_ERR_NOMEM);
    CHECK_CONTAINS(e.msg, "image too large");
    free(png);
    /* JPEG: SOF declaring 20000×20000 (400 MP, over the pixel limit). */
    uint8_t *jpg;
    encode_jpeg(&s, 90, &jpg, &n);
    for (size_t i = 2; i + 9 < n; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
            jpg[i + 5] = 0x4E; jpg[i + 6] = 0x20; /* height 20000 */
            jpg[i + 7] = 0x4E; jpg[i + 8] = 0x20; /* width 20000 */
            break;
        }
    expect_load_error("huge.jpg", jpg, n, "image too large");
    free(jpg);
    pl_image_free(&s);
}

TEST(probe_formats)
{
    pl_image s = synth(21, 13, 3);
    uint8_t *d;
    size_t n;
    pl_image_info info;
    pl_error e;
    CHECK(pl_image_encode_png(&s, &d, &n, NULL) == PL_OK);
    CHECK(pl_image_probe(d, n, "a.png", &info, &e) == PL_OK);
    CHECK(info.format == PL_IMAGE_PNG && info.w == 21 && info.h == 13);
    CHECK_STR(pl_image_format_name(info.format), "PNG");
    free(d);
    encode_jpeg(&s, 80, &d, &n);
    CHECK(pl_image_probe(d, n, "a.jpg", &info, &e) == PL_OK);
    CHECK(info.format == PL_IMAGE_JPEG && info.w == 21 && info.h == 13 && info.orientation == 1);
    free(d);
    CHECK(pl_image_sniff((const uint8_t *)"GIF87a", 6) == PL_IMAGE_GIF);
    CHECK(pl_image_probe((const uint8_t *)"<!DOCTYPE html>", 15, "d.jpg", &info, &e) == PL_ERR_FORMAT);
    CHECK_CONTAINS(e.msg, "d.jpg: not an image (starts with '<!DOCTYPE ht");
    pl_image_free(&s);
}

TEST(save_errors_name_the_file)
{
    pl_image s = synth(8, 8, 3);
    pl_error e;
    CHECK(pl_image_save_png("/nonexistent-dir/x.png", &s, &e) == PL_ERR_IO);
    CHECK_CONTAINS(e.msg, "/nonexistent-dir/x.png");
    CHECK(pl_image_save_jpeg("/nonexistent-dir/y.jpg", &s, 90, &e) == PL_ERR_IO);
    CHECK_CONTAINS(e.msg, "/nonexistent-dir/y.jpg");
    pl_image empty = {0, 0, 0, NULL};
    CHECK(pl_image_save_png(tmp_path("e.png"), &empty, &e) == PL_ERR_ARG);
    CHECK(!pl_file_exists(tmp_path("e.png")));
    pl_image_free(&s);
}

/* A full disk, simulated with a file-size limit in a child process: the
 * save fails with an error naming the file and leaves nothing behind. */
TEST(save_on_full_disk_leaves_no_file)
{
    const char *p = tmp_path("full.png");
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        pl_image big = synth(300, 200, 3);
        for (size_t i = 0; i < (size_t)300 * 200 * 3; i++) big.px[i] ^= (uint8_t)(i * 2654435761u >> 13);
        pl_error e;
        pl_status st = pl_image_save_png(p, &big, &e);
        int ok = st == PL_ERR_IO && strstr(e.msg, p) != NULL;
        st = pl_image_save_jpeg(p, &big, 95, &e);
        ok = ok && st == PL_ERR_IO && strstr(e.msg, p) != NULL;
        pl_image_free(&big);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(!pl_file_exists(p));
    DIR *d = opendir(tmp_dir);
    struct dirent *de;
    while ((de = readdir(d))) CHECK_MSG(!strstr(de->d_name, "full.png"), "left %s", de->d_name);
    closedir(d);
}

/* ---- geometry ------------------------------------------------------------------- */

static pl_image grey_from(int w, int h, const uint8_t *v)
{
    pl_image g;
    if (pl_image_new(w, h, 1, &g, NULL)) abort();
    memcpy(g.px, v, (size_t)w * h);
    return g;
}

TEST(resize_bilinear_tf_legacy)
{
    /* f(x, y) = 10x + 40y is reproduced exactly by bilinear sampling, so the
     * expected values are f at TF's source coordinates: legacy s = i*in/out,
     * half-pixel s = (i+0.5)*in/out - 0.5 (clamped at 0). */
    uint8_t v[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) v[y * 4 + x] = (uint8_t)(10 * x + 40 * y);
    pl_image g = grey_from(4, 4, v), o;
    CHECK(pl_image_resize(&g, 3, 3, PL_RESIZE_BILINEAR, &o, NULL) == PL_OK);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++) {
            double sx = x * 4.0 / 3, sy = y * 4.0 / 3;
            CHECK_NEAR(o.px[y * 3 + x], floor(10 * sx + 40 * sy + 0.5), 0.5);
        }
    pl_image_free(&o);
    CHECK(pl_image_resize(&g, 3, 3, PL_RESIZE_BILINEAR_HALF, &o, NULL) == PL_OK);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++) {
            double sx = (x + 0.5) * 4 / 3 - 0.5, sy = (y + 0.5) * 4 / 3 - 0.5;
            CHECK_NEAR(o.px[y * 3 + x], floor(10 * sx + 40 * sy + 0.5), 0.5);
        }
    pl_image_free(&o);
    /* 4×4 → 2×2 legacy samples the even pixels exactly. */
    CHECK(pl_image_resize(&g, 2, 2, PL_RESIZE_BILINEAR, &o, NULL) == PL_OK);
    CHECK(o.px[0] == 0 && o.px[1] == 20 && o.px[2] == 80 && o.px[3] == 100);
    pl_image_free(&o);
    pl_image_free(&g);
    /* Enlarging 2×2 → 4×4 (legacy): s = 0, .5, 1, 1.5 and the upper tap
     * clamps to the last pixel, as TF does. */
    uint8_t w[4] = {0, 100, 200, 50};
    g = grey_from(2, 2, w);
    CHECK(pl_image_resize(&g, 4, 4, PL_RESIZE_BILINEAR, &o, NULL) == PL_OK);
    static const uint8_t want[16] = {0, 50, 100, 100,     100, 88, 75, 75,
                                     200, 125, 50, 50,    200, 125, 50, 50};
    for (int i = 0; i < 16; i++) CHECK_MSG(o.px[i] == want[i], "px %d: %d != %d", i, o.px[i], want[i]);
    pl_image_free(&o);
    pl_image_free(&g);
}

TEST(resize_area_box_filter)
{
    uint8_t v[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
    pl_image g = grey_from(4, 4, v), o;
    CHECK(pl_image_resize(&g, 2, 2, PL_RESIZE_AREA, &o, NULL) == PL_OK);
    CHECK(o.px[0] == 25 && o.px[1] == 45 && o.px[2] == 105 && o.px[3] == 125);
    pl_image_free(&o);
    pl_image_free(&g);
    /* 6 → 4: out0 = (p0 + p1/2) / 1.5 */
    uint8_t r[6] = {0, 60, 120, 180, 240, 30};
    g = grey_from(6, 1, r);
    CHECK(pl_image_resize(&g, 4, 1, PL_RESIZE_AREA, &o, NULL) == PL_OK);
    CHECK_EQ_INT(o.px[0], 20);   /* (0 + 30) / 1.5 */
    CHECK_EQ_INT(o.px[1], 100);  /* (30 + 120) / 1.5 */
    CHECK_EQ_INT(o.px[3], 100);  /* (240/2 + 30) / 1.5 */
    pl_image_free(&o);
    pl_image_free(&g);
    /* No aliasing: a one-pixel checkerboard shrunk 4× is flat grey, where
     * point sampling would give pure black or white. */
    pl_image cb;
    CHECK(pl_image_new(400, 300, 3, &cb, NULL) == PL_OK);
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++) memset(cb.px + ((size_t)y * 400 + x) * 3, (x + y) % 2 ? 255 : 0, 3);
    CHECK(pl_image_resize(&cb, 100, 75, PL_RESIZE_AUTO, &o, NULL) == PL_OK);
    int lo = 255, hi = 0;
    for (size_t i = 0; i < (size_t)100 * 75 * 3; i++) {
        if (o.px[i] < lo) lo = o.px[i];
        if (o.px[i] > hi) hi = o.px[i];
    }
    CHECK_MSG(lo >= 126 && hi <= 129, "area range %d..%d", lo, hi);
    pl_image_free(&o);
    /* 4000 → 1000 style ratio that is not an integer */
    CHECK(pl_image_resize(&cb, 123, 77, PL_RESIZE_AREA, &o, NULL) == PL_OK);
    for (size_t i = 0; i < (size_t)123 * 77 * 3; i++) CHECK(o.px[i] > 100 && o.px[i] < 155);
    pl_image_free(&o);
    pl_image_free(&cb);
}

/* The pyramid maker (which pl_image_resize also uses for RGB shrinks) must
 * give every level exactly the bytes of the plain area filter, which is
 * what an RGBA image goes through: its RGB channels are the reference.
 * Also sizes that do not shrink and a grey image. */
static void check_shrink_many(void)
{
    pl_image src = {0}, rgba = {0};
    CHECK(pl_image_new(301, 217, 3, &src, NULL) == PL_OK);
    CHECK(pl_image_new(301, 217, 4, &rgba, NULL) == PL_OK);
    uint32_t seed = 12345;
    for (size_t i = 0; i < (size_t)301 * 217; i++)
        for (int c = 0; c < 4; c++) {
            seed = seed * 1103515245u + 12345u;
            rgba.px[i * 4 + c] = (uint8_t)(seed >> 16);
            if (c < 3) src.px[i * 3 + c] = rgba.px[i * 4 + c];
        }
    int w[] = {181, 128, 91, 301, 64, 13, 12, 400, 1};
    int h[] = {131, 93, 65, 217, 46, 10, 9, 100, 1};
    int n = (int)(sizeof w / sizeof w[0]);
    pl_image many[9];
    CHECK(pl_image_shrink_many(&src, n, w, h, many, NULL) == PL_OK);
    for (int i = 0; i < n; i++) {
        pl_image ref = {0};
        CHECK(pl_image_resize(&rgba, w[i], h[i], PL_RESIZE_AREA, &ref, NULL) == PL_OK);
        CHECK(many[i].w == w[i] && many[i].h == h[i] && many[i].c == 3);
        int differ = 0;
        for (size_t p = 0; p < (size_t)w[i] * h[i]; p++)
            differ += memcmp(ref.px + p * 4, many[i].px + p * 3, 3) != 0;
        CHECK_MSG(!differ, "level %dx%d: %d pixels differ", w[i], h[i], differ);
        pl_image_free(&ref);
        pl_image_free(&many[i]);
    }
    pl_image_free(&src);
    pl_image_free(&rgba);
    pl_image grey = {0};
    CHECK(pl_image_new(50, 40, 1, &grey, NULL) == PL_OK);
    memset(grey.px, 77, 50 * 40);
    CHECK(pl_image_shrink_many(&grey, 1, w + 4, h + 4, many, NULL) == PL_OK);
    CHECK(many[0].c == 1 && many[0].px[0] == 77);
    pl_image_free(&many[0]);
    pl_image_free(&grey);
}

TEST(shrink_many_equals_area_resize) { check_shrink_many(); }

/* The same through the SSE2 horizontal pass a CPU without AVX2 takes. */
TEST(shrink_many_without_avx2_equals_area_resize)
{
    setenv("PL_CPU", "generic", 1);
    pl_cpu_reload();
    check_shrink_many();
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(warp_affine)
{
    pl_image a = synth(31, 23, 3), o;
    const float id[6] = {1, 0, 0, 0, 1, 0};
    CHECK(pl_image_warp_affine(&a, id, 31, 23, 0, &o, NULL) == PL_OK);
    CHECK(memcmp(a.px, o.px, (size_t)31 * 23 * 3) == 0);
    pl_image_free(&o);
    /* dst→src shift by (+2, +1): out(x, y) = src(x+2, y+1); the last columns
     * and row come from outside and blend towards the border. */
    const float sh[6] = {1, 0, 2, 0, 1, 1};
    CHECK(pl_image_warp_affine(&a, sh, 31, 23, 7, &o, NULL) == PL_OK);
    CHECK(memcmp(px_at(&o, 3, 4), px_at(&a, 5, 5), 3) == 0);
    CHECK_EQ_INT(px_at(&o, 30, 5)[0], 7);
    CHECK_EQ_INT(px_at(&o, 3, 22)[1], 7);
    pl_image_free(&o);
    /* Half-pixel shift: the mean of two neighbours. */
    const float hs[6] = {1, 0, 0.5f, 0, 1, 0};
    CHECK(pl_image_warp_affine(&a, hs, 31, 23, 0, &o, NULL) == PL_OK);
    CHECK_NEAR(px_at(&o, 4, 4)[0], (px_at(&a, 4, 4)[0] + px_at(&a, 5, 4)[0]) / 2.0, 0.51);
    pl_image_free(&o);
    /* Inversion round trip */
    const float m[6] = {0.8f, -0.3f, 5, 0.3f, 0.8f, -2};
    float inv[6], back[6];
    CHECK(pl_affine_invert(m, inv));
    CHECK(pl_affine_invert(inv, back));
    for (int i = 0; i < 6; i++) CHECK_NEAR(back[i], m[i], 1e-5);
    const float sing[6] = {1, 2, 0, 2, 4, 0};
    CHECK(!pl_affine_invert(sing, inv));
    pl_image_free(&a);
}

TEST(transpose_rotate_flip)
{
    pl_image a = synth(5, 3, 3), t, r, r4, tmp;
    pl_error e;
    CHECK(pl_image_transpose(&a, &t, &e) == PL_OK);
    CHECK(t.w == 3 && t.h == 5);
    CHECK(memcmp(px_at(&t, 2, 4), px_at(&a, 4, 2), 3) == 0);
    CHECK(memcmp(px_at(&t, 1, 0), px_at(&a, 0, 1), 3) == 0);
    /* clockwise: the stored top-left goes to the top-right */
    CHECK(pl_image_rotate90(&a, 1, &r, &e) == PL_OK);
    CHECK(r.w == 3 && r.h == 5);
    CHECK(memcmp(px_at(&r, 2, 0), px_at(&a, 0, 0), 3) == 0);
    CHECK(memcmp(px_at(&r, 0, 0), px_at(&a, 0, 2), 3) == 0);
    /* four quarter turns = identity; -1 = 3 */
    CHECK(pl_image_rotate90(&a, 4, &r4, &e) == PL_OK);
    CHECK(memcmp(r4.px, a.px, 45) == 0);
    pl_image_free(&r4);
    CHECK(pl_image_rotate90(&a, -1, &r4, &e) == PL_OK);
    CHECK(pl_image_rotate90(&a, 3, &tmp, &e) == PL_OK);
    CHECK(memcmp(r4.px, tmp.px, 45) == 0);
    pl_image_free(&tmp);
    pl_image_free(&r4);
    /* flips */
    CHECK(pl_image_clone(&a, &tmp, &e) == PL_OK);
    pl_image_flip_h(&tmp);
    CHECK(memcmp(px_at(&tmp, 0, 1), px_at(&a, 4, 1), 3) == 0);
    pl_image_flip_h(&tmp);
    pl_image_flip_v(&tmp);
    CHECK(memcmp(px_at(&tmp, 3, 0), px_at(&a, 3, 2), 3) == 0);
    pl_image_flip_v(&tmp);
    CHECK(memcmp(tmp.px, a.px, 45) == 0);
    pl_image_free(&tmp);
    pl_image_free(&t);
    pl_image_free(&r);
    pl_image_free(&a);
}

TEST(crop_pad_paste)
{
    pl_image a = synth(20, 10, 3), c;
    pl_error e;
    CHECK(pl_image_crop(&a, -5, 6, 10, 10, &c, &e) == PL_OK);
    CHECK(c.w == 5 && c.h == 4);
    CHECK(memcmp(px_at(&c, 1, 1), px_at(&a, 1, 7), 3) == 0);
    pl_image_free(&c);
    CHECK(pl_image_crop(&a, 30, 0, 5, 5, &c, &e) == PL_ERR_ARG);
    CHECK(pl_image_crop_pad(&a, -2, -1, 6, 4, 0x102030, &c, &e) == PL_OK);
    CHECK(c.w == 6 && c.h == 4);
    CHECK(px_at(&c, 0, 0)[0] == 0x10 && px_at(&c, 0, 0)[2] == 0x30);
    CHECK(memcmp(px_at(&c, 2, 1), px_at(&a, 0, 0), 3) == 0);
    pl_image_free(&c);
    /* paste scaled, clipped */
    pl_image sheet;
    CHECK(pl_image_new(30, 30, 3, &sheet, &e) == PL_OK);
    CHECK(pl_image_paste(&sheet, &a, 20, 25, 20, 10, &e) == PL_OK);
    CHECK(memcmp(px_at(&sheet, 21, 26), px_at(&a, 1, 1), 3) == 0);
    CHECK(px_at(&sheet, 19, 25)[0] == 0);
    CHECK(pl_image_paste(&sheet, &a, 0, 0, 10, 5, &e) == PL_OK);
    CHECK(px_at(&sheet, 9, 4)[1] > 0);
    /* clipped on the left and top, unscaled: sheet (0, 0) is a (5, 3) */
    CHECK(pl_image_paste(&sheet, &a, -5, -3, 0, 0, &e) == PL_OK);
    CHECK(memcmp(px_at(&sheet, 0, 0), px_at(&a, 5, 3), 3) == 0);
    CHECK(memcmp(px_at(&sheet, 14, 6), px_at(&a, 19, 9), 3) == 0);
    CHECK(px_at(&sheet, 15, 6)[0] == 0); /* right of the pasted columns: untouched */
    /* grey into RGB: each channel takes the grey value */
    pl_image g;
    CHECK(pl_image_new(4, 2, 1, &g, &e) == PL_OK);
    memset(g.px, 77, 8);
    CHECK(pl_image_paste(&sheet, &g, 28, 28, 0, 0, &e) == PL_OK);
    CHECK(px_at(&sheet, 29, 29)[0] == 77 && px_at(&sheet, 29, 29)[1] == 77 && px_at(&sheet, 29, 29)[2] == 77);
    pl_image_free(&g);
    pl_image_free(&sheet);
    pl_image_free(&a);
}

TEST(to_float_layouts)
{
    pl_image a;
    CHECK(pl_image_new(2, 1, 3, &a, NULL) == PL_OK);
    uint8_t v[6] = {10, 20, 30, 40, 50, 60};
    memcpy(a.px, v, 6);
    float out[6];
    pl_float_spec s = {.bgr = 0, .nchw = 0, .mean = {127.5f, 127.5f, 127.5f}, .scale = {1 / 128.f, 1 / 128.f, 1 / 128.f}};
    CHECK(pl_image_to_float(&a, &s, out, 6, NULL) == PL_OK);
    CHECK_NEAR(out[0], (10 - 127.5) / 128, 1e-6);
    CHECK_NEAR(out[5], (60 - 127.5) / 128, 1e-6);
    pl_float_spec b = {.bgr = 1, .nchw = 1, .mean = {1, 2, 3}, .scale = {1, 1, 1}};
    CHECK(pl_image_to_float(&a, &b, out, 6, NULL) == PL_OK);
    /* planes B, G, R; each plane holds pixel 0 then pixel 1 */
    CHECK_NEAR(out[0], 30 - 1, 0);
    CHECK_NEAR(out[1], 60 - 1, 0);
    CHECK_NEAR(out[2], 20 - 2, 0);
    CHECK_NEAR(out[5], 40 - 3, 0);
    pl_error e;
    CHECK(pl_image_to_float(&a, &s, out, 5, &e) == PL_ERR_ARG);
    pl_image g;
    CHECK(pl_image_to_grey(&a, &g, NULL) == PL_OK);
    CHECK_EQ_INT(g.px[0], 18); /* 0.299*10 + 0.587*20 + 0.114*30 = 18.2 */
    pl_image_free(&g);
    pl_image_free(&a);
}

/* ---- drawing and text -------------------------------------------------------------- */

TEST(draw_rects)
{
    pl_image a;
    CHECK(pl_image_new(20, 20, 3, &a, NULL) == PL_OK);
    pl_image_draw_rect(&a, 2, 3, 10, 8, 2, 0xFF0000);
    CHECK(px_at(&a, 2, 3)[0] == 255 && px_at(&a, 3, 4)[0] == 255 && px_at(&a, 11, 10)[0] == 255);
    CHECK(px_at(&a, 4, 5)[0] == 0);   /* inside, past the thickness */
    CHECK(px_at(&a, 12, 3)[0] == 0);  /* outside */
    pl_image_draw_rect(&a, -5, -5, 100, 100, 3, 0x00FF00); /* clipped, no crash */
    pl_image_blend_rect(&a, 10, 10, 5, 5, 0x0000FF, 128);
    CHECK_NEAR(px_at(&a, 12, 12)[2], 128, 1);
    pl_image_free(&a);
}

TEST(text_accents_render)
{
    pl_font *font;
    pl_error e;
    pl_status st = pl_font_open(NULL, 24, &font, &e);
    if (st == PL_ERR_NOTFOUND) SKIP("%s", e.msg);
    CHECK_MSG(st == PL_OK, "%s", e.msg);
    const char *name = "María José Núñez", *ascii = "Maria Jose Nunez";
    uint32_t miss = 0;
    CHECK_MSG(pl_font_covers(font, name, &miss), "no glyph for U+%04X", miss);
    CHECK(pl_font_covers(font, "Łódź Ørsted Ñandú ÇÃÕ", NULL));
    CHECK(!pl_font_covers(font, "\xF0\x9F\x82\xA1 \xE2\xBF\xB0", &miss)); /* playing card, ideographic */
    CHECK(!pl_font_covers(font, "Mar\xED" "a", &miss)); /* Latin-1, not UTF-8 */
    CHECK_EQ_INT(miss, 0xFFFD);
    pl_text_size ta, tb;
    CHECK(pl_font_measure(font, name, &ta, &e) == PL_OK);
    CHECK(pl_font_measure(font, ascii, &tb, &e) == PL_OK);
    CHECK(ta.w >= tb.w && ta.w > 100 && ta.w < 400);
    CHECK(ta.h >= 24 && ta.h < 40 && ta.baseline > 0 && ta.baseline < ta.h);
    pl_image img;
    CHECK(pl_image_new(ta.w + 20, ta.h + 20, 3, &img, NULL) == PL_OK);
    CHECK(pl_image_draw_text(&img, font, 10, 10, name, 0xFFFFFF, &e) == PL_OK);
    long inside = 0, outside = 0;
    for (int y = 0; y < img.h; y++)
        for (int x = 0; x < img.w; x++) {
            int on = px_at(&img, x, y)[0] > 0;
            int in = x >= 10 && x < 10 + ta.w && y >= 10 && y < 10 + ta.h;
            if (in) inside += on; else outside += on;
        }
    CHECK_MSG(inside > 300 && outside == 0, "inside %ld outside %ld", inside, outside);
    pl_image_free(&img);
    pl_font_close(font);
    CHECK(pl_font_open("/no/such/font.ttf", 20, &font, &e) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "/no/such/font.ttf");
    CHECK_CONTAINS(e.msg, "fonts-dejavu-core");
}

/* name drawn with a fresh font (every glyph from the cache) and with one
 * whose 256-glyph cache was filled first, so its letters past U+0142 come
 * straight from FreeType: the same pixels and the same measure. */
TEST(glyph_cache_renders_as_fresh)
{
    pl_font *fresh, *warm;
    pl_error e;
    pl_status st = pl_font_open(NULL, 20, &fresh, &e);
    if (st == PL_ERR_NOTFOUND) SKIP("%s", e.msg);
    CHECK_MSG(st == PL_OK && pl_font_open(NULL, 20, &warm, &e) == PL_OK, "%s", e.msg);
    char many[4 * 400 + 1];
    size_t n = 0;
    for (uint32_t cp = 0x21; cp < 0x21 + 400; cp++) { /* ASCII, Latin-1, Latin Extended-A/B as UTF-8 */
        if (cp >= 0x7F && cp < 0xA1) continue;
        if (cp < 0x80) many[n++] = (char)cp;
        else many[n++] = (char)(0xC0 | cp >> 6), many[n++] = (char)(0x80 | (cp & 0x3F));
    }
    many[n] = '\0';
    pl_image scratch, a, b;
    CHECK(pl_image_new(5000, 40, 3, &scratch, NULL) == PL_OK);
    CHECK(pl_image_draw_text(&scratch, warm, 0, 0, many, 0xFFFFFF, &e) == PL_OK);
    const char *name = "María José Núñez ŁÓDŹ Ørsted";
    pl_text_size ta, tb;
    CHECK(pl_font_measure(fresh, name, &ta, &e) == PL_OK && pl_font_measure(warm, name, &tb, &e) == PL_OK);
    CHECK(ta.w == tb.w && ta.h == tb.h && ta.baseline == tb.baseline);
    CHECK(pl_image_new(ta.w + 10, ta.h + 10, 3, &a, NULL) == PL_OK);
    CHECK(pl_image_new(ta.w + 10, ta.h + 10, 3, &b, NULL) == PL_OK);
    CHECK(pl_image_draw_text(&a, fresh, 5, 5, name, 0x20C040, &e) == PL_OK);
    CHECK(pl_image_draw_text(&b, warm, 5, 5, name, 0x20C040, &e) == PL_OK);
    CHECK(pl_image_draw_text(&b, warm, 5, 5, name, 0x20C040, &e) == PL_OK); /* twice: blending again */
    CHECK(pl_image_draw_text(&a, fresh, 5, 5, name, 0x20C040, &e) == PL_OK);
    CHECK(memcmp(a.px, b.px, (size_t)a.w * a.h * 3) == 0);
    pl_image_free(&scratch);
    pl_image_free(&a);
    pl_image_free(&b);
    pl_font_close(fresh);
    pl_font_close(warm);
}

TEST(label_demo_png)
{
    /* Annotate a synthetic scene and keep /tmp/pl_label_demo.png for eyes. */
    pl_font *font;
    pl_error e;
    if (pl_font_open(PL_FONT_DEFAULT_BOLD, 18, &font, &e)) SKIP("%s", e.msg);
    pl_image a = synth(480, 300, 3);
    struct { int x, y, w, h; const char *name; uint32_t col; } box[] = {
        {40, 60, 90, 110, "María José Núñez", 0x20C040},
        {250, 5, 80, 90, "Ñandú Peña 0.87", 0x20C040},
        {400, 150, 70, 100, "desconocido", 0xE03020},
    };
    for (int i = 0; i < 3; i++) {
        pl_image_draw_rect(&a, box[i].x, box[i].y, box[i].w, box[i].h, 3, box[i].col);
        CHECK(pl_image_draw_label(&a, font, box[i].x, box[i].y, box[i].w, box[i].h, box[i].name,
                                  0xFFFFFF, box[i].col, &e) == PL_OK);
    }
    /* label above the first box: background colour just above it */
    CHECK(px_at(&a, 41, 58)[1] == 0xC0);
    /* second box at the top edge: label inside, still within the image */
    CHECK(px_at(&a, 251, 6)[1] == 0xC0);
    CHECK(pl_image_save_png("/tmp/pl_label_demo.png", &a, &e) == PL_OK);
    pl_image_free(&a);
    pl_font_close(font);
}

/* ---- memory on a 12 MP photo ------------------------------------------------------------ */

static long vm_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n)) v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

/* In a child: reset the peak-RSS mark, decode, report the peak growth. */
static long peak_growth_kb(const char *path, int max_side)
{
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        FILE *c = fopen("/proc/self/clear_refs", "w");
        if (c) { fputs("5", c); fclose(c); }
        long base = vm_kb("VmRSS:");
        pl_image img;
        long r = -1;
        if (pl_image_load_max(path, max_side, &img, NULL, NULL) == PL_OK) {
            r = vm_kb("VmHWM:") - base;
            pl_image_free(&img);
        }
        if (write(fd[1], &r, sizeof r) != sizeof r) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    long r = -1;
    if (read(fd[0], &r, sizeof r) != sizeof r) r = -1;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return r;
}

TEST(decode_12mp_bounded_memory)
{
    const char *p = tmp_path("12mp.jpg");
    {
        /* Noise makes it compress like a real photo (a few MB), not 200 KB. */
        pl_image big = synth(4000, 3000, 3);
        uint32_t r = 12345;
        for (size_t i = 0; i < (size_t)4000 * 3000 * 3; i++) {
            r = r * 1664525u + 1013904223u;
            int v = big.px[i] + (int)(r >> 27) - 16;
            big.px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        pl_error e;
        CHECK_MSG(pl_image_save_jpeg(p, &big, 90, &e) == PL_OK, "%s", e.msg);
        pl_image_free(&big);
    }
    long full = peak_growth_kb(p, 0), small = peak_growth_kb(p, 1000);
    long file_kb = pl_file_size(p) / 1024;
    fprintf(stderr, "    12 MP JPEG (%ld KB): peak RSS growth %ld KB full, %ld KB at max_side 1000 "
                    "(RGB buffer alone: 35156 KB)\n", file_kb, full, small);
    CHECK(full > 0 && small > 0);
    if (getenv("PASALISTA_ASAN")) return; /* sanitizer shadow memory skews RSS */
    /* One RGB buffer + the file + libjpeg's working set (a few MB). */
    CHECK_MSG(full < 35156 + file_kb + 8192, "full decode peak %ld KB", full);
    /* 1/4 DCT scaling: 1000×750 (+ at most a 2× larger DCT output). */
    CHECK_MSG(small < 6 * 1024 + file_kb + 8192, "reduced decode peak %ld KB", small);
    pl_image img;
    double sc;
    CHECK(pl_image_load_max(p, 1000, &img, &sc, NULL) == PL_OK);
    CHECK(img.w == 1000 && img.h == 750);
    CHECK_NEAR(sc, 0.25, 1e-9);
    pl_image_free(&img);
    CHECK(pl_image_load_max(p, 1300, &img, &sc, NULL) == PL_OK);
    CHECK(img.w == 1300 && img.h == 975);
    pl_image_free(&img);
}

/* ---- the shared photos (read at run time, never copied) ------------------------------- */

static int decode_folder(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    int ok = 1;
    while (ok && (de = readdir(d))) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (l < 5 || (strcmp(n + l - 4, ".jpg") && strcmp(n + l - 4, ".png") && strcmp(n + l - 5, ".jpeg")))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        pl_image img;
        pl_error e;
        if (pl_image_load(path, &img, &e) != PL_OK) {
            fprintf(stderr, "    %s\n", e.msg);
            ok = 0;
            break;
        }
        uint8_t *data;
        size_t len;
        pl_image_info info;
        if (pl_read_file(path, 1 << 28, &data, &len, &e) || pl_image_probe(data, len, path, &info, &e) ||
            info.w != img.w || info.h != img.h || img.w < 32 || img.h < 32 || img.w > 20000 || img.h > 20000) {
            fprintf(stderr, "    %s: probe %dx%d vs decode %dx%d\n", path, info.w, info.h, img.w, img.h);
            ok = 0;
        }
        free(data);
        pl_image_free(&img);
        (*count)++;
    }
    closedir(d);
    return ok;
}

TEST(shared_group_photos_decode)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/faces/groups", test_shared_dir());
    if (!pl_is_dir(dir)) SKIP("%s not present", dir);
    int n = 0;
    CHECK(decode_folder(dir, &n));
    CHECK(n >= 10);
    /* load_max on the first group photo keeps the aspect ratio */
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".jpg")) break;
    CHECK(de != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    closedir(d);
    pl_image full, small;
    double sc;
    CHECK(pl_image_load(path, &full, NULL) == PL_OK);
    CHECK(pl_image_load_max(path, 320, &small, &sc, NULL) == PL_OK);
    int side = small.w > small.h ? small.w : small.h;
    CHECK(side == 320 || (full.w <= 320 && full.h <= 320));
    CHECK_NEAR(small.h, full.h * sc, 1.0);
    pl_image_free(&full);
    pl_image_free(&small);
}

TEST(shared_identity_photos_decode)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/faces/identities", test_shared_dir());
    DIR *d = opendir(dir);
    if (!d) SKIP("%s not present", dir);
    int n = 0, ok = 1;
    struct dirent *de;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        if (pl_is_dir(sub)) ok = decode_folder(sub, &n);
    }
    closedir(d);
    CHECK(ok);
    CHECK(n >= 100);
}
