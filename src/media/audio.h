/* audio.h -- audio for the audio path: decode any FFmpeg-readable file (WAV, MP3, FLAC, OGG/Opus, M4A,
 * or the audio track of a video) to mono float samples at 16 kHz, as the reference loads it.
 *
 * The reference (transformers' load_audio with torchcodec) is torchcodec's
 * AudioDecoder(src, sample_rate=16000, num_channels=1): FFmpeg decode, then libswresample for the channel
 * downmix and the rate conversion.  We call the same libraries with the same settings.
 */
#ifndef G4_AUDIO_H
#define G4_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/common.h"

#define G4_AUDIO_RATE 16000
#define G4_AUDIO_FRAME 640 /* samples per audio soft token (40 ms) */
#define G4_AUDIO_MAX_RATE 768000 /* input sample rates above this are refused (DXD and beyond) */

typedef struct {
    float *pcm;  /* n mono samples at G4_AUDIO_RATE */
    int64_t n;
} g4_audio;

/* Decode from memory (the server's uploads) or a file; max_seconds > 0 refuses longer input
 * (checked while decoding, so memory stays bounded). */
g4_status g4_audio_decode(g4_audio *out, const uint8_t *buf, size_t n, const char *name, double max_seconds,
                          char *err);
g4_status g4_audio_load(g4_audio *out, const char *path, double max_seconds, char *err);
void g4_audio_free(g4_audio *a);

#endif
