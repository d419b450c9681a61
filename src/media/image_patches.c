/* image_patches.c -- cut the resized image into the 48x48 model patches of Gemma4UnifiedImageProcessor.
 *
 * The reference patchifies into 16-px teacher patches and merges 3x3 of them (patches_merge); the net
 * effect is one vector per 48x48 block, blocks in row-major order (gy major), each block's pixels in
 * row-major (y, x) order with the channel innermost, values pixel * (float)(1/255) -- torch multiplies
 * the uint8 tensor by the Python float 1/255 in float32, which is not always pixel/255.0f.  Position
 * of block (gy, gx) is (x = gx, y = gy).  chw = 1 gives llama.cpp's (c, y, x) order instead.
 */
#include "image.h"

#include <string.h>

g4_status g4_image_patches(const g4_image *im, int max_soft_tokens, int chw, float **patches, int **pos, int *n,
                           char *err) {
    *patches = NULL, *pos = NULL, *n = 0;
    if (!im || !im->rgb || im->w <= 0 || im->h <= 0) return g4_errf(err, G4_EINVAL, "image: no pixels to patchify");
    int tw, th;
    g4_status st = g4_image_target_size(im->w, im->h, max_soft_tokens, &tw, &th, err);
    if (st) return st;
    g4_image rs = {0};
    const g4_image *src = im;
    if (tw != im->w || th != im->h) {
        if ((st = g4_image_resize(im, tw, th, &rs, err))) return st;
        src = &rs;
    }
    int gw = tw / G4_PATCH_PX, gh = th / G4_PATCH_PX, np = gw * gh;
    float *pv = g4_malloc(sizeof(float) * (size_t)np * G4_PATCH_DIM);
    int *pp = g4_malloc(sizeof(int) * 2 * (size_t)np);
    if (!pv || !pp) {
        g4_free(pv), g4_free(pp), g4_image_free(&rs);
        return g4_errf(err, G4_ENOMEM, "image: out of memory for %d patches", np);
    }
    float lut[256];
    const float scale = (float)(1.0 / 255.0);
    for (int v = 0; v < 256; v++) lut[v] = (float)v * scale;
    const int P = G4_PATCH_PX;
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            int i = gy * gw + gx;
            float *v = pv + (size_t)i * G4_PATCH_DIM;
            for (int y = 0; y < P; y++) {
                const uint8_t *row = src->rgb + ((size_t)(gy * P + y) * tw + (size_t)gx * P) * 3;
                for (int x = 0; x < P; x++)
                    for (int c = 0; c < 3; c++) {
                        float f = lut[row[x * 3 + c]];
                        if (chw) v[c * P * P + y * P + x] = f;
                        else v[(y * P + x) * 3 + c] = f;
                    }
            }
            pp[2 * i] = gx, pp[2 * i + 1] = gy;
        }
    g4_image_free(&rs);
    *patches = pv, *pos = pp, *n = np;
    return G4_OK;
}
