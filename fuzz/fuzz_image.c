/* fuzz_image.c — libFuzzer target for image decoding (every format).
 *
 * Any bytes go to pl_image_probe and pl_image_decode. A refusal must carry
 * an error naming the file; a success must give a sane upright RGB image
 * whose size agrees with the probe. Decoded images are then pushed through
 * the cheap geometry (reduced decode, resize, rotate) to reach that code
 * with odd sizes too.
 *
 *     make fuzz && build-fuzz/fuzz/fuzz_image fuzz/corpus-image fuzz/seeds/image
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs declaring more pixels than this are only probed: a 100 MP
 * allocation per input would slow the fuzzer to a crawl, not find bugs. */
#define FUZZ_MAX_PIXELS (4 << 20)

static void named_or_die(const pl_error *err)
{
    if (err->code == PL_OK || !strstr(err->msg, "fuzz.img")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_image_info info;
    int probed = pl_image_probe(data, size, "fuzz.img", &info, &err) == PL_OK;
    if (!probed) named_or_die(&err);
    if (probed && (long long)info.w * info.h > FUZZ_MAX_PIXELS) return 0;

    pl_image img;
    if (pl_image_decode(data, size, "fuzz.img", &img, &err) != PL_OK) {
        named_or_die(&err);
        if (img.px) abort();
        return 0;
    }
    if (img.c != 3 || img.w <= 0 || img.h <= 0 || !img.px) abort();
    /* HEIF probing reads the container only; both must agree on the size. */
    if (probed && (info.w != img.w || info.h != img.h)) abort();

    pl_image small;
    double scale;
    if (pl_image_decode_max(data, size, "fuzz.img", 7, &small, &scale, &err) == PL_OK) {
        if (small.w > 7 || small.h > 7 || scale <= 0 || scale > 1) abort();
        pl_image_free(&small);
    }
    pl_image r;
    if (pl_image_resize(&img, 3 + img.w % 5, 2 + img.h % 7, PL_RESIZE_AUTO, &r, NULL) == PL_OK)
        pl_image_free(&r);
    if (pl_image_rotate90(&img, (int)(size % 4), &r, NULL) == PL_OK) pl_image_free(&r);
    pl_image_free(&img);
    return 0;
}
