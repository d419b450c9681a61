/* image_resize.c -- the reference's target size and its bicubic antialiased resize, bit for bit.
 *
 * Target size: transformers' get_aspect_ratio_preserving_size (patch 16, pooling 3, max_patches =
 * 9 * max_soft_tokens) in the same double arithmetic as the Python.
 *
 * Resize: torchvision's resize(uint8 CHW, BICUBIC, antialias=True) on CPU hands the uint8 tensor
 * straight to torch's _upsample_bicubic2d_aa, whose uint8 kernel is Pillow-style fixed point (it does
 * NOT go through float32):
 *   per axis, scale = in/out; support = 2*max(scale,1); taps = ceil(support)*2+1;
 *   output i: center = scale*(i+0.5), xmin = max(trunc(center-support+0.5), 0),
 *             xsize = min(trunc(center+support+0.5), in) - xmin (clamped to [0, taps]),
 *             w_j = cubic((j+xmin-center+0.5)/max(scale,1)) with Keys a = -0.5, normalised to sum 1;
 *   precision = the largest p < 22 with round(max_w * 2^(p+1)) < 2^15 (max over the whole axis);
 *   k_j = round-half-away(w_j * 2^p) as int16;
 *   pixel = clamp((2^(p-1) + sum k_j * in_j) >> p, 0, 255), sums in int32.
 * Horizontal pass first (only if the width changes) into a uint8 image, then vertical (only if the
 * height changes).  Integer sums, so the order of the taps does not matter and results are exact.
 */
#include "image.h"

#include <math.h>
#include <string.h>

g4_status g4_image_target_size(int w, int h, int max_soft_tokens, int *tw, int *th, char *err) {
    if (max_soft_tokens != 70 && max_soft_tokens != 140 && max_soft_tokens != 280 && max_soft_tokens != 560 &&
        max_soft_tokens != 1120)
        return g4_errf(err, G4_EINVAL, "image: bad max_soft_tokens (got %d, want 70, 140, 280, 560 or 1120)",
                       max_soft_tokens);
    if (w <= 0 || h <= 0) return g4_errf(err, G4_EINVAL, "image: empty image (got %dx%d)", w, h);
    const int patch = 16, pool = 3, side = patch * pool;
    int64_t max_patches = (int64_t)max_soft_tokens * pool * pool;
    int64_t total_px = (int64_t)h * w, target_px = max_patches * patch * patch;
    double factor = sqrt((double)target_px / (double)total_px);
    double ih = factor * h, iw = factor * w;
    int64_t oh = (int64_t)floor(ih / side) * side, ow = (int64_t)floor(iw / side) * side;
    if (oh == 0 && ow == 0)
        return g4_errf(err, G4_EINVAL, "image: %dx%d would resize to 0x0 (want sides divisible by %d)", w, h, side);
    int64_t max_side = (max_patches / (pool * pool)) * side;
    if (oh == 0) {
        oh = side;
        ow = G4_MIN((int64_t)floor((double)w / (double)h) * side, max_side);
    } else if (ow == 0) {
        ow = side;
        oh = G4_MIN((int64_t)floor((double)h / (double)w) * side, max_side);
    }
    if (oh * ow > target_px)
        return g4_errf(err, G4_EINVAL, "image: resizing %dx%d to %lldx%lld exceeds %lld patches", w, h, (long long)ow,
                       (long long)oh, (long long)max_patches);
    *tw = (int)ow, *th = (int)oh;
    return G4_OK;
}

/* one axis: taps start, count, int16 weights [out][taps], and the shift */
typedef struct {
    int taps, prec;
    int *xmin, *xsize;
    int16_t *k;
} axis_w;

static double cubic_aa(double x) { /* Keys cubic, a = -0.5 */
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2.0) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0.0;
}

static void axis_free(axis_w *a) {
    g4_free(a->xmin), g4_free(a->xsize), g4_free(a->k);
    memset(a, 0, sizeof *a);
}

static int axis_init(axis_w *a, int in, int out) {
    memset(a, 0, sizeof *a);
    double scale = (double)in / (double)out;
    double support = scale >= 1.0 ? 2.0 * scale : 2.0;
    double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
    int taps = (int)ceil(support) * 2 + 1;
    double *wf = g4_malloc(sizeof(double) * (size_t)out * taps);
    a->xmin = g4_malloc(sizeof(int) * (size_t)out);
    a->xsize = g4_malloc(sizeof(int) * (size_t)out);
    a->k = g4_malloc(sizeof(int16_t) * (size_t)out * taps);
    if (!wf || !a->xmin || !a->xsize || !a->k) {
        g4_free(wf);
        axis_free(a);
        return -1;
    }
    a->taps = taps;
    double wmax = 0.0;
    for (int i = 0; i < out; i++) {
        double center = scale * (i + 0.5);
        int64_t xmin = (int64_t)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int64_t xmax = (int64_t)(center + support + 0.5);
        if (xmax > in) xmax = in;
        int64_t xsize = xmax - xmin;
        if (xsize < 0) xsize = 0;
        if (xsize > taps) xsize = taps;
        double *w = wf + (size_t)i * taps, total = 0.0;
        int j = 0;
        for (; j < xsize; j++) {
            w[j] = cubic_aa(((double)(j + xmin) - center + 0.5) * invscale);
            total += w[j];
        }
        if (total != 0.0)
            for (j = 0; j < xsize; j++) {
                w[j] /= total;
                if (w[j] > wmax) wmax = w[j];
            }
        for (j = (int)xsize; j < taps; j++) w[j] = 0.0;
        a->xmin[i] = (int)xmin, a->xsize[i] = (int)xsize;
    }
    int p = 0;
    for (p = 0; p < 22; p++)
        if ((int)(0.5 + wmax * (double)(1 << (p + 1))) >= (1 << 15)) break;
    a->prec = p;
    for (size_t i = 0; i < (size_t)out * taps; i++) {
        double v = wf[i] * (double)(1 << p);
        a->k[i] = (int16_t)(v < 0 ? (int)(-0.5 + v) : (int)(0.5 + v));
    }
    g4_free(wf);
    return 0;
}

/* Accumulators are int32 like torch's: precision <= 22 and the absolute weights of an output sum to
 * well under 1.5 (the cubic's negative lobes are small), so |sum| < 2^22 * 1.5 * 255 + 2^21 < 2^31. */
static uint8_t fixed_to_u8(int32_t s, int prec) {
    if (s < 0) return 0;
    s >>= prec;
    return (uint8_t)(s > 255 ? 255 : s);
}

static int32_t half_of(const axis_w *a) { return a->prec > 0 ? (int32_t)1 << (a->prec - 1) : 0; }

/* `rows` rows of RGB: in has `win` columns, out `wout` */
static void pass_h(const uint8_t *in, int win, int rows, uint8_t *out, int wout, const axis_w *a) {
    const int32_t half = half_of(a);
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)y * win * 3;
        uint8_t *dst = out + (size_t)y * wout * 3;
        for (int x = 0; x < wout; x++) {
            const int16_t *k = a->k + (size_t)x * a->taps;
            const uint8_t *s = src + (size_t)a->xmin[x] * 3;
            int32_t r = half, g = half, b = half;
            for (int j = 0, nj = a->xsize[x]; j < nj; j++, s += 3) r += k[j] * s[0], g += k[j] * s[1], b += k[j] * s[2];
            dst[3 * x] = fixed_to_u8(r, a->prec), dst[3 * x + 1] = fixed_to_u8(g, a->prec);
            dst[3 * x + 2] = fixed_to_u8(b, a->prec);
        }
    }
}

/* rows of w RGB pixels; acc: scratch for one row of sums */
static void pass_v(const uint8_t *in, int w, uint8_t *out, int hout, const axis_w *a, int32_t *acc) {
    const int32_t half = half_of(a);
    const size_t stride = (size_t)w * 3;
    for (int y = 0; y < hout; y++) {
        const int16_t *k = a->k + (size_t)y * a->taps;
        for (size_t c = 0; c < stride; c++) acc[c] = half;
        for (int j = 0, nj = a->xsize[y]; j < nj; j++) {
            const uint8_t *row = in + (size_t)(a->xmin[y] + j) * stride;
            const int32_t kj = k[j];
            for (size_t c = 0; c < stride; c++) acc[c] += kj * row[c];
        }
        uint8_t *dst = out + (size_t)y * stride;
        for (size_t c = 0; c < stride; c++) dst[c] = fixed_to_u8(acc[c], a->prec);
    }
}

g4_status g4_image_resize(const g4_image *in, int tw, int th, g4_image *out, char *err) {
    memset(out, 0, sizeof *out);
    if (!in || !in->rgb || in->w <= 0 || in->h <= 0)
        return g4_errf(err, G4_EINVAL, "image: resize of an empty image");
    if (tw <= 0 || th <= 0 || (int64_t)tw * th > G4_IMAGE_MAX_PIXELS)
        return g4_errf(err, G4_EINVAL, "image: bad resize target (got %dx%d)", tw, th);
    int w = in->w, h = in->h;
    uint8_t *dst = g4_malloc((size_t)tw * th * 3);
    if (!dst) return g4_errf(err, G4_ENOMEM, "image: out of memory for a %dx%d image", tw, th);
    if (tw == w && th == h) {
        memcpy(dst, in->rgb, (size_t)w * h * 3);
        out->w = w, out->h = h, out->rgb = dst;
        return G4_OK;
    }
    axis_w ax = {0}, ay = {0};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    if ((tw != w && axis_init(&ax, w, tw)) || (th != h && axis_init(&ay, h, th))) goto oom;
    if (th != h && !(acc = g4_malloc(sizeof(int32_t) * (size_t)tw * 3))) goto oom;
    const uint8_t *src = in->rgb;
    if (tw != w) {
        uint8_t *hout = dst;
        if (th != h) {
            tmp = g4_malloc((size_t)tw * h * 3);
            if (!tmp) goto oom;
            hout = tmp;
        }
        pass_h(src, w, h, hout, tw, &ax);
        src = hout;
    }
    if (th != h) pass_v(src, tw, dst, th, &ay, acc);
    g4_free(tmp), g4_free(acc);
    axis_free(&ax), axis_free(&ay);
    out->w = tw, out->h = th, out->rgb = dst;
    return G4_OK;
oom:
    g4_free(tmp), g4_free(acc), g4_free(dst);
    axis_free(&ax), axis_free(&ay);
    return g4_errf(err, G4_ENOMEM, "image: out of memory resizing %dx%d to %dx%d", w, h, tw, th);
}
