/* fuzz_image.c -- libFuzzer target: g4_image_decode on arbitrary bytes (PNG, JPEG, WebP, GIF, BMP and
 * whatever FFmpeg's single-image demuxers accept), then a small g4_image_resize (sizes from the input) and,
 * for one input in sixteen, g4_image_patches.  Bounded: inputs over 64 KiB are ignored and the resize
 * steps only run on images of at most 256K pixels (the decoder itself refuses more than
 * G4_IMAGE_MAX_PIXELS); patches always resize to about 160K pixels, which dominates the time.
 * Seeds: fuzz/seeds-image/ (small valid files). */
#include <stdint.h>
#include <string.h>

#include "media/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 64 * 1024) return 0;
    g4_image im, rs;
    char err[G4_ERR_LEN];
    err[0] = 0;
    if (g4_image_decode(&im, data, size, "fuzz", err) != G4_OK) {
        if (im.rgb || im.w || im.h || !err[0]) __builtin_trap(); /* failures must be clean and explained */
        return 0;
    }
    if (!im.rgb || im.w <= 0 || im.h <= 0 || (int64_t)im.w * im.h > G4_IMAGE_MAX_PIXELS) __builtin_trap();
    uint64_t s = 0;
    size_t nb = (size_t)im.w * im.h * 3;
    for (size_t i = 0; i < nb; i += 4093) s += im.rgb[i]; /* the whole buffer must be readable */
    s += im.rgb[nb - 1];
    uint8_t tail = data[size - 1];
    if ((int64_t)im.w * im.h <= 256 * 1024) {
        int tw = 1 + (tail * 7 + im.w) % 97, th = 1 + (tail * 13 + im.h) % 89;
        if (g4_image_resize(&im, tw, th, &rs, err) != G4_OK || rs.w != tw || rs.h != th) __builtin_trap();
        s += rs.rgb[(size_t)tw * th * 3 - 1];
        g4_image_free(&rs);
        if ((tail & 15) == 0) {
            float *p = NULL;
            int *pos = NULL, n = 0;
            if (g4_image_patches(&im, 70, tail >> 4 & 1, &p, &pos, &n, err) != G4_OK) __builtin_trap();
            if (n <= 0 || n > 70) __builtin_trap();
            for (int i = 0; i < n; i++) s += (uint64_t)pos[2 * i] + (uint64_t)(p[(size_t)i * G4_PATCH_DIM] * 255.0f);
            g4_free(p);
            g4_free(pos);
        }
    }
    sink += s;
    g4_image_free(&im);
    return 0;
}
