/* video.h -- video for the vision path: pick frames as the reference's Gemma4UnifiedVideoProcessor does
 * (default 32 uniformly sampled frames) and decode them to RGB as torchcodec does; each frame then goes
 * through the image path with a budget of 70 soft tokens (shared/spec/gemma4-12b.md §4).
 */
#ifndef G4_VIDEO_H
#define G4_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/common.h"
#include "image.h"

typedef struct {
    int n_frames;
    g4_image *frames; /* n_frames decoded RGB frames */
    double *t_sec;    /* presentation time of each frame, seconds (for the mm:ss labels) */
    double fps;       /* the stream's average frame rate */
    double duration;  /* seconds */
} g4_video;

typedef struct {
    int num_frames;  /* frames to sample uniformly (0 = the reference default, 32) */
    double fps;      /* > 0: sample at this rate instead of num_frames (like the processor's `fps`) */
    int max_frames;  /* > 0: cap on the frames taken */
    int64_t max_pixels; /* > 0: refuse frames larger than this (default and ceiling: G4_VIDEO_MAX_PIXELS) */
} g4_video_params;

/* One frame at most 4096x2304 (UHD and DCI 4K).  A decoder keeps up to ~20 frames (references, pool),
 * at up to 6 bytes a pixel for 16-bit 4:4:4, so this bounds a video decode near 1 GiB. */
#define G4_VIDEO_MAX_PIXELS ((int64_t)4096 * 2304)

g4_status g4_video_decode(g4_video *out, const uint8_t *buf, size_t n, const char *name, const g4_video_params *p,
                          char *err);
g4_status g4_video_load(g4_video *out, const char *path, const g4_video_params *p, char *err);
void g4_video_free(g4_video *v);

#endif
