/* fuzz_audio.c -- libFuzzer target: g4_audio_decode (max_seconds 2) and g4_video_decode (2 frames of at most 1080p) over
 * arbitrary bytes, capped at 64 KiB so each run stays short.  Seeds: fuzz/seeds-audio (tiny clips of
 * the containers and codecs the tests use).  A failure must name the input in its error text; a
 * success must be self-consistent.  FFmpeg's own logging is silenced by the library (ffmpeg_io.c).
 */
#include "media/audio.h"
#include "media/video.h"

#include <stdint.h>
#include <string.h>

#define FUZZ_MAX_BYTES (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[G4_ERR_LEN];
    if (size > FUZZ_MAX_BYTES) return 0;
    g4_audio a;
    g4_status s = g4_audio_decode(&a, data, size, "fuzz.bin", 2.0, err);
    if (s != G4_OK) {
        if (!strstr(err, "fuzz.bin") || a.pcm) __builtin_trap();
    } else {
        if (a.n < 0 || a.n > 2 * G4_AUDIO_RATE) __builtin_trap();
        volatile float acc = 0;
        for (int64_t i = 0; i < a.n; i++) acc += a.pcm[i];
        (void)acc;
        g4_audio_free(&a);
    }
    g4_video_params p = {2, 0, 0, 1920 * 1088}; /* frames up to 1080p keep a run's memory small */
    g4_video v;
    s = g4_video_decode(&v, data, size, "fuzz.bin", &p, err);
    if (s != G4_OK) {
        if (!strstr(err, "fuzz.bin") || v.frames) __builtin_trap();
        return 0;
    }
    if (v.n_frames < 1 || v.n_frames > 2) __builtin_trap();
    for (int i = 0; i < v.n_frames; i++) {
        const g4_image *im = &v.frames[i];
        if (im->w <= 0 || im->h <= 0 || !im->rgb) __builtin_trap();
        volatile uint8_t x = im->rgb[(size_t)im->w * (size_t)im->h * 3 - 1];
        (void)x;
    }
    g4_video_free(&v);
    return 0;
}
