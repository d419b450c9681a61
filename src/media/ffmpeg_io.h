/* ffmpeg_io.h -- open a media container with FFmpeg from memory or from a file, the one piece audio.c and
 * video.c share: a custom AVIOContext over the bytes (so uploads never touch the disk and no FFmpeg
 * protocol is ever opened), probing with the name as a hint, stream-info discovery, error strings.
 *
 * FFmpeg logs to stderr by default; the library must not print, so the first open silences it
 * (see g4_av_quiet in ffmpeg_io.c for why that one piece of global state is acceptable).
 */
#ifndef G4_FFMPEG_IO_H
#define G4_FFMPEG_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/version.h>

#include "../core/common.h"

/* Where the bytes come from: a memory buffer (not owned) or an open file (owned). */
typedef struct {
    const uint8_t *buf;
    size_t n, pos;
    FILE *f;
    int64_t fsize;
} g4_avsrc;

typedef struct {
    AVFormatContext *fmt;
    AVIOContext *avio;
    g4_avsrc src;
    const char *name; /* for error messages (not owned) */
} g4_avin;

/* Open and probe; name is the error-message label and the probe's file-name hint (may be NULL).
 * On failure everything is released and *in is zeroed. */
g4_status g4_avin_open_mem(g4_avin *in, const uint8_t *buf, size_t n, const char *name, char *err);
g4_status g4_avin_open_file(g4_avin *in, const char *path, char *err);
void g4_avin_close(g4_avin *in);

/* sws_scale(s) of frame rows [0, h) into a new tightly packed RGB24 image of w x h (g4_malloc'd, *out).
 * swscale's SIMD writers store a few bytes past the end of a row (a fuzzed WebM made them overrun a packed
 * buffer and corrupt the heap), so it writes rows padded to 64 bytes with 64 spare bytes at the end, which
 * are then packed in place.  Returns the rows converted, or -1 when out of memory (*out NULL). */
struct SwsContext;
int g4_av_sws_rgb24(struct SwsContext *s, const AVFrame *fr, int w, int h, uint8_t **out);

/* Silence FFmpeg's logging (once per process). */
void g4_av_quiet(void);

/* FFmpeg error code -> text, written into buf (>= 64 bytes); returns buf. */
const char *g4_av_errstr(int code, char *buf, size_t n);

/* A decoded frame's duration in stream time base (the field was renamed in FFmpeg 6). */
static inline int64_t g4_av_frame_duration(const AVFrame *fr) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return fr->duration;
#else
    return fr->pkt_duration;
#endif
}

/* The reference's (torchcodec) pts <-> seconds conversions, bit for bit. */
double g4_av_pts_to_sec(int64_t pts, AVRational tb);
int64_t g4_av_sec_to_pts(double sec, AVRational tb);

#endif
