/* video.c -- sample frames of a video and decode them to RGB8 exactly as the reference does:
 * transformers' Gemma4UnifiedVideoProcessor -> video_utils.read_video_torchcodec -> torchcodec 0.17
 * VideoDecoder(path, seek_mode="exact").get_frames_at(indices).
 *
 * Frame choice (transformers): total = the number of video packets (torchcodec's exact-mode scan,
 * packets flagged DISCARD excluded), avg_fps = total / (max(pts + duration) - min(pts)) in seconds
 * (the stream's r_frame_rate if that span is 0), indices = i * total / n for i < n with n = num_frames
 * (default 32) or, with fps, n = max(1, int(total / avg_fps * fps)).  The "mm:ss" labels use
 * index / avg_fps (24 when unknown) -- that is what t_sec holds, not the frame's pts.
 * Deviations: where the reference raises because n > total, we take all `total` frames; max_frames
 * (ours) caps n before the indices are computed.
 *
 * Decoding (torchcodec SingleStreamDecoder): frames sorted by pts; to get index i it sets a cursor at
 * that frame's pts, seeks (avformat_seek_file to the key frame at or before it, then
 * avcodec_flush_buffers) unless decoding on is cheaper (same key frame, or the next key frame is within
 * has_b_frames frames), and returns the first decoded frame whose pts >= cursor.  We replay the same
 * decisions, so the same frames come out even for streams whose frames depend on where decoding began.
 * We decode with one thread (the reference lets FFmpeg pick); threads do not change the pixels.
 *
 * RGB (torchcodec CpuDeviceInterface): when the width is a multiple of 32 it calls swscale itself:
 * sws_getContext(w, h, fmt -> w, h, RGB24, flags 0 = swscale's default bicubic) and
 * sws_setColorspaceDetails(sws_getCoefficients(frame colorspace) for both tables, source range from
 * the frame when it is specified).  Otherwise it runs a filtergraph "copy" -> buffersink(rgb24), in
 * which FFmpeg 5.1 inserts a default scale filter: flags bicubic (measured: bilinear differs on
 * swscale's filtered path), src_v_chr_pos 128 for yuv420p, colour matrix "auto" (the frame's
 * colorspace, BT.601 when it is outside 1..10 or is 8), range from the frame.  We build that scale
 * filter's swscale context directly with the same options (no libavfilter), which gives the same
 * bytes.  A display-matrix rotation is applied after the RGB conversion as transpose=clock /
 * transpose=cclock / hflip+vflip, also via the filtergraph path.
 */
#include "video.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "ffmpeg_io.h"

#define G4_VIDEO_DEFAULT_FRAMES 32
#define G4_VIDEO_MAX_SIDE 16384
#define G4_VIDEO_MAX_OUT_BYTES ((int64_t)2 << 30)        /* all returned frames together */
#define G4_VIDEO_MAX_PACKETS ((int64_t)20 * 1000 * 1000) /* index entries of the scan */

enum { G4_ROT_NONE, G4_ROT_CCW90, G4_ROT_CW90, G4_ROT_180 };

typedef struct {
    int64_t pts, next_pts, frame_index;
    int key;
    int64_t order; /* scan order, to make the sort deterministic */
} g4_vfi;

typedef struct {
    g4_avin *in;
    AVStream *st;
    int si;
    AVCodecContext *cc;
    AVFrame *fr;
    AVPacket *pkt;
    g4_vfi *all, *keys;
    int64_t n_all, n_keys;
    int64_t cursor, last_pts, last_dur, last_idx;
    int cursor_set;
    int w, h, rot; /* coded size (before rotation) */
    struct SwsContext *sws;
    int sws_fmt, sws_graph, sws_cs, sws_range; /* what it was made for */
} g4_vdec;

static int g4_vfi_cmp(const void *a, const void *b) {
    const g4_vfi *x = a, *y = b;
    if (x->pts != y->pts) return x->pts < y->pts ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int64_t g4_pts_or_dts(const AVFrame *fr) { return fr->pts == AV_NOPTS_VALUE ? fr->pkt_dts : fr->pts; }

/* index of the last key frame with pts <= pts, or -1 */
static int64_t g4_vdec_key_for(const g4_vdec *d, int64_t pts) {
    int64_t lo = 0, hi = d->n_keys; /* first key with pts > target */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (pts < d->keys[mid].pts) hi = mid;
        else lo = mid + 1;
    }
    return lo - 1;
}

/* torchcodec's seconds_to_index_lower_bound (exact mode): first frame whose next pts is after `sec` */
static int64_t g4_vdec_index_lower(const g4_vdec *d, double sec) {
    int64_t lo = 0, hi = d->n_all;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (g4_av_pts_to_sec(d->all[mid].next_pts, d->st->time_base) <= sec) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int g4_vdec_can_skip_seek(const g4_vdec *d) {
    if (!d->cursor_set) return 1;
    if (d->cursor < d->last_pts || d->cursor == d->last_pts) return 0;
    int64_t lk = g4_vdec_key_for(d, d->last_pts), tk = g4_vdec_key_for(d, d->cursor);
    if (lk < 0 || tk < 0) return 0;
    if (lk == tk) return 1;
    int64_t last_i = g4_vdec_index_lower(d, g4_av_pts_to_sec(d->last_pts, d->st->time_base));
    int64_t reorder = G4_MAX(d->cc->has_b_frames, 0);
    int64_t in_flight = (d->cc->active_thread_type & FF_THREAD_FRAME) ? G4_MAX(d->cc->thread_count, 1) - 1 : 0;
    return d->keys[tk].frame_index - last_i <= reorder + in_flight;
}

/* the first frame with pts >= cursor into d->fr (torchcodec's decode_av_frame) */
static g4_status g4_vdec_next(g4_vdec *d, char *err) {
    char eb[128];
    int r;
    if (!g4_vdec_can_skip_seek(d)) {
        int64_t target = d->cursor;
        if (d->n_keys) {
            int64_t k = g4_vdec_key_for(d, target);
            if (k >= 0) target = d->keys[k].pts;
        }
        r = avformat_seek_file(d->in->fmt, d->si, INT64_MIN, target, target, 0);
        if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot seek to pts %lld (%s)", d->in->name, (long long)target,
                                  g4_av_errstr(r, eb, sizeof eb));
        avcodec_flush_buffers(d->cc);
        while (avcodec_receive_frame(d->cc, d->fr) == 0) av_frame_unref(d->fr);
    }
    d->cursor_set = 0;
    int eof = 0;
    for (;;) {
        av_frame_unref(d->fr);
        r = avcodec_receive_frame(d->cc, d->fr);
        if (r == 0) {
            if (g4_pts_or_dts(d->fr) >= d->cursor) break;
            continue;
        }
        if (r != AVERROR(EAGAIN)) break;
        if (eof) continue;
        do {
            av_packet_unref(d->pkt);
            r = av_read_frame(d->in->fmt, d->pkt);
        } while (r >= 0 && d->pkt->stream_index != d->si);
        if (r == AVERROR_EOF) {
            r = avcodec_send_packet(d->cc, NULL);
            if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot flush the decoder (%s)", d->in->name,
                                      g4_av_errstr(r, eb, sizeof eb));
            eof = 1;
            continue;
        }
        if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot read (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
        r = avcodec_send_packet(d->cc, d->pkt);
        av_packet_unref(d->pkt);
        if (r < 0)
            return g4_errf(err, G4_EFORMAT, "%s: corrupt video data (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
    }
    if (r < 0) {
        if (eof || r == AVERROR_EOF)
            return g4_errf(err, G4_EFORMAT, "%s: the video ends before the frame at pts %lld (truncated?)",
                           d->in->name, (long long)d->cursor);
        return g4_errf(err, G4_EFORMAT, "%s: cannot decode video (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
    }
    d->last_pts = g4_pts_or_dts(d->fr);
    d->last_dur = g4_av_frame_duration(d->fr);
    return G4_OK;
}

/* swscale context for the frame's format, set up like the reference's conversion path */
static g4_status g4_vdec_sws(g4_vdec *d, const AVFrame *fr, char *err) {
    int fmt = fr->format, graph = d->rot != G4_ROT_NONE || d->w % 32 != 0;
    /* the filtergraph keeps its scaler (colour details are set per frame); torchcodec's own swscale
     * path makes a new context whenever the frame's colorspace or range differs */
    if (d->sws && d->sws_fmt == fmt && d->sws_graph == graph &&
        (graph || (d->sws_cs == (int)fr->colorspace && d->sws_range == (int)fr->color_range)))
        return G4_OK;
    sws_freeContext(d->sws);
    d->sws = NULL;
    if (!av_pix_fmt_desc_get(fmt) || !sws_isSupportedInput(fmt))
        return g4_errf(err, G4_EUNSUPPORTED, "%s: unsupported pixel format (got %s)", d->in->name,
                       av_get_pix_fmt_name(fmt) ? av_get_pix_fmt_name(fmt) : "none");
    if (!graph) {
        d->sws = sws_getContext(d->w, d->h, fmt, d->w, d->h, AV_PIX_FMT_RGB24, 0, NULL, NULL, NULL);
    } else { /* FFmpeg 5.1's auto-inserted scale filter with its default options */
        struct SwsContext *s = sws_alloc_context();
        int ok = s != NULL;
        ok = ok && av_opt_set_int(s, "srcw", d->w, 0) >= 0 && av_opt_set_int(s, "srch", d->h, 0) >= 0 &&
             av_opt_set_int(s, "src_format", fmt, 0) >= 0 && av_opt_set_int(s, "dstw", d->w, 0) >= 0 &&
             av_opt_set_int(s, "dsth", d->h, 0) >= 0 && av_opt_set_int(s, "dst_format", AV_PIX_FMT_RGB24, 0) >= 0 &&
             av_opt_set_int(s, "sws_flags", SWS_BICUBIC, 0) >= 0 &&
             av_opt_set_double(s, "param0", SWS_PARAM_DEFAULT, 0) >= 0 &&
             av_opt_set_double(s, "param1", SWS_PARAM_DEFAULT, 0) >= 0 &&
             av_opt_set_int(s, "src_h_chr_pos", -513, 0) >= 0 &&
             av_opt_set_int(s, "src_v_chr_pos", fmt == AV_PIX_FMT_YUV420P ? 128 : -513, 0) >= 0 &&
             av_opt_set_int(s, "dst_h_chr_pos", -513, 0) >= 0 && av_opt_set_int(s, "dst_v_chr_pos", -513, 0) >= 0 &&
             sws_init_context(s, NULL, NULL) >= 0;
        if (!ok) sws_freeContext(s);
        d->sws = ok ? s : NULL;
    }
    if (!d->sws)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: cannot convert %s %dx%d to RGB", d->in->name,
                       av_get_pix_fmt_name(fmt), d->w, d->h);
    d->sws_fmt = fmt, d->sws_graph = graph, d->sws_cs = fr->colorspace, d->sws_range = fr->color_range;
    return G4_OK;
}

static g4_status g4_vdec_rgb(g4_vdec *d, g4_image *out, char *err) {
    const AVFrame *fr = d->fr;
    if (fr->width != d->w || fr->height != d->h)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: frame size changed mid-stream (got %dx%d, want %dx%d)", d->in->name,
                       fr->width, fr->height, d->w, d->h);
    g4_status st = g4_vdec_sws(d, fr, err);
    if (st != G4_OK) return st;
    int *inv, *tab, srng, drng, bri, con, sat;
    if (sws_getColorspaceDetails(d->sws, &inv, &srng, &tab, &drng, &bri, &con, &sat) >= 0) {
        int cs = fr->colorspace;
        if (d->sws_graph && (cs < 1 || cs > 10 || cs == 8)) cs = AVCOL_SPC_BT470BG;
        const int *coef = sws_getCoefficients(cs);
        if (fr->color_range != AVCOL_RANGE_UNSPECIFIED) srng = fr->color_range == AVCOL_RANGE_JPEG;
        sws_setColorspaceDetails(d->sws, coef, srng, coef, drng, bri, con, sat);
    }
    size_t w = (size_t)d->w, h = (size_t)d->h;
    uint8_t *rgb;
    int got = g4_av_sws_rgb24(d->sws, fr, d->w, d->h, &rgb);
    if (!rgb) return g4_errf(err, G4_ENOMEM, "%s: out of memory (%dx%d frame)", d->in->name, d->w, d->h);
    if (got != d->h) {
        g4_free(rgb);
        return g4_errf(err, G4_EFORMAT, "%s: RGB conversion failed (got %d rows, want %d)", d->in->name, got, d->h);
    }
    out->w = d->w, out->h = d->h, out->rgb = rgb;
    if (d->rot == G4_ROT_NONE) return G4_OK;

    int ow = d->rot == G4_ROT_180 ? d->w : d->h, oh = d->rot == G4_ROT_180 ? d->h : d->w;
    uint8_t *r = g4_malloc(w * h * 3);
    if (!r) {
        g4_free(rgb);
        out->rgb = NULL;
        return g4_errf(err, G4_ENOMEM, "%s: out of memory (%dx%d frame)", d->in->name, d->w, d->h);
    }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            size_t sy, sx;
            if (d->rot == G4_ROT_CW90) sy = h - 1 - (size_t)x, sx = (size_t)y;         /* transpose=clock */
            else if (d->rot == G4_ROT_CCW90) sy = (size_t)x, sx = w - 1 - (size_t)y;   /* transpose=cclock */
            else sy = h - 1 - (size_t)y, sx = w - 1 - (size_t)x;                       /* hflip,vflip */
            memcpy(r + ((size_t)y * (size_t)ow + (size_t)x) * 3, rgb + (sy * w + sx) * 3, 3);
        }
    g4_free(rgb);
    out->w = ow, out->h = oh, out->rgb = r;
    return G4_OK;
}

/* the packet scan of torchcodec's exact mode: pts index, key frames, content begin/end */
static g4_status g4_vdec_scan(g4_vdec *d, int64_t *begin, int64_t *end, char *err) {
    char eb[128];
    int64_t cap_all = 0, cap_keys = 0;
    int have = 0;
    *begin = INT64_MAX, *end = INT64_MIN;
    for (;;) {
        av_packet_unref(d->pkt);
        int r = av_read_frame(d->in->fmt, d->pkt);
        if (r == AVERROR_EOF) break;
        if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot read (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
        if (d->pkt->stream_index != d->si || (d->pkt->flags & AV_PKT_FLAG_DISCARD)) continue;
        int64_t pts = d->pkt->pts == AV_NOPTS_VALUE ? d->pkt->dts : d->pkt->pts;
        if (d->n_all >= G4_VIDEO_MAX_PACKETS)
            return g4_errf(err, G4_EUNSUPPORTED, "%s: too many video frames (got more than %lld)", d->in->name,
                           (long long)G4_VIDEO_MAX_PACKETS);
        if (d->n_all == cap_all) {
            cap_all = cap_all ? cap_all * 2 : 1024;
            g4_vfi *p = g4_realloc(d->all, (size_t)cap_all * sizeof *p);
            if (!p) return g4_errf(err, G4_ENOMEM, "%s: out of memory (frame index)", d->in->name);
            d->all = p;
        }
        g4_vfi fi = {pts, INT64_MAX, 0, (d->pkt->flags & AV_PKT_FLAG_KEY) != 0, d->n_all};
        d->all[d->n_all++] = fi;
        if (fi.key) {
            if (d->n_keys == cap_keys) {
                cap_keys = cap_keys ? cap_keys * 2 : 64;
                g4_vfi *p = g4_realloc(d->keys, (size_t)cap_keys * sizeof *p);
                if (!p) return g4_errf(err, G4_ENOMEM, "%s: out of memory (key frame index)", d->in->name);
                d->keys = p;
            }
            d->keys[d->n_keys++] = fi;
        }
        int64_t e = pts;
        if (d->pkt->duration > 0 && pts <= INT64_MAX - d->pkt->duration) e = pts + d->pkt->duration;
        else if (d->pkt->duration < 0 && pts >= INT64_MIN - d->pkt->duration) e = pts + d->pkt->duration;
        *begin = G4_MIN(*begin, pts);
        *end = G4_MAX(*end, e);
        have = 1;
    }
    av_packet_unref(d->pkt);
    if (!have) *begin = *end = 0;
    int r = avformat_seek_file(d->in->fmt, 0, INT64_MIN, 0, 0, 0);
    if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot seek back to the start (%s)", d->in->name,
                              g4_av_errstr(r, eb, sizeof eb));
    if (d->n_all) qsort(d->all, (size_t)d->n_all, sizeof *d->all, g4_vfi_cmp);
    if (d->n_keys) qsort(d->keys, (size_t)d->n_keys, sizeof *d->keys, g4_vfi_cmp);
    for (int64_t i = 0, k = 0; i < d->n_all; i++) {
        d->all[i].frame_index = i;
        if (d->all[i].key && k < d->n_keys) d->keys[k++].frame_index = i;
        if (i + 1 < d->n_all) d->all[i].next_pts = d->all[i + 1].pts;
    }
    return G4_OK;
}

static int g4_vdec_rotation(const AVStream *st, int *rot) {
    size_t sz = 0;
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &sz);
    *rot = G4_ROT_NONE;
    if (!m || sz < 9 * sizeof(int32_t)) return 0;
    double deg = av_display_rotation_get((const int32_t *)m);
    if (isnan(deg)) return 0;
    int r = (int)round(deg / 90.0) * 90;
    if (r == 0) *rot = G4_ROT_NONE;
    else if (r == 90) *rot = G4_ROT_CCW90;
    else if (r == -90) *rot = G4_ROT_CW90;
    else if (r == 180 || r == -180) *rot = G4_ROT_180;
    else return -1;
    return 0;
}

static void g4_video_clear(g4_video *v) {
    if (v->frames)
        for (int i = 0; i < v->n_frames; i++) g4_free(v->frames[i].rgb);
    g4_free(v->frames);
    g4_free(v->t_sec);
    memset(v, 0, sizeof *v);
}

void g4_video_free(g4_video *v) {
    if (v) g4_video_clear(v);
}

static g4_status g4_vdec_run(g4_vdec *d, g4_video *v, const g4_video_params *p, char *err) {
    char eb[128];
    AVFormatContext *fmt = d->in->fmt;
    const char *name = d->in->name;
    g4_video_params defp = {0};
    if (!p) p = &defp;
    if (p->num_frames < 0 || p->max_frames < 0 || !(p->fps >= 0) || isinf(p->fps))
        return g4_errf(err, G4_EINVAL, "%s: bad video params (num_frames %d, fps %g, max_frames %d)", name,
                       p->num_frames, p->fps, p->max_frames);
    if (p->num_frames > 0 && p->fps > 0)
        return g4_errf(err, G4_EINVAL, "%s: num_frames and fps are mutually exclusive (got %d and %g)", name,
                       p->num_frames, p->fps);

    const AVCodec *codec = NULL;
    d->si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (d->si == AVERROR_DECODER_NOT_FOUND) {
        int s = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        const AVCodecParameters *cp = s >= 0 ? fmt->streams[s]->codecpar : NULL;
        return g4_errf(err, G4_EUNSUPPORTED, "%s: unsupported video codec (got %s, tag 0x%x; no decoder)", name,
                       cp ? avcodec_get_name(cp->codec_id) : "?", cp ? cp->codec_tag : 0u);
    }
    if (d->si < 0 || !codec) return g4_errf(err, G4_EFORMAT, "%s: no video stream", name);
    d->st = fmt->streams[d->si];
    AVRational tb = d->st->time_base;
    if (tb.num <= 0 || tb.den <= 0)
        return g4_errf(err, G4_EFORMAT, "%s: bad video time base (got %d/%d)", name, tb.num, tb.den);
    d->w = d->st->codecpar->width, d->h = d->st->codecpar->height;
    int64_t max_px = p->max_pixels > 0 ? G4_MIN(p->max_pixels, G4_VIDEO_MAX_PIXELS) : G4_VIDEO_MAX_PIXELS;
    if (d->w <= 0 || d->h <= 0 || d->w > G4_VIDEO_MAX_SIDE || d->h > G4_VIDEO_MAX_SIDE || (int64_t)d->w * d->h > max_px)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: video size not supported (got %dx%d, want <= %d px a side, %lld px)",
                       name, d->w, d->h, G4_VIDEO_MAX_SIDE, (long long)max_px);
    if (g4_vdec_rotation(d->st, &d->rot) < 0) return g4_errf(err, G4_EUNSUPPORTED, "%s: unexpected rotation", name);
    double fps_header = av_q2d(d->st->r_frame_rate);

    d->pkt = av_packet_alloc();
    d->fr = av_frame_alloc();
    if (!d->pkt || !d->fr) return g4_errf(err, G4_ENOMEM, "%s: out of memory (frame)", name);
    int64_t begin, end;
    g4_status st = g4_vdec_scan(d, &begin, &end, err);
    if (st != G4_OK) return st;
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != d->si) fmt->streams[i]->discard = AVDISCARD_ALL;

    d->cc = avcodec_alloc_context3(codec);
    if (!d->cc) return g4_errf(err, G4_ENOMEM, "%s: out of memory (codec context)", name);
    int r = avcodec_parameters_to_context(d->cc, d->st->codecpar);
    if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: bad codec parameters (%s)", name, g4_av_errstr(r, eb, sizeof eb));
    d->cc->thread_count = 1;
    d->cc->max_pixels = max_px; /* also refuses a stream that grows its frames after the header */
    d->cc->pkt_timebase = tb;
    r = avcodec_open2(d->cc, codec, NULL);
    if (r < 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: cannot open the %s decoder (%s)", name, codec->name,
                       g4_av_errstr(r, eb, sizeof eb));
    d->cc->time_base = tb;

    /* the reference's metadata and frame choice */
    int64_t total = d->n_all;
    double duration = g4_av_pts_to_sec(end, tb) - g4_av_pts_to_sec(begin, tb);
    double avg_fps = duration != 0.0 ? (double)total / duration : fps_header > 0 ? fps_header : 0.0;
    int64_t n;
    if (p->fps > 0) {
        if (!(avg_fps > 0)) return g4_errf(err, G4_EFORMAT, "%s: frame rate unknown, cannot sample by fps", name);
        double x = (double)total / avg_fps * p->fps;
        n = x >= 9e18 ? INT64_MAX : G4_MAX((int64_t)1, (int64_t)x);
    } else {
        n = p->num_frames > 0 ? p->num_frames : G4_VIDEO_DEFAULT_FRAMES;
    }
    if (p->max_frames > 0) n = G4_MIN(n, (int64_t)p->max_frames);
    n = G4_MIN(n, total); /* the reference raises here */
    if (n <= 0) return g4_errf(err, G4_EFORMAT, "%s: no video frames", name);
    int64_t fbytes = (int64_t)d->w * d->h * 3;
    if (n > G4_VIDEO_MAX_OUT_BYTES / fbytes)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: too much video to decode (got %lld frames of %dx%d, want <= %lld bytes)",
                       name, (long long)n, d->w, d->h, (long long)G4_VIDEO_MAX_OUT_BYTES);
    double label_fps = avg_fps > 0 ? avg_fps : 24.0;

    v->frames = g4_calloc((size_t)n, sizeof *v->frames);
    v->t_sec = g4_calloc((size_t)n, sizeof *v->t_sec);
    if (!v->frames || !v->t_sec) return g4_errf(err, G4_ENOMEM, "%s: out of memory (%lld frames)", name, (long long)n);
    v->fps = avg_fps;
    v->duration = duration;

    d->cursor = INT64_MIN, d->last_pts = INT64_MIN, d->last_idx = INT64_MIN;
    int64_t prev = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t idx = i * total / n;
        v->t_sec[i] = (double)idx / label_fps;
        if (idx == prev) { /* same frame again: copy it */
            g4_image *a = &v->frames[i - 1], *b = &v->frames[i];
            b->rgb = g4_malloc((size_t)a->w * (size_t)a->h * 3);
            if (!b->rgb) return g4_errf(err, G4_ENOMEM, "%s: out of memory (frame copy)", name);
            memcpy(b->rgb, a->rgb, (size_t)a->w * (size_t)a->h * 3);
            b->w = a->w, b->h = a->h;
            v->n_frames++;
            continue;
        }
        if (idx != d->last_idx + 1) {
            d->cursor = g4_av_sec_to_pts(g4_av_pts_to_sec(d->all[idx].pts, tb), tb);
            d->cursor_set = 1;
        }
        st = g4_vdec_next(d, err);
        if (st != G4_OK) return st;
        d->last_idx = idx;
        st = g4_vdec_rgb(d, &v->frames[i], err);
        if (st != G4_OK) return st;
        v->n_frames++;
        prev = idx;
    }
    return G4_OK;
}

static g4_status g4_video_run(g4_video *out, g4_avin *in, const g4_video_params *p, char *err) {
    g4_vdec d;
    memset(&d, 0, sizeof d);
    d.in = in;
    g4_status st = g4_vdec_run(&d, out, p, err);
    sws_freeContext(d.sws);
    avcodec_free_context(&d.cc);
    av_frame_free(&d.fr);
    av_packet_free(&d.pkt);
    g4_free(d.all);
    g4_free(d.keys);
    g4_avin_close(in);
    if (st != G4_OK) g4_video_clear(out);
    return st;
}

g4_status g4_video_decode(g4_video *out, const uint8_t *buf, size_t n, const char *name, const g4_video_params *p,
                          char *err) {
    memset(out, 0, sizeof *out);
    g4_avin in;
    g4_status st = g4_avin_open_mem(&in, buf, n, name ? name : "video", err);
    if (st != G4_OK) return st;
    return g4_video_run(out, &in, p, err);
}

g4_status g4_video_load(g4_video *out, const char *path, const g4_video_params *p, char *err) {
    memset(out, 0, sizeof *out);
    g4_avin in;
    g4_status st = g4_avin_open_file(&in, path, err);
    if (st != G4_OK) return st;
    return g4_video_run(out, &in, p, err);
}
