/* image.c -- decode a still image to 8-bit RGB the way the reference does.
 *
 * The reference (transformers -> torchcodec decode_image(mode=RGB)) sniffs the format from the first
 * bytes and decodes JPEG with libjpeg-turbo, PNG with libpng and WebP with libwebp, then applies the
 * EXIF orientation.  We call the same libraries the same way, so pixels match exactly:
 *   JPEG  RGB from libjpeg (islow IDCT, fancy upsampling: the defaults); CMYK/YCCK decoded as CMYK and
 *         converted like torchcodec: channel = round(cmy * k / 255) on libjpeg's (Adobe-inverted) values.
 *   PNG   palette/gray expanded to RGB, alpha (and tRNS) simply dropped -- no compositing; 16-bit samples
 *         become round(v / 257).
 *   WebP  RGB with alpha dropped; an animation gives its first (canvas-composited) frame.
 *   EXIF  the first APP1 segment of a JPEG, a PNG eXIf chunk before IDAT, a WebP EXIF chunk: IFD0 tag
 *         0x0112 = 2..8 flips/transposes the result (torchcodec's parser, reproduced quirk for quirk).
 * GIF, BMP (and TIFF, PNM, QOI) go through libavformat/libavcodec (see decode_ffmpeg below).
 * Images whose header declares more than G4_IMAGE_MAX_PIXELS pixels or a side over 50000 are refused
 * before any pixel is decoded.
 */
#include "image.h"
#include "ffmpeg_io.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#define MAX_SIDE 50000
#define MAX_FILE ((size_t)1 << 30) /* g4_image_load refuses bigger files */

/* ---- common helpers ---- */

static g4_status check_dims(int64_t w, int64_t h, const char *name, char *err) {
    if (w <= 0 || h <= 0)
        return g4_errf(err, G4_EFORMAT, "%s: empty image (got %lldx%lld)", name, (long long)w, (long long)h);
    if (w > MAX_SIDE || h > MAX_SIDE)
        return g4_errf(err, G4_EINVAL, "%s: image too large (got %lldx%lld, want sides <= %d)", name,
                       (long long)w, (long long)h, MAX_SIDE);
    if (w * h > G4_IMAGE_MAX_PIXELS)
        return g4_errf(err, G4_EINVAL, "%s: image too large (got %lldx%lld = %lld pixels, want <= %lld)", name,
                       (long long)w, (long long)h, (long long)(w * h), (long long)G4_IMAGE_MAX_PIXELS);
    return G4_OK;
}

static uint8_t *alloc_rgb(int w, int h) { return g4_malloc((size_t)w * (size_t)h * 3); }

/* ---- EXIF orientation (torchcodec's Exif.h behaviour, including its quirks: a missing or foreign
 * byte-order mark reads big-endian, an out-of-range read yields 0xFFFF, offsets are 32-bit) ---- */

static uint32_t exif_u16(const uint8_t *p, size_t n, int le, size_t off) {
    if (off + 1 >= n) return 0xFFFF;
    return le ? (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 : (uint32_t)p[off] << 8 | p[off + 1];
}

static uint32_t exif_u32(const uint8_t *p, size_t n, int le, size_t off) {
    if (off + 3 >= n) return 0xFFFF;
    if (le) return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
    return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
}

/* p points at the TIFF header ("II*\0" / "MM\0*"); returns the orientation value or -1 */
static int exif_orientation(const uint8_t *p, size_t n) {
    if (!p || n == 0) return -1;
    int le = n >= 2 && p[0] == 'I' && p[1] == 'I';
    if (exif_u16(p, n, le, 2) != 0x2A) return -1;
    uint32_t off = exif_u32(p, n, le, 4);
    uint32_t count = exif_u16(p, n, le, off);
    off += 2;
    for (uint32_t e = 0; e < count; e++) {
        uint32_t tag = exif_u16(p, n, le, off);
        if (tag == 0xFFFF) break;
        if (tag == 0x0112) return (int)exif_u16(p, n, le, (uint32_t)(off + 8));
        off += 12;
    }
    return -1;
}

/* Flip/transpose the decoded image for EXIF orientation 2..8 (others: unchanged). */
static g4_status apply_orientation(g4_image *im, int o, const char *name, char *err) {
    if (o < 2 || o > 8) return G4_OK;
    int W = im->w, H = im->h, tr = o >= 5;
    int ow = tr ? H : W, oh = tr ? W : H;
    uint8_t *dst = alloc_rgb(ow, oh);
    if (!dst) return g4_errf(err, G4_ENOMEM, "%s: out of memory rotating a %dx%d image", name, W, H);
    for (int y = 0; y < oh; y++) {
        uint8_t *d = dst + (size_t)y * ow * 3;
        for (int x = 0; x < ow; x++, d += 3) {
            int sy, sx;
            switch (o) {
            case 2: sy = y, sx = W - 1 - x; break;
            case 3: sy = H - 1 - y, sx = W - 1 - x; break;
            case 4: sy = H - 1 - y, sx = x; break;
            case 5: sy = x, sx = y; break;
            case 6: sy = H - 1 - x, sx = y; break;
            case 7: sy = H - 1 - x, sx = W - 1 - y; break;
            default: sy = x, sx = W - 1 - y; break; /* 8 */
            }
            const uint8_t *s = im->rgb + ((size_t)sy * W + sx) * 3;
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
    }
    g4_free(im->rgb);
    im->rgb = dst, im->w = ow, im->h = oh;
    return G4_OK;
}

/* ---- JPEG (libjpeg-turbo) ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr c) {
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}
static void jpeg_silent(j_common_ptr c) { (void)c; } /* warnings: the library never prints */

static void jsrc_init(j_decompress_ptr c) { (void)c; }
static void jsrc_term(j_decompress_ptr c) { (void)c; }
static boolean jsrc_fill(j_decompress_ptr c) { /* no more data: a truncated image is an error */
    jpeg_err *e = (jpeg_err *)c->err;
    snprintf(e->msg, sizeof e->msg, "image is incomplete or truncated");
    longjmp(e->jb, 1);
}
static void jsrc_skip(j_decompress_ptr c, long n) {
    static const JOCTET eoi[2] = {0xFF, JPEG_EOI};
    struct jpeg_source_mgr *s = c->src;
    if (n <= 0) return;
    if (s->bytes_in_buffer < (size_t)n) { /* skipping past the end: pretend an EOI follows */
        s->next_input_byte = eoi + 1;
        s->bytes_in_buffer = 1;
    } else {
        s->next_input_byte += n;
        s->bytes_in_buffer -= (size_t)n;
    }
}

static uint8_t cmyk_chan(int cmy, int k) { return (uint8_t)((cmy * k + 127) / 255); }

static g4_status decode_jpeg(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err) {
    struct jpeg_decompress_struct ci;
    struct jpeg_source_mgr src;
    jpeg_err je;
    uint8_t *volatile rgb = NULL;
    uint8_t *volatile line = NULL;
    volatile g4_status st = G4_EFORMAT;
    memset(&ci, 0, sizeof ci);
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_on_error;
    je.pub.output_message = jpeg_silent;
    je.msg[0] = 0;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&ci);
        g4_free(rgb);
        g4_free(line);
        if (st == G4_ENOMEM) return g4_errf(err, G4_ENOMEM, "%s: out of memory decoding JPEG", name);
        return g4_errf(err, G4_EFORMAT, "%s: bad JPEG: %s", name, je.msg);
    }
    jpeg_create_decompress(&ci);
    src.init_source = jsrc_init;
    src.fill_input_buffer = jsrc_fill;
    src.skip_input_data = jsrc_skip;
    src.resync_to_restart = jpeg_resync_to_restart;
    src.term_source = jsrc_term;
    src.next_input_byte = buf;
    src.bytes_in_buffer = n;
    ci.src = &src;
    jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&ci, TRUE);

    g4_status ds = check_dims(ci.image_width, ci.image_height, name, err);
    if (ds) {
        jpeg_destroy_decompress(&ci);
        return ds;
    }
    int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;

    int orient = -1;
    for (jpeg_saved_marker_ptr m = ci.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1) { /* the first APP1, whatever it holds (as torchcodec) */
            if (m->data_length > 6) orient = exif_orientation(m->data + 6, m->data_length - 6);
            break;
        }

    jpeg_start_decompress(&ci);
    int w = (int)ci.output_width, h = (int)ci.output_height;
    if (check_dims(w, h, name, err) || ci.output_components != (cmyk ? 4 : 3)) {
        snprintf(je.msg, sizeof je.msg, "unexpected output %dx%dx%d", w, h, ci.output_components);
        longjmp(je.jb, 1);
    }
    rgb = alloc_rgb(w, h);
    if (cmyk) line = g4_malloc((size_t)w * 4);
    if (!rgb || (cmyk && !line)) {
        st = G4_ENOMEM;
        longjmp(je.jb, 1);
    }
    while (ci.output_scanline < ci.output_height) {
        uint8_t *row = rgb + (size_t)ci.output_scanline * w * 3;
        JSAMPROW rp = cmyk ? line : row;
        if (jpeg_read_scanlines(&ci, &rp, 1) != 1) {
            snprintf(je.msg, sizeof je.msg, "no scanline read");
            longjmp(je.jb, 1);
        }
        if (cmyk)
            for (int x = 0; x < w; x++) {
                const uint8_t *p = line + (size_t)x * 4;
                row[x * 3 + 0] = cmyk_chan(p[0], p[3]);
                row[x * 3 + 1] = cmyk_chan(p[1], p[3]);
                row[x * 3 + 2] = cmyk_chan(p[2], p[3]);
            }
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    g4_free(line);
    out->w = w, out->h = h, out->rgb = rgb;
    return apply_orientation(out, orient, name, err);
}

/* ---- PNG (libpng) ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
    char msg[256];
} png_src;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}
static void png_on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void png_read_cb(png_structp png, png_bytep dst, size_t n) {
    png_src *s = png_get_io_ptr(png);
    if (s->left < n) png_error(png, "out of bound read (truncated image)");
    memcpy(dst, s->p, n);
    s->p += n, s->left -= n;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static g4_status decode_png(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err) {
    /* refuse from the IHDR bytes before libpng allocates anything */
    if (n >= 24 && !memcmp(buf + 12, "IHDR", 4)) {
        g4_status ds = check_dims(be32(buf + 16), be32(buf + 20), name, err);
        if (ds) return ds;
    }
    png_src s = {buf, n, {0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory creating the PNG decoder", name);
    }
    uint8_t *volatile px = NULL;
    volatile g4_status st = G4_EFORMAT;
    volatile int err_set = 0; /* err already filled (check_dims) */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        g4_free(px);
        if (err_set) return st;
        if (st == G4_ENOMEM) return g4_errf(err, G4_ENOMEM, "%s: out of memory decoding PNG", name);
        return g4_errf(err, G4_EFORMAT, "%s: bad PNG: %s", name, s.msg);
    }
    png_set_read_fn(png, &s, png_read_cb);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    if (png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL) != 1) png_error(png, "no IHDR");
    g4_status ds = check_dims(w, h, name, err);
    if (ds) {
        st = ds, err_set = 1;
        png_longjmp(png, 1);
    }
    if (depth > 8 && depth != 16) png_error(png, "unsupported bit depth");
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    int passes = interlace == PNG_INTERLACE_ADAM7 ? png_set_interlace_handling(png) : 1;
    if (ctype != PNG_COLOR_TYPE_RGB) {
        int alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0;
        if (ctype & PNG_COLOR_MASK_PALETTE) {
            png_set_palette_to_rgb(png); /* also expands tRNS to alpha, dropped below */
            alpha = 1;
        } else if (!(ctype & PNG_COLOR_MASK_COLOR)) {
            png_set_gray_to_rgb(png);
        }
        if (alpha) png_set_strip_alpha(png);
    }
    png_read_update_info(png, info);
    int bps = depth == 16 ? 2 : 1;
    size_t rowbytes = (size_t)w * 3 * bps;
    if (png_get_rowbytes(png, info) != rowbytes || png_get_channels(png, info) != 3) png_error(png, "unexpected row layout");
    px = g4_malloc(rowbytes * h);
    if (!px) {
        st = G4_ENOMEM;
        png_longjmp(png, 1);
    }
    for (int p = 0; p < passes; p++)
        for (png_uint_32 y = 0; y < h; y++) png_read_row(png, px + rowbytes * y, NULL);

    int orient = -1;
    png_uint_32 nexif = 0;
    png_bytep exif = NULL;
    if (png_get_valid(png, info, PNG_INFO_eXIf)) png_get_eXIf_1(png, info, &nexif, &exif);
    if (exif && nexif > 0) orient = exif_orientation(exif, nexif);
    png_destroy_read_struct(&png, &info, NULL);

    uint8_t *rgb = px;
    if (bps == 2) { /* big-endian 16-bit -> round(v / 257), in place (reads run ahead of writes) */
        size_t cnt = (size_t)w * h * 3;
        for (size_t i = 0; i < cnt; i++) {
            uint32_t v = (uint32_t)px[2 * i] << 8 | px[2 * i + 1];
            px[i] = (uint8_t)((2 * v + 257) / 514);
        }
        uint8_t *r = g4_realloc(px, cnt);
        if (r) rgb = r;
    }
    out->w = (int)w, out->h = (int)h, out->rgb = rgb;
    return apply_orientation(out, orient, name, err);
}

/* ---- WebP (libwebp, libwebpdemux) ---- */

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int webp_orientation(const uint8_t *d, size_t n) {
    if (n < 12 || memcmp(d, "RIFF", 4) || memcmp(d + 8, "WEBP", 4)) return -1;
    size_t off = 12;
    while (off + 8 <= n) {
        uint32_t sz = le32(d + off + 4);
        size_t pay = off + 8;
        if (sz > n - pay) break;
        if (!memcmp(d + off, "EXIF", 4)) {
            const uint8_t *e = d + pay;
            size_t en = sz;
            if (en >= 6 && !memcmp(e, "Exif\0\0", 6)) e += 6, en -= 6;
            return en ? exif_orientation(e, en) : -1;
        }
        off = pay + sz + (sz & 1);
    }
    return -1;
}

static g4_status decode_webp(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err) {
    WebPBitstreamFeatures f;
    VP8StatusCode vs = WebPGetFeatures(buf, n, &f);
    if (vs != VP8_STATUS_OK) return g4_errf(err, G4_EFORMAT, "%s: bad WebP header (status %d)", name, (int)vs);
    g4_status st = check_dims(f.width, f.height, name, err);
    if (st) return st;
    int w = f.width, h = f.height;
    uint8_t *rgb = alloc_rgb(w, h);
    if (!rgb) return g4_errf(err, G4_ENOMEM, "%s: out of memory for a %dx%d image", name, w, h);
    if (!f.has_animation) {
        if (!WebPDecodeRGBInto(buf, n, rgb, (size_t)w * h * 3, w * 3)) {
            g4_free(rgb);
            return g4_errf(err, G4_EFORMAT, "%s: bad WebP bitstream (%dx%d): corrupted or truncated", name, w, h);
        }
    } else { /* animated: the first frame as composited on the canvas, alpha dropped */
        WebPAnimDecoderOptions o;
        WebPData wd = {buf, n};
        if (!WebPAnimDecoderOptionsInit(&o)) {
            g4_free(rgb);
            return g4_errf(err, G4_EUNSUPPORTED, "%s: libwebpdemux version mismatch", name);
        }
        o.color_mode = MODE_RGBA;
        o.use_threads = 0;
        WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &o);
        WebPAnimInfo ai;
        uint8_t *fr = NULL;
        int ts = 0;
        if (!dec || !WebPAnimDecoderGetInfo(dec, &ai) || (int)ai.canvas_width != w || (int)ai.canvas_height != h ||
            !WebPAnimDecoderGetNext(dec, &fr, &ts) || !fr) {
            WebPAnimDecoderDelete(dec);
            g4_free(rgb);
            return g4_errf(err, G4_EFORMAT, "%s: bad animated WebP: corrupted or truncated", name);
        }
        for (size_t i = 0, np = (size_t)w * h; i < np; i++)
            rgb[3 * i] = fr[4 * i], rgb[3 * i + 1] = fr[4 * i + 1], rgb[3 * i + 2] = fr[4 * i + 2];
        WebPAnimDecoderDelete(dec);
    }
    out->w = w, out->h = h, out->rgb = rgb;
    return apply_orientation(out, webp_orientation(buf, n), name, err);
}

/* ---- everything else through FFmpeg (GIF, BMP, and single-image "*_pipe" formats) ----
 *
 * torchcodec decodes GIF with giflib: the first frame is drawn over a canvas filled with the global
 * palette's background colour (black without a global palette), transparent pixels showing the canvas.
 * FFmpeg's GIF decoder leaves those pixels at alpha 0, so we paint them with that background colour.
 * BMP is not a torchcodec format (the reference fails); we follow PIL's Image.open().convert("RGB"):
 * alpha dropped, 5/6-bit channels scaled as v * 255 / 31 (or 63). */

typedef struct {
    const uint8_t *p;
    size_t n, pos;
} mem_io;

static int mem_read(void *opaque, uint8_t *dst, int len) {
    mem_io *m = opaque;
    size_t left = m->n - m->pos;
    if (left == 0) return AVERROR_EOF;
    size_t k = (size_t)len < left ? (size_t)len : left;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    return (int)k;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence) {
    mem_io *m = opaque;
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return (int64_t)m->n;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)m->pos; break;
    case SEEK_END: base = (int64_t)m->n; break;
    default: return AVERROR(EINVAL);
    }
    if (off > (int64_t)m->n - base || off < -base) return AVERROR(EINVAL);
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

/* header-declared size of a GIF or BMP (0 when unknown), for the refusal before decoding */
static void peek_dims(const uint8_t *b, size_t n, int64_t *w, int64_t *h) {
    *w = *h = 0;
    if (n >= 10 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) {
        *w = b[6] | b[7] << 8, *h = b[8] | b[9] << 8;
    } else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        uint32_t hs = le32(b + 14);
        if (hs == 12) {
            *w = b[18] | b[19] << 8, *h = b[20] | b[21] << 8;
        } else {
            int64_t bw = (int32_t)le32(b + 18), bh = (int32_t)le32(b + 22);
            *w = bw < 0 ? -bw : bw, *h = bh < 0 ? -bh : bh;
        }
    }
}

static uint8_t scale_bits(unsigned v, unsigned max) { return (uint8_t)(v * 255 / max); }

/* AVFrame -> packed RGB; returns 0 on success, -1 for an unknown pixel format (caller uses swscale) */
static int frame_to_rgb(const AVFrame *fr, uint8_t *rgb) {
    int w = fr->width, h = fr->height;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = fr->data[0] + (ptrdiff_t)y * fr->linesize[0];
        uint8_t *d = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++, d += 3) {
            switch (fr->format) {
            case AV_PIX_FMT_RGB24: d[0] = s[3 * x], d[1] = s[3 * x + 1], d[2] = s[3 * x + 2]; break;
            case AV_PIX_FMT_BGR24: d[0] = s[3 * x + 2], d[1] = s[3 * x + 1], d[2] = s[3 * x]; break;
            case AV_PIX_FMT_RGBA:
            case AV_PIX_FMT_RGB0: d[0] = s[4 * x], d[1] = s[4 * x + 1], d[2] = s[4 * x + 2]; break;
            case AV_PIX_FMT_BGRA:
            case AV_PIX_FMT_BGR0: d[0] = s[4 * x + 2], d[1] = s[4 * x + 1], d[2] = s[4 * x]; break;
            case AV_PIX_FMT_ARGB:
            case AV_PIX_FMT_0RGB: d[0] = s[4 * x + 1], d[1] = s[4 * x + 2], d[2] = s[4 * x + 3]; break;
            case AV_PIX_FMT_ABGR:
            case AV_PIX_FMT_0BGR: d[0] = s[4 * x + 3], d[1] = s[4 * x + 2], d[2] = s[4 * x + 1]; break;
            case AV_PIX_FMT_GRAY8: d[0] = d[1] = d[2] = s[x]; break;
            case AV_PIX_FMT_PAL8: {
                uint32_t c; /* palette entries: native-endian 0xAARRGGBB */
                memcpy(&c, fr->data[1] + 4 * (size_t)s[x], 4);
                d[0] = (uint8_t)(c >> 16), d[1] = (uint8_t)(c >> 8), d[2] = (uint8_t)c;
                break;
            }
            case AV_PIX_FMT_MONOWHITE:
            case AV_PIX_FMT_MONOBLACK: {
                int bit = (s[x >> 3] >> (7 - (x & 7))) & 1;
                d[0] = d[1] = d[2] = (bit ^ (fr->format == AV_PIX_FMT_MONOWHITE)) ? 255 : 0;
                break;
            }
            case AV_PIX_FMT_RGB555LE: {
                unsigned v = s[2 * x] | s[2 * x + 1] << 8;
                d[0] = scale_bits(v >> 10 & 31, 31), d[1] = scale_bits(v >> 5 & 31, 31), d[2] = scale_bits(v & 31, 31);
                break;
            }
            case AV_PIX_FMT_RGB565LE: {
                unsigned v = s[2 * x] | s[2 * x + 1] << 8;
                d[0] = scale_bits(v >> 11 & 31, 31), d[1] = scale_bits(v >> 5 & 63, 63), d[2] = scale_bits(v & 31, 31);
                break;
            }
            default: return -1;
            }
        }
    }
    return 0;
}

static g4_status decode_ffmpeg(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err) {
    int64_t pw, ph;
    peek_dims(buf, n, &pw, &ph);
    if (pw || ph) {
        g4_status ds = check_dims(pw, ph, name, err);
        if (ds) return ds;
    }
    int is_gif = n >= 6 && (!memcmp(buf, "GIF87a", 6) || !memcmp(buf, "GIF89a", 6));
    const AVInputFormat *ifmt = NULL;
    if (is_gif) {
        ifmt = av_find_input_format("gif");
    } else {
        AVProbeData pd = {.filename = "", .buf = NULL, .buf_size = 0};
        size_t pn = n < 4096 ? n : 4096;
        uint8_t *pb = g4_calloc(1, pn + AVPROBE_PADDING_SIZE);
        if (!pb) return g4_errf(err, G4_ENOMEM, "%s: out of memory probing the format", name);
        memcpy(pb, buf, pn);
        pd.buf = pb, pd.buf_size = (int)pn;
        ifmt = av_probe_input_format(&pd, 1);
        g4_free(pb);
        /* a short list of still-image formats: arbitrary bytes must not reach every FFmpeg demuxer */
        static const char *const ok[] = {"bmp_pipe", "tiff_pipe", "ppm_pipe", "pgm_pipe", "pbm_pipe", "pam_pipe",
                                          "qoi_pipe"};
        int known = 0;
        for (size_t i = 0; ifmt && i < sizeof ok / sizeof *ok; i++) known |= !strcmp(ifmt->name, ok[i]);
        if (!known) ifmt = NULL;
    }
    if (!ifmt)
        return g4_errf(err, G4_EFORMAT, "%s: unknown image format (want PNG, JPEG, WebP, GIF, BMP, TIFF, PNM or QOI)", name);

    g4_av_quiet(); /* FFmpeg's process-wide settings: no logging, bounded allocations */
    g4_status st = G4_EFORMAT;
    const char *why = "cannot decode";
    mem_io mio = {buf, n, 0};
    AVFormatContext *fc = NULL;
    AVIOContext *io = NULL;
    AVCodecContext *cc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    uint8_t *iobuf = av_malloc(4096);
    uint8_t *rgb = NULL;
    int got = 0;
    if (!pkt || !fr || !iobuf) goto oom;
    io = avio_alloc_context(iobuf, 4096, 0, &mio, mem_read, NULL, mem_seek);
    if (!io) goto oom;
    iobuf = NULL; /* owned by io now */
    fc = avformat_alloc_context();
    if (!fc) goto oom;
    fc->pb = io;
    fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (avformat_open_input(&fc, NULL, ifmt, NULL) < 0) { /* frees fc on failure */
        why = "cannot open";
        goto done;
    }
    if (fc->nb_streams < 1 || fc->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) {
        why = "no image stream";
        goto done;
    }
    const AVCodec *codec = avcodec_find_decoder(fc->streams[0]->codecpar->codec_id);
    if (!codec) {
        st = G4_EUNSUPPORTED;
        why = "no decoder";
        goto done;
    }
    cc = avcodec_alloc_context3(codec);
    if (!cc) goto oom;
    if (avcodec_parameters_to_context(cc, fc->streams[0]->codecpar) < 0) goto done;
    cc->max_pixels = G4_IMAGE_MAX_PIXELS;
    cc->thread_count = 1;
    if (avcodec_open2(cc, codec, NULL) < 0) {
        why = "cannot open the decoder";
        goto done;
    }
    int eof = 0;
    while (!got) {
        int r = avcodec_receive_frame(cc, fr);
        if (r == 0) {
            got = 1;
            break;
        }
        if (r != AVERROR(EAGAIN) || eof) break;
        r = av_read_frame(fc, pkt);
        if (r < 0) {
            eof = 1;
            avcodec_send_packet(cc, NULL);
            continue;
        }
        if (pkt->stream_index == 0) avcodec_send_packet(cc, pkt);
        av_packet_unref(pkt);
    }
    if (!got) {
        why = "no frame decoded (corrupt or truncated)";
        goto done;
    }
    if ((st = check_dims(fr->width, fr->height, name, err))) goto done_quiet;
    st = G4_EFORMAT;
    rgb = alloc_rgb(fr->width, fr->height);
    if (!rgb) goto oom;
    if (frame_to_rgb(fr, rgb) < 0) {
        struct SwsContext *sws = sws_getContext(fr->width, fr->height, fr->format, fr->width, fr->height,
                                                AV_PIX_FMT_RGB24, SWS_POINT | SWS_BITEXACT | SWS_ACCURATE_RND, NULL,
                                                NULL, NULL);
        if (!sws) {
            why = "unsupported pixel format";
            goto done;
        }
        g4_free(rgb);
        (void)g4_av_sws_rgb24(sws, fr, fr->width, fr->height, &rgb); /* padded rows: see ffmpeg_io.h */
        sws_freeContext(sws);
        if (!rgb) goto oom;
    }
    int aoff = fr->format == AV_PIX_FMT_BGRA ? 3 : fr->format == AV_PIX_FMT_ARGB ? 0 : -1;
    if (is_gif && aoff >= 0) { /* canvas and transparent pixels (alpha 0) -> background colour */
        uint8_t bg[3] = {0, 0, 0};
        if (n >= 13 && (buf[10] & 0x80)) {
            size_t ncol = (size_t)2 << (buf[10] & 7);
            if (buf[11] < ncol && 13 + 3 * (size_t)buf[11] + 3 <= n) memcpy(bg, buf + 13 + 3 * (size_t)buf[11], 3);
        }
        for (int y = 0; y < fr->height; y++) {
            const uint8_t *s = fr->data[0] + (ptrdiff_t)y * fr->linesize[0];
            uint8_t *d = rgb + (size_t)y * fr->width * 3;
            for (int x = 0; x < fr->width; x++)
                if (s[4 * x + aoff] == 0) memcpy(d + 3 * x, bg, 3);
        }
    }
    out->w = fr->width, out->h = fr->height, out->rgb = rgb;
    rgb = NULL;
    st = G4_OK;
    goto done_quiet;
oom:
    st = G4_ENOMEM;
    why = "out of memory";
done:
    if (st == G4_ENOMEM) g4_errf(err, st, "%s: out of memory decoding the image", name);
    else g4_errf(err, st, "%s: bad %s image: %s", name, ifmt->name, why);
done_quiet:
    g4_free(rgb);
    avcodec_free_context(&cc);
    if (fc) avformat_close_input(&fc);
    if (io) {
        av_freep(&io->buffer);
        avio_context_free(&io);
    }
    av_free(iobuf);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    return st;
}

/* ---- public ---- */

g4_status g4_image_decode(g4_image *out, const uint8_t *buf, size_t n, const char *name, char *err) {
    memset(out, 0, sizeof *out);
    if (!name) name = "image";
    if (!buf || n == 0) return g4_errf(err, G4_EFORMAT, "%s: empty image data", name);
    if (n > INT_MAX) return g4_errf(err, G4_EINVAL, "%s: image data too large (got %zu bytes, want <= %d)", name, n, INT_MAX);
    g4_status st;
    if (n >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        st = decode_jpeg(out, buf, n, name, err);
    else if (n >= 8 && !memcmp(buf, "\x89PNG\r\n\x1a\n", 8))
        st = decode_png(out, buf, n, name, err);
    else if (n >= 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4))
        st = decode_webp(out, buf, n, name, err);
    else
        st = decode_ffmpeg(out, buf, n, name, err);
    if (st) g4_image_free(out);
    return st;
}

g4_status g4_image_load(g4_image *out, const char *path, char *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return g4_errf(err, G4_EIO, "%s: cannot open (%s)", path, strerror(errno));
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return g4_errf(err, G4_EIO, "%s: cannot read (not a regular file?)", path);
    }
    if ((size_t)sz > MAX_FILE) {
        fclose(f);
        return g4_errf(err, G4_EINVAL, "%s: file too large (got %ld bytes, want <= %zu)", path, sz, MAX_FILE);
    }
    uint8_t *b = g4_malloc((size_t)sz);
    if (!b) {
        fclose(f);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory reading %ld bytes", path, sz);
    }
    size_t got = fread(b, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        g4_free(b);
        return g4_errf(err, G4_EIO, "%s: short read (got %zu bytes, want %ld)", path, got, sz);
    }
    g4_status st = g4_image_decode(out, b, (size_t)sz, path, err);
    g4_free(b);
    return st;
}

void g4_image_free(g4_image *im) {
    if (!im) return;
    g4_free(im->rgb);
    im->rgb = NULL;
    im->w = im->h = 0;
}
