/* audio.c -- any FFmpeg-readable audio (or the audio track of a video) to 16 kHz mono float32, sample for
 * sample what the reference returns: transformers' load_audio -> torchcodec's
 * AudioDecoder(src, sample_rate=16000, num_channels=1).get_all_samples().data[0].
 *
 * What torchcodec 0.17 does, and we redo with the same FFmpeg libraries (facts from its
 * SingleStreamDecoder.cpp / CpuDeviceInterface.cpp / FFMPEGCommon.cpp / _audio_decoder.py):
 *  - stream: av_find_best_stream(AUDIO); codec context from codecpar, thread_count 1, pkt_timebase =
 *    stream time base (request_sample_fmt FLTP is set only after avcodec_open2, so it has no effect).
 *  - frames are kept when pts + duration > output_start_pts, which is 0, or, when resampling, the
 *    (negative) pre-roll pts round(-preroll / tb); preroll = max(4 codec frames (0 if lossless, 1 s if
 *    the frame size is unknown), (k - 1 + 2 ceil(32 / min(1, 16000 * 0.97 / sr))) / sr).  A fresh
 *    decoder seeks only when that pre-roll pts lies after the stream's start_time.
 *  - a frame that is already FLTP, mono and at 16 kHz is copied; otherwise libswresample, created on
 *    the first such frame with swr_alloc_set_opts2(out: mono (the frame's own layout if it is mono),
 *    FLTP, 16000; in: the frame's layout, format, rate; no other options), so swresample's defaults
 *    apply (its rematrix for the downmix, its polyphase filter for the rate).
 *  - before the first conversion it drops input samples up to the next index (counted from the stream
 *    start, llround((pts - start) * sr)) that is a multiple of k = sr / gcd(sr, 16000), and stamps the
 *    output with that sample's time.
 *  - each swr_convert gets room for av_rescale_rnd(swr_get_delay(sr) + n, 16000, sr, UP) samples
 *    (n when the rates match); at the end one swr_convert(NULL) with room for swr_get_out_samples(0).
 *  - Python then drops round-half-up(-first_pts * 16000) samples when the first pts is negative (the
 *    codec priming of AAC/Opus in MP4/Ogg).
 * Errors the reference raises (corrupt packets, no audio stream, no decoder) are errors here too.
 */
#include "audio.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>

#include "ffmpeg_io.h"

#define G4_AUDIO_HARD_MAX_SEC 3600.0 /* never decode more than an hour, whatever max_seconds says */
#define G4_AUDIO_TRIM_SLACK 16000    /* samples allowed past the limit before the priming trim */

typedef struct {
    g4_avin *in;
    AVStream *st;
    AVCodecContext *cc;
    SwrContext *swr;
    int swr_fmt, swr_rate, swr_ch; /* what swr was set up for */
    double start_s;                /* stream start_time in seconds (0 if unknown) */
    int64_t out_start_pts;
    float *pcm;
    int64_t n, cap, limit;
    double max_seconds;
    double first_pts;
    int have_first;
} g4_adec;

static int64_t g4_adec_gcd(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static g4_status g4_adec_too_long(g4_adec *d, char *err) {
    if (d->max_seconds > 0 && d->max_seconds < G4_AUDIO_HARD_MAX_SEC)
        return g4_errf(err, G4_EINVAL, "%s: audio longer than the limit (got more than %.3f s, want <= %.3f s)",
                       d->in->name, d->max_seconds, d->max_seconds);
    return g4_errf(err, G4_EUNSUPPORTED, "%s: audio longer than %.0f s is not supported", d->in->name,
                   G4_AUDIO_HARD_MAX_SEC);
}

/* room for `extra` more samples */
static g4_status g4_adec_reserve(g4_adec *d, int64_t extra, char *err) {
    if (d->n + extra <= d->cap) return G4_OK;
    int64_t want = G4_MAX(d->n + extra, G4_MAX(d->cap * 2, (int64_t)16384));
    if (want > d->limit + G4_AUDIO_TRIM_SLACK + extra) want = d->limit + G4_AUDIO_TRIM_SLACK + extra;
    if (want < d->n + extra) want = d->n + extra;
    float *p = g4_realloc(d->pcm, (size_t)want * sizeof(float));
    if (!p) return g4_errf(err, G4_ENOMEM, "%s: out of memory (%lld samples)", d->in->name, (long long)want);
    d->pcm = p;
    d->cap = want;
    return G4_OK;
}

static g4_status g4_adec_grew(g4_adec *d, char *err) {
    return d->n > d->limit + G4_AUDIO_TRIM_SLACK ? g4_adec_too_long(d, err) : G4_OK;
}

/* run swr_convert with room for `bound` output samples (the reference's), appending what it produces.
 * The room is cut to one sample past the length limit: a conversion that would have produced more
 * then fails the limit check, and one that fits is unaffected, so results never change. */
static g4_status g4_adec_swr(g4_adec *d, const uint8_t **src, int n_src, int64_t bound, char *err) {
    char eb[128];
    if (bound <= 0) return G4_OK;
    int64_t room = d->limit + G4_AUDIO_TRIM_SLACK + 1 - d->n;
    if (room <= 0) return g4_adec_too_long(d, err);
    if (bound > room) bound = room;
    if (bound > INT_MAX) return g4_errf(err, G4_EFORMAT, "%s: audio frame too large", d->in->name);
    g4_status st = g4_adec_reserve(d, bound, err);
    if (st != G4_OK) return st;
    uint8_t *dst = (uint8_t *)(d->pcm + d->n);
    int got = swr_convert(d->swr, &dst, (int)bound, src, n_src);
    if (got < 0) return g4_errf(err, G4_EFORMAT, "%s: resampling failed (%s)", d->in->name, g4_av_errstr(got, eb, sizeof eb));
    d->n += got;
    return g4_adec_grew(d, err);
}

static int64_t g4_adec_add_sat(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static g4_status g4_adec_frame(g4_adec *d, const AVFrame *fr, char *err) {
    char eb[128];
    int64_t pts = fr->pts == AV_NOPTS_VALUE ? fr->pkt_dts : fr->pts;
    if (!(g4_adec_add_sat(pts, g4_av_frame_duration(fr)) > d->out_start_pts && pts < INT64_MAX)) return G4_OK;
    double pts_s = g4_av_pts_to_sec(pts, d->st->time_base);

    int fmt = fr->format, sr = fr->sample_rate, ch = fr->ch_layout.nb_channels, ns = fr->nb_samples;
    if (ch != d->cc->ch_layout.nb_channels)
        return g4_errf(err, G4_EFORMAT, "%s: frame channel count changed (got %d, want %d)", d->in->name, ch,
                       d->cc->ch_layout.nb_channels);
    if (sr <= 0 || ch <= 0 || ns < 0 || fmt < 0 || fmt >= AV_SAMPLE_FMT_NB)
        return g4_errf(err, G4_EFORMAT, "%s: bad audio frame (rate %d, %d channels, %d samples)", d->in->name, sr,
                       ch, ns);
    if (sr > G4_AUDIO_MAX_RATE) /* a resampler for an absurd rate needs gigabytes of filter tables */
        return g4_errf(err, G4_EUNSUPPORTED, "%s: sample rate %d Hz not supported (want <= %d)", d->in->name, sr,
                       G4_AUDIO_MAX_RATE);
    int must = fmt != AV_SAMPLE_FMT_FLTP || sr != G4_AUDIO_RATE || ch != 1;
    if (!must) {
        g4_status st = g4_adec_reserve(d, ns, err);
        if (st != G4_OK) return st;
        memcpy(d->pcm + d->n, fr->extended_data[0], (size_t)ns * sizeof(float));
        d->n += ns;
        if (!d->have_first) d->first_pts = pts_s, d->have_first = 1;
        return g4_adec_grew(d, err);
    }

    int64_t skip = 0;
    if (!d->swr) {
        /* start on a sample that lies on both the input and the output grid */
        int64_t idx = llround((pts_s - d->start_s) * sr);
        int64_t k = sr / g4_adec_gcd(sr, G4_AUDIO_RATE);
        int64_t rem = idx % k;
        if (rem < 0) rem += k;
        int64_t next = idx + (rem == 0 ? 0 : k - rem);
        skip = next - idx;
        pts_s = d->start_s + (double)next / sr;
        if (!d->have_first) d->first_pts = pts_s, d->have_first = 1;
        if (skip >= ns) return G4_OK;

        AVChannelLayout in_l, out_l; /* copies: FFmpeg 5's swr_alloc_set_opts2 is not const-correct */
        memset(&in_l, 0, sizeof in_l);
        memset(&out_l, 0, sizeof out_l);
        int r = av_channel_layout_copy(&in_l, &fr->ch_layout);
        if (r >= 0) r = ch == 1 ? av_channel_layout_copy(&out_l, &fr->ch_layout) : (av_channel_layout_default(&out_l, 1), 0);
        if (r >= 0)
            r = swr_alloc_set_opts2(&d->swr, &out_l, AV_SAMPLE_FMT_FLTP, G4_AUDIO_RATE, &in_l,
                                    (enum AVSampleFormat)fmt, sr, 0, NULL);
        av_channel_layout_uninit(&in_l);
        av_channel_layout_uninit(&out_l);
        if (r >= 0) r = swr_init(d->swr);
        if (r < 0)
            return g4_errf(err, G4_EUNSUPPORTED, "%s: cannot convert %d channels of %s at %d Hz (%s)", d->in->name,
                           ch, av_get_sample_fmt_name(fmt) ? av_get_sample_fmt_name(fmt) : "?", sr,
                           g4_av_errstr(r, eb, sizeof eb));
        d->swr_fmt = fmt, d->swr_rate = sr, d->swr_ch = ch;
    } else {
        if (!d->have_first) d->first_pts = pts_s, d->have_first = 1;
        if (fmt != d->swr_fmt || sr != d->swr_rate || ch != d->swr_ch)
            return g4_errf(err, G4_EUNSUPPORTED, "%s: audio format changed mid-stream (got %d Hz x %d, want %d Hz x %d)",
                           d->in->name, sr, ch, d->swr_rate, d->swr_ch);
    }

    const uint8_t *planes[64];
    int planar = av_sample_fmt_is_planar(fmt), bps = av_get_bytes_per_sample(fmt);
    int np = planar ? ch : 1;
    if (np > 64) return g4_errf(err, G4_EUNSUPPORTED, "%s: too many channels (got %d, want <= 64)", d->in->name, ch);
    size_t off = (size_t)skip * (size_t)bps * (size_t)(planar ? 1 : ch);
    for (int i = 0; i < np; i++) planes[i] = fr->extended_data[i] + off;
    int n_src = ns - (int)skip;
    int64_t bound = sr == G4_AUDIO_RATE
                        ? n_src
                        : av_rescale_rnd(swr_get_delay(d->swr, sr) + n_src, G4_AUDIO_RATE, sr, AV_ROUND_UP);
    return g4_adec_swr(d, planes, n_src, bound, err);
}

static g4_status g4_adec_run(g4_adec *d, char *err) {
    char eb[128];
    AVFormatContext *fmt = d->in->fmt;
    const AVCodec *codec = NULL;
    int si = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (si == AVERROR_DECODER_NOT_FOUND) {
        si = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        const AVCodecParameters *cp = si >= 0 ? fmt->streams[si]->codecpar : NULL;
        return g4_errf(err, G4_EUNSUPPORTED, "%s: unsupported audio codec (got %s, tag 0x%x; no decoder)", d->in->name,
                       cp ? avcodec_get_name(cp->codec_id) : "?", cp ? cp->codec_tag : 0u);
    }
    if (si < 0 || !codec) return g4_errf(err, G4_EFORMAT, "%s: no audio stream", d->in->name);
    d->st = fmt->streams[si];
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != si) fmt->streams[i]->discard = AVDISCARD_ALL;

    d->cc = avcodec_alloc_context3(codec);
    if (!d->cc) return g4_errf(err, G4_ENOMEM, "%s: out of memory (codec context)", d->in->name);
    int r = avcodec_parameters_to_context(d->cc, d->st->codecpar);
    if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: bad codec parameters (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
    d->cc->thread_count = 1;
    d->cc->pkt_timebase = d->st->time_base;
    r = avcodec_open2(d->cc, codec, NULL);
    if (r < 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: cannot open the %s decoder (%s)", d->in->name, codec->name,
                       g4_av_errstr(r, eb, sizeof eb));
    d->cc->time_base = d->st->time_base;
    d->cc->request_sample_fmt = AV_SAMPLE_FMT_FLTP; /* after open, like the reference: no effect */

    AVRational tb = d->st->time_base;
    int sr = d->cc->sample_rate;
    if (sr <= 0 || tb.num <= 0 || tb.den <= 0)
        return g4_errf(err, G4_EFORMAT, "%s: bad audio stream (sample rate %d, time base %d/%d)", d->in->name, sr,
                       tb.num, tb.den);
    if (sr > G4_AUDIO_MAX_RATE)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: sample rate %d Hz not supported (want <= %d)", d->in->name, sr,
                       G4_AUDIO_MAX_RATE);
    d->start_s = d->st->start_time != AV_NOPTS_VALUE ? g4_av_pts_to_sec(d->st->start_time, tb) : 0.0;

    /* the reference's pre-roll, which decides which leading frames go through the resampler */
    const AVCodecDescriptor *desc = avcodec_descriptor_get(d->cc->codec_id);
    int lossless = desc && (desc->props & AV_CODEC_PROP_LOSSLESS);
    double pre = lossless ? 0.0 : d->cc->frame_size > 0 ? 4.0 * d->cc->frame_size / sr : 1.0;
    int resampling = sr != G4_AUDIO_RATE;
    if (resampling) {
        double factor = fmin(1.0, G4_AUDIO_RATE * 0.97 / sr);
        double flen = ceil(32 / factor);
        int64_t k = sr / g4_adec_gcd(sr, G4_AUDIO_RATE);
        double need = (k - 1 + 2 * flen) / sr;
        if (pre < need) pre = need;
    }
    int64_t seek_pts = g4_av_sec_to_pts(0.0 - pre, tb);
    int64_t min_pts = d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time : 0;
    d->out_start_pts = resampling ? G4_MIN((int64_t)0, seek_pts) : 0;
    if (seek_pts > min_pts) {
        r = avformat_seek_file(fmt, si, INT64_MIN, seek_pts, seek_pts, 0);
        if (r < 0) return g4_errf(err, G4_EFORMAT, "%s: cannot seek to the start (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
    }

    AVFrame *fr = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    g4_status st = G4_OK;
    if (!fr || !pkt) {
        st = g4_errf(err, G4_ENOMEM, "%s: out of memory (frame)", d->in->name);
        goto done;
    }
    int eof = 0;
    for (;;) {
        r = avcodec_receive_frame(d->cc, fr);
        if (r == 0) {
            st = g4_adec_frame(d, fr, err);
            av_frame_unref(fr);
            if (st != G4_OK) goto done;
            continue;
        }
        if (r == AVERROR_EOF) break;
        if (r != AVERROR(EAGAIN)) {
            st = g4_errf(err, G4_EFORMAT, "%s: cannot decode audio (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
            goto done;
        }
        if (eof) break; /* drained */
        do {
            av_packet_unref(pkt);
            r = av_read_frame(fmt, pkt);
        } while (r >= 0 && pkt->stream_index != si);
        if (r == AVERROR_EOF) {
            r = avcodec_send_packet(d->cc, NULL);
            if (r < 0) {
                st = g4_errf(err, G4_EFORMAT, "%s: cannot flush the decoder (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
                goto done;
            }
            eof = 1;
            continue;
        }
        if (r < 0) {
            st = g4_errf(err, G4_EFORMAT, "%s: cannot read (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
            goto done;
        }
        r = avcodec_send_packet(d->cc, pkt);
        av_packet_unref(pkt);
        if (r < 0) {
            st = g4_errf(err, G4_EFORMAT, "%s: corrupt audio data (%s)", d->in->name, g4_av_errstr(r, eb, sizeof eb));
            goto done;
        }
    }
    if (d->swr) { /* what the resampler still holds */
        int64_t left = swr_get_out_samples(d->swr, 0);
        if (left > 0) st = g4_adec_swr(d, NULL, 0, left, err);
        if (st != G4_OK) goto done;
    }
    if (!d->have_first) {
        st = g4_errf(err, G4_EFORMAT, "%s: no audio frames could be decoded", d->in->name);
        goto done;
    }
    if (d->first_pts < 0.0) { /* drop the priming samples before t = 0 */
        double o = floor((0.0 - d->first_pts) * G4_AUDIO_RATE + 0.5);
        int64_t off = o >= (double)d->n ? d->n : (int64_t)o;
        memmove(d->pcm, d->pcm + off, (size_t)(d->n - off) * sizeof(float));
        d->n -= off;
    }
    if (d->n > d->limit) st = g4_adec_too_long(d, err);
done:
    av_frame_free(&fr);
    av_packet_free(&pkt);
    return st;
}

static g4_status g4_audio_run(g4_audio *out, g4_avin *in, double max_seconds, char *err) {
    g4_adec d;
    memset(&d, 0, sizeof d);
    d.in = in;
    d.max_seconds = max_seconds;
    double lim = max_seconds > 0 && max_seconds < G4_AUDIO_HARD_MAX_SEC ? max_seconds : G4_AUDIO_HARD_MAX_SEC;
    d.limit = (int64_t)(lim * G4_AUDIO_RATE + 0.5);
    g4_status st = g4_adec_run(&d, err);
    if (st == G4_OK) {
        float *p = g4_realloc(d.pcm, (size_t)G4_MAX(d.n, (int64_t)1) * sizeof(float));
        if (!p) st = g4_errf(err, G4_ENOMEM, "%s: out of memory", in->name);
        else d.pcm = p;
    }
    swr_free(&d.swr);
    avcodec_free_context(&d.cc);
    g4_avin_close(in);
    if (st != G4_OK) {
        g4_free(d.pcm);
        return st;
    }
    out->pcm = d.pcm;
    out->n = d.n;
    return G4_OK;
}

g4_status g4_audio_decode(g4_audio *out, const uint8_t *buf, size_t n, const char *name, double max_seconds,
                          char *err) {
    memset(out, 0, sizeof *out);
    g4_avin in;
    g4_status st = g4_avin_open_mem(&in, buf, n, name ? name : "audio", err);
    if (st != G4_OK) return st;
    return g4_audio_run(out, &in, max_seconds, err);
}

g4_status g4_audio_load(g4_audio *out, const char *path, double max_seconds, char *err) {
    memset(out, 0, sizeof *out);
    g4_avin in;
    g4_status st = g4_avin_open_file(&in, path, err);
    if (st != G4_OK) return st;
    return g4_audio_run(out, &in, max_seconds, err);
}

void g4_audio_free(g4_audio *a) {
    if (!a) return;
    g4_free(a->pcm);
    a->pcm = NULL;
    a->n = 0;
}
