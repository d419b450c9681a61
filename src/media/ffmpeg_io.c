/* ffmpeg_io.c -- FFmpeg input from memory or from a file through our own AVIOContext.
 *
 * Why a custom AVIOContext for files too: reading a path through FFmpeg's "file" protocol would let a
 * crafted container (HLS playlists, concat lists, ...) open further URLs.  Every byte here comes from
 * our read callback, and the protocol whitelist is empty, so nested opens fail -- the same rule
 * torchcodec applies to in-memory input (forbid_nested_protocols).  The name is still given to the
 * prober as a file-name hint, as torchcodec's path-based open does, so weakly-signed formats probe
 * the same way.
 *
 * Process-wide FFmpeg settings, made once under pthread_once by g4_av_quiet():
 *  - logging: FFmpeg prints warnings to stderr through a global log level; the library must not print,
 *    so the level is AV_LOG_QUIET (torchcodec does the same in set_ffmpeg_log_level);
 *  - the largest single allocation, 1 GiB instead of FFmpeg's 2 GiB: a few bytes of crafted header can
 *    ask a demuxer for a 2 GiB zeroed table (found by fuzz_audio).  The largest buffer a valid input
 *    needs here is a frame: 4096x2304 video or a 100-Mpixel image at 8 bytes a pixel, under 1 GiB.
 * These are the only global state the media code touches; both are idempotent and FFmpeg offers no
 * per-context alternative.
 */
#include "ffmpeg_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#define G4_AVIO_BUF 65536

static pthread_once_t g4_av_once = PTHREAD_ONCE_INIT;
#define G4_AV_MAX_ALLOC ((size_t)1 << 30)

static void g4_av_quiet_once(void) {
    av_log_set_level(AV_LOG_QUIET);
    av_max_alloc(G4_AV_MAX_ALLOC);
}
void g4_av_quiet(void) { pthread_once(&g4_av_once, g4_av_quiet_once); }

int g4_av_sws_rgb24(struct SwsContext *s, const AVFrame *fr, int w, int h, uint8_t **out) {
    const size_t row = (size_t)w * 3, stride = (row + 63) & ~(size_t)63;
    *out = NULL;
    if (w <= 0 || h <= 0 || stride > INT_MAX) return -1;
    uint8_t *buf = g4_malloc(stride * (size_t)h + 64);
    if (!buf) return -1;
    uint8_t *dst[4] = {buf, NULL, NULL, NULL};
    int dls[4] = {(int)stride, 0, 0, 0};
    int got = sws_scale(s, (const uint8_t *const *)fr->data, fr->linesize, 0, h, dst, dls);
    for (int y = 1; y < h; y++) memmove(buf + (size_t)y * row, buf + (size_t)y * stride, row);
    *out = buf;
    return got;
}

const char *g4_av_errstr(int code, char *buf, size_t n) {
    if (av_strerror(code, buf, n) < 0) snprintf(buf, n, "FFmpeg error %d", code);
    return buf;
}

double g4_av_pts_to_sec(int64_t pts, AVRational tb) {
    /* multiply before dividing, like torchcodec's pts_to_seconds (not av_q2d) */
    return (double)pts * tb.num / tb.den;
}

int64_t g4_av_sec_to_pts(double sec, AVRational tb) {
    double v = round(sec * tb.den / tb.num);
    if (!(v > -9.2e18)) return INT64_MIN; /* NaN too */
    if (v > 9.2e18) return INT64_MAX;
    return (int64_t)v;
}

static int g4_avsrc_read(void *opaque, uint8_t *dst, int len) {
    g4_avsrc *s = opaque;
    if (len <= 0) return 0;
    if (s->f) {
        size_t got = fread(dst, 1, (size_t)len, s->f);
        if (got == 0) return ferror(s->f) ? AVERROR(EIO) : AVERROR_EOF;
        return (int)got;
    }
    if (s->pos >= s->n) return AVERROR_EOF;
    size_t k = G4_MIN((size_t)len, s->n - s->pos);
    memcpy(dst, s->buf + s->pos, k);
    s->pos += k;
    return (int)k;
}

static int64_t g4_avsrc_seek(void *opaque, int64_t off, int whence) {
    g4_avsrc *s = opaque;
    int64_t size = s->f ? s->fsize : (int64_t)s->n;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) return size;
    int64_t cur = s->f ? (int64_t)ftello(s->f) : (int64_t)s->pos, to;
    if (whence == SEEK_SET) to = off;
    else if (whence == SEEK_CUR) to = cur + off;
    else if (whence == SEEK_END) to = size + off;
    else return AVERROR(EINVAL);
    if (to < 0 || to > size) return AVERROR(EINVAL);
    if (s->f) {
        if (fseeko(s->f, (off_t)to, SEEK_SET) != 0) return AVERROR(EIO);
    } else {
        s->pos = (size_t)to;
    }
    return to;
}

void g4_avin_close(g4_avin *in) {
    if (in->fmt) avformat_close_input(&in->fmt);
    if (in->avio) {
        av_freep(&in->avio->buffer);
        avio_context_free(&in->avio);
    }
    if (in->src.f) fclose(in->src.f);
    memset(in, 0, sizeof *in);
}

static g4_status g4_avin_open(g4_avin *in, const char *name, char *err) {
    char eb[128];
    const char *label = name ? name : "media";
    g4_av_quiet();
    in->name = label;
    uint8_t *iobuf = av_malloc(G4_AVIO_BUF);
    if (!iobuf) return g4_errf(err, G4_ENOMEM, "%s: out of memory (AVIO buffer)", label);
    in->avio = avio_alloc_context(iobuf, G4_AVIO_BUF, 0, &in->src, g4_avsrc_read, NULL, g4_avsrc_seek);
    if (!in->avio) {
        av_free(iobuf);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory (AVIO context)", label);
    }
    AVFormatContext *fmt = avformat_alloc_context();
    if (!fmt) return g4_errf(err, G4_ENOMEM, "%s: out of memory (format context)", label);
    fmt->pb = in->avio;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (av_opt_set(fmt, "protocol_whitelist", "", 0) < 0) {
        avformat_free_context(fmt);
        return g4_errf(err, G4_EUNSUPPORTED, "%s: cannot restrict FFmpeg protocols", label);
    }
    int r = avformat_open_input(&fmt, name ? name : "", NULL, NULL); /* frees fmt on failure */
    if (r < 0)
        return g4_errf(err, G4_EFORMAT, "%s: not a media file FFmpeg can read (%s)", label,
                       g4_av_errstr(r, eb, sizeof eb));
    in->fmt = fmt;
    r = avformat_find_stream_info(fmt, NULL);
    if (r < 0)
        return g4_errf(err, G4_EFORMAT, "%s: cannot read stream info (%s)", label, g4_av_errstr(r, eb, sizeof eb));
    return G4_OK;
}

g4_status g4_avin_open_mem(g4_avin *in, const uint8_t *buf, size_t n, const char *name, char *err) {
    memset(in, 0, sizeof *in);
    const char *label = name ? name : "media";
    if (!buf || n == 0) return g4_errf(err, G4_EFORMAT, "%s: empty input (got 0 bytes)", label);
    in->src.buf = buf;
    in->src.n = n;
    g4_status st = g4_avin_open(in, name, err);
    if (st != G4_OK) g4_avin_close(in);
    return st;
}

g4_status g4_avin_open_file(g4_avin *in, const char *path, char *err) {
    memset(in, 0, sizeof *in);
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f) return g4_errf(err, G4_EIO, "%s: cannot open (%s)", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return g4_errf(err, G4_EIO, "%s: not a regular file", path);
    }
    if (sb.st_size == 0) {
        fclose(f);
        return g4_errf(err, G4_EFORMAT, "%s: empty input (got 0 bytes)", path);
    }
    in->src.f = f;
    in->src.fsize = (int64_t)sb.st_size;
    g4_status st = g4_avin_open(in, path, err);
    if (st != G4_OK) g4_avin_close(in);
    return st;
}
