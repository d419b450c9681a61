/* image.h -- still images for the vision path: decode, resize and cut into 48x48 patches exactly as
 * transformers' Gemma4UnifiedImageProcessor does (shared/spec/gemma4-12b.md §2.1).
 *
 * The reference (transformers 5.23 with torchcodec) decodes a file with torchcodec's decode_image
 * (libjpeg-turbo, libpng, libwebp, EXIF orientation applied, mode RGB), resizes the uint8 image with
 * torchvision's bicubic antialiased resize, rescales by 1/255 and patchifies.  We decode with the same
 * codec libraries so pixels are identical, and use FFmpeg for the formats those do not cover.
 */
#ifndef G4_IMAGE_H
#define G4_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/common.h"

#define G4_PATCH_PX 48                                   /* model patch side (16-px teacher patches x 3) */
#define G4_PATCH_DIM (G4_PATCH_PX * G4_PATCH_PX * 3)     /* 6912 */
#define G4_IMAGE_MAX_PIXELS ((int64_t)100 * 1000 * 1000) /* refuse larger images before decoding them */

typedef struct {
    int w, h;
    uint8_t *rgb; /* h rows of w pixels, RGB interleaved (HWC) */
} g4_image;

/* Decode a PNG, JPEG, WebP, GIF (first frame) or BMP from memory; `name` is used in errors only. */
g4_status g4_image_decode(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err);
g4_status g4_image_load(g4_image *out, const char *path, char *err);
void g4_image_free(g4_image *im);

/* The reference's aspect-preserving target size for a budget of max_soft_tokens (70, 140, 280, 560,
 * 1120): both sides multiples of 48, (tw/48)*(th/48) <= max_soft_tokens. */
g4_status g4_image_target_size(int w, int h, int max_soft_tokens, int *tw, int *th, char *err);

/* torchvision's resize(uint8 image, [th, tw], BICUBIC, antialias=True): float math, rounded, clamped. */
g4_status g4_image_resize(const g4_image *in, int tw, int th, g4_image *out, char *err);

/* Resize (when the size differs) and cut into (th/48)*(tw/48) patches of G4_PATCH_DIM floats
 * (pixel * float32(1/255), as torch rescales) in row-major patch order; inside a patch (y, x, c) with c innermost (HF layout), or
 * (c, y, x) when chw (llama.cpp's mmproj layout).  pos gets (x, y) in patch units per patch.
 * *patches and *pos are g4_malloc'ed; the caller g4_free()s them. */
g4_status g4_image_patches(const g4_image *im, int max_soft_tokens, int chw, float **patches, int **pos, int *n,
                           char *err);

#endif
