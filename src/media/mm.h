/* mm.h -- multimodal prompts: decoded media -> soft-token inputs, placeholder expansion, and the
 * evaluation of a token sequence whose image/audio/video runs are filled by the embedders.
 *
 * The flow (what transformers' Gemma4UnifiedProcessor + generate() do, spec §2.4-§4):
 *   1. each medium becomes a g4_mm_item: image patches (budget 70..1120 tokens), audio frames of 640
 *      samples, or video frames (70 tokens each) with their timestamps;
 *   2. the rendered chat text carries one placeholder per item (<|image|>, <|audio|>, <|video|>);
 *      g4_mm_expand replaces them, in order, by the processor's expansion strings
 *      (<|image> + N x <|image|> + <image|>; "mm:ss <|image>...<image|>" per video frame; ...);
 *   3. the tokenizer turns that text into ids, and g4_mm_eval evaluates it: text runs as tokens, each
 *      run of placeholder ids as the next item's embeddings (images/frames bidirectional).
 */
#ifndef G4_MM_H
#define G4_MM_H

#include "../core/common.h"
#include "../model/ctx.h"
#include "audio.h"
#include "image.h"
#include "video.h"

typedef enum { G4_MM_IMAGE, G4_MM_AUDIO, G4_MM_VIDEO } g4_mm_kind;

typedef struct {
    g4_mm_kind kind;
    int n_tok;     /* soft tokens of the item (video: per frame) */
    int n_frames;  /* video: frames; 1 otherwise */
    float *data;   /* image/video: [n_frames * n_tok][6912] patches (HF order); audio: [n_tok][640] frames */
    int *pos;      /* image/video: (x, y) per patch; NULL for audio */
    double *t_sec; /* video: timestamp of each frame */
    int attached;  /* the sound track of the item before it (a video): goes right after that item */
} g4_mm_item;

#define G4_MM_DEFAULT_IMAGE_TOKENS 280
#define G4_MM_VIDEO_FRAME_TOKENS 70
#define G4_MM_AUDIO_MAX_TOKENS 750 /* 30 s: the processor's audio_seq_length */

g4_status g4_mm_from_image(g4_mm_item *it, const g4_image *im, int max_soft_tokens, char *err);
/* Frames of 640 samples, the last zero-padded; silence is fine, an empty clip is an error. */
g4_status g4_mm_from_audio(g4_mm_item *it, const float *pcm, int64_t n, char *err);
g4_status g4_mm_from_video(g4_mm_item *it, const g4_video *v, int max_soft_tokens, char *err);
void g4_mm_item_free(g4_mm_item *it);

/* The prompt with every placeholder replaced by its item's expansion (g4_free *out).  The k-th
 * placeholder of a kind takes the k-th item of that kind; the counts must match exactly. */
g4_status g4_mm_expand(const char *prompt, const g4_mm_item *items, int n_items, char **out, char *err);

/* Evaluate ids at the context's next positions; runs of the config's image/video/audio ids take the
 * items in order (their lengths must match).  logits: the last position's (may be NULL). */
g4_status g4_mm_eval(g4_ctx *c, const int *ids, int n_ids, const g4_mm_item *items, int n_items, float *logits,
                     char *err);

#endif
