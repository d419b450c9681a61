/* media.h -- the CLI's media options (--image/--audio/--video and friends), decoded into soft-token
 * inputs for the prompt (media/mm.h). */
#ifndef G4_CLI_MEDIA_H
#define G4_CLI_MEDIA_H

#include "media/mm.h"

#define CLI_MAX_MEDIA 64

typedef struct {
    struct { g4_mm_kind kind; const char *path; } in[CLI_MAX_MEDIA];
    int n;
    long image_tokens;   /* --image-tokens: 70, 140, 280, 560, 1120 */
    double fps;          /* --fps (0 = the processor's 32 uniform frames) */
    long max_frames;     /* --max-frames (0 = none) */
    int video_audio;     /* --video-audio: also the video's sound track, as an audio block after it */
    int audio_chunk;     /* --audio-chunk: split clips over 30 s into 30 s blocks instead of refusing them */
} cli_media;

#define CLI_MEDIA_USAGE                                                                              \
    "  --image FILE, --audio FILE, --video FILE\n"                                                    \
    "                          media for the prompt (repeatable; in the order given, or where the\n"  \
    "                          prompt has <image>, <audio>, <video> markers)\n"                      \
    "  --mmproj FILE           llama.cpp mmproj file with the vision/audio embedders\n"               \
    "  --image-tokens N        soft tokens per image: 70, 140, 280, 560, 1120 (default: the model's, else 280)\n" \
    "  --fps X, --max-frames N video frame sampling (default: 32 frames spread uniformly)\n"          \
    "  --video-audio           also feed the video's sound track (an audio block after the frames)\n" \
    "  --audio-chunk           split audio over 30 s into 30 s blocks (default: refuse it)\n"

/* If argv[*i] is a media option, store it, step *i past its value and return 1; 0 if not one;
 * -1 after printing an error. */
int cli_media_opt(int argc, char **argv, int *i, cli_media *md);

/* Decode every input into items (g4_mm_item_free each, then free the array); *n_items may exceed
 * md->n (audio chunks, video sound tracks).  *max_block: the largest bidirectional block.  Images get
 * md->image_tokens soft tokens, or image_tokens (the model's default) when that is not given. */
g4_status cli_media_load(const cli_media *md, int image_tokens, g4_mm_item **items, int *n_items, int *max_block, char *err);
void cli_media_free(g4_mm_item *items, int n);

#endif
