/* media.c -- decode the CLI's media inputs (see media.h). */
#include "media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_media_opt(int argc, char **argv, int *i, cli_media *md) {
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int kind = !strcmp(a, "--image") ? G4_MM_IMAGE : !strcmp(a, "--audio") ? G4_MM_AUDIO : !strcmp(a, "--video") ? G4_MM_VIDEO : -1;
    if (kind >= 0) {
        if (!v) { fprintf(stderr, "error: %s needs a file\n", a); return -1; }
        if (md->n == CLI_MAX_MEDIA) { fprintf(stderr, "error: at most %d media inputs\n", CLI_MAX_MEDIA); return -1; }
        md->in[md->n].kind = (g4_mm_kind)kind;
        md->in[md->n++].path = v;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--image-tokens")) {
        if (!cli_int(a, v, 70, 1120, &md->image_tokens)) return -1;
        if (!g4_image_tokens_valid(md->image_tokens)) {
            fprintf(stderr, "error: --image-tokens must be 70, 140, 280, 560 or 1120 (got %ld)\n", md->image_tokens);
            return -1;
        }
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--fps")) { if (!cli_float(a, v, 0.001, 1000, &md->fps)) return -1; (*i)++; return 1; }
    if (!strcmp(a, "--max-frames")) { if (!cli_int(a, v, 1, 10000, &md->max_frames)) return -1; (*i)++; return 1; }
    if (!strcmp(a, "--video-audio")) { md->video_audio = 1; return 1; }
    if (!strcmp(a, "--audio-chunk")) { md->audio_chunk = 1; return 1; }
    return 0;
}

void cli_media_free(g4_mm_item *items, int n) {
    for (int i = 0; i < n; i++) g4_mm_item_free(&items[i]);
    free(items);
}

/* Audio as one block, or (audio_chunk) as blocks of at most 30 s. */
static g4_status add_audio(const g4_audio *a, int chunk, const char *path, g4_mm_item *items, int *n, int cap, char *err) {
    const int64_t max = (int64_t)G4_MM_AUDIO_MAX_TOKENS * G4_AUDIO_FRAME;
    if (a->n > max && !chunk)
        return g4_errf(err, G4_EINVAL, "%s: %.1f s of audio is over the model's 30 s per clip (use --audio-chunk to split it)",
                       path, (double)a->n / G4_AUDIO_RATE);
    for (int64_t off = 0; off < a->n || (a->n == 0 && off == 0); off += max) {
        if (*n == cap) return g4_errf(err, G4_EINVAL, "%s: too many audio chunks", path);
        g4_status st = g4_mm_from_audio(&items[*n], a->pcm + off, G4_MIN(max, a->n - off), err);
        if (st) return g4_errf(err, st, "%s: %s", path, err);
        (*n)++;
        if (a->n == 0) break;
    }
    return G4_OK;
}

g4_status cli_media_load(const cli_media *md, int image_tokens, g4_mm_item **items_out, int *n_items, int *max_block,
                         char *err) {
    const int cap = 4 * CLI_MAX_MEDIA + 64;
    g4_mm_item *items = calloc((size_t)cap, sizeof *items);
    if (!items) return g4_errf(err, G4_ENOMEM, "out of memory");
    int n = 0;
    g4_status st = G4_OK;
    const int budget = md->image_tokens ? (int)md->image_tokens : image_tokens;
    *max_block = 0;
    for (int i = 0; i < md->n && !st; i++) {
        const char *path = md->in[i].path;
        char e2[G4_ERR_LEN];
        if (md->in[i].kind == G4_MM_IMAGE) {
            g4_image im;
            if (!(st = g4_image_load(&im, path, err))) {
                st = g4_mm_from_image(&items[n], &im, budget, e2);
                g4_image_free(&im);
                if (st) g4_errf(err, st, "%s: %s", path, e2);
                else *max_block = G4_MAX(*max_block, items[n].n_tok), n++; /* (G4_MAX evaluates twice) */
            }
        } else if (md->in[i].kind == G4_MM_AUDIO) {
            g4_audio a;
            /* bounded decode: a little over what could be used */
            const double max_s = md->audio_chunk ? 3600.0 : G4_MM_AUDIO_MAX_TOKENS * (double)G4_AUDIO_FRAME / G4_AUDIO_RATE + 1;
            if (!(st = g4_audio_load(&a, path, max_s, err))) {
                st = add_audio(&a, md->audio_chunk, path, items, &n, cap, err);
                g4_audio_free(&a);
            }
        } else {
            g4_video v;
            g4_video_params vp = {.num_frames = 0, .fps = md->fps, .max_frames = (int)md->max_frames};
            if (!(st = g4_video_load(&v, path, &vp, err))) {
                st = g4_mm_from_video(&items[n], &v, G4_MM_VIDEO_FRAME_TOKENS, e2);
                g4_video_free(&v);
                if (st) g4_errf(err, st, "%s: %s", path, e2);
                else *max_block = G4_MAX(*max_block, items[n].n_tok), n++; /* (G4_MAX evaluates twice) */
            }
            if (!st && md->video_audio) {
                g4_audio a;
                const int first = n;
                if (!(st = g4_audio_load(&a, path, md->audio_chunk ? 3600.0 : 31.0, err))) {
                    st = add_audio(&a, md->audio_chunk, path, items, &n, cap, err);
                    g4_audio_free(&a);
                }
                for (int k = first; k < n; k++) items[k].attached = 1;
            }
        }
    }
    if (st) { cli_media_free(items, n); return st; }
    *items_out = items;
    *n_items = n;
    return G4_OK;
}
