/* api_chat.c -- POST /v1/chat/completions, and the prompt side shared with /v1/completions:
 * parse the body (api_req.c), decode the media into soft-token items (images at 280 tokens,
 * video frames at 70, audio up to 30 s), render the conversation in Gemma 4's chat format,
 * expand the media placeholders, tokenize, and hand over to the generation loop (api_gen.c).
 */
#include "api.h"

#include <string.h>

#include "../model/model.h"

/* The HTTP status for a failed parse/prepare step. */
void g4_api_reply_status(g4_http_req *r, g4_status st, const char *param, const char *msg) {
    if (st == G4_ENOMEM) g4_http_error(r, 500, NULL, NULL, NULL, "%s", msg);
    else if (st == G4_EBUSY) {
        g4_http_header(r, "Retry-After", "1");
        g4_http_error(r, 503, NULL, NULL, NULL, "%s", msg);
    } else g4_http_error(r, 400, NULL, param && *param ? param : NULL, NULL, "%s", msg);
}

static g4_status decode_media(const g4_api_media *md, int image_tokens, g4_mm_item *it, int i, char *err) {
    char e2[G4_ERR_LEN], name[32];
    g4_status st;
    snprintf(name, sizeof name, "media input %d", i);
    if (md->kind == G4_MM_IMAGE) {
        g4_image im;
        if ((st = g4_image_decode(&im, md->data, md->len, name, err))) return st;
        st = g4_mm_from_image(it, &im, image_tokens, e2);
        g4_image_free(&im);
    } else if (md->kind == G4_MM_AUDIO) {
        g4_audio a;
        const double max_s = (double)G4_MM_AUDIO_MAX_TOKENS * G4_AUDIO_FRAME / G4_AUDIO_RATE;
        if ((st = g4_audio_decode(&a, md->data, md->len, name, max_s + 1, err))) return st;
        if (a.n > (int64_t)G4_MM_AUDIO_MAX_TOKENS * G4_AUDIO_FRAME)
            st = g4_errf(e2, G4_EINVAL, "%.1f s of audio is over the model's 30 s per clip", (double)a.n / G4_AUDIO_RATE);
        else st = g4_mm_from_audio(it, a.pcm, a.n, e2);
        g4_audio_free(&a);
    } else {
        g4_video v;
        g4_video_params vp = {0};
        if ((st = g4_video_decode(&v, md->data, md->len, name, &vp, err))) return st;
        st = g4_mm_from_video(it, &v, G4_MM_VIDEO_FRAME_TOKENS, e2);
        g4_video_free(&v);
    }
    if (st) g4_errf(err, st, "%s: %s", name, e2);
    return st;
}

/* The prompt as ids: the rendered conversation (chat) or the raw prompt with <bos> in front. */
static g4_status prompt_ids(const g4_api_request *q, const g4_tokenizer *tok, const g4_mm_item *items, int **ids,
                            int *n, char *param, char *err) {
    char *text = NULL, *x;
    size_t len;
    g4_status st;
    if (!q->chat && q->prompt_ids) {
        *ids = g4_malloc(sizeof(int) * (size_t)q->n_prompt_ids);
        if (!*ids) return g4_errf(err, G4_ENOMEM, "out of memory");
        memcpy(*ids, q->prompt_ids, sizeof(int) * (size_t)q->n_prompt_ids);
        *n = q->n_prompt_ids;
        return G4_OK;
    }
    if (q->chat) {
        if ((st = g4_chat_render(q->conv, &text, &len, err))) return snprintf(param, 64, "messages"), st;
    } else {
        const int bos = !strncmp(q->prompt, G4_TOK_BOS, strlen(G4_TOK_BOS));
        len = strlen(q->prompt) + 6;
        if (!(text = g4_malloc(len))) return g4_errf(err, G4_ENOMEM, "out of memory");
        snprintf(text, len, "%s%s", bos ? "" : G4_TOK_BOS, q->prompt);
    }
    if (q->n_media) {
        st = g4_mm_expand(text, items, q->n_media, &x, err);
        g4_free(text);
        if (st) return snprintf(param, 64, "messages"), st;
        text = x;
    }
    st = g4_tokenizer_encode(tok, text, strlen(text), ids, n, 1, err);
    g4_free(text);
    return st;
}

void g4_api_generate(g4_http_req *r, g4_api *api, g4_api_request *q) {
    char err[G4_ERR_LEN], param[64] = "";
    const g4_model *m = g4_engine_model(api->engine);
    const g4_tokenizer *tok = g4_engine_tokenizer(api->engine);
    g4_mm_item items[G4_API_MAX_MEDIA];
    int n_items = 0, *ids = NULL, n_ids = 0;
    g4_status st = G4_OK;
    memset(items, 0, sizeof items);
    if (!tok && !(!q->chat && q->prompt_ids))
        st = g4_errf(err, G4_EINVAL, "%s has no tokenizer: only /v1/completions with token ids works", api->model_id);
    for (int i = 0; i < q->n_media && !st; i++) {
        const int vision = q->media[i].kind != G4_MM_AUDIO;
        if (vision ? !m->w.has_vision : !m->w.has_audio)
            st = g4_errf(err, G4_EINVAL, "media input %d: the model has no %s embedder%s", i, vision ? "vision" : "audio",
                         m->gguf && !m->mmproj ? " (start the server with --mmproj FILE)" : "");
        else if (!(st = decode_media(&q->media[i], g4_config_image_tokens(&m->cfg), &items[i], i, err))) n_items++;
    }
    if (!st) st = prompt_ids(q, tok, items, &ids, &n_ids, param, err);
    const int n_ctx = g4_engine_n_ctx(api->engine);
    if (!st && n_ids >= n_ctx)
        st = g4_errf(err, G4_EINVAL, "the prompt is %d tokens, the context holds %d (start the server with a larger --ctx)",
                     n_ids, n_ctx);
    if (!st && (st = g4_sampler_params_check(&q->sp, g4_model_n_vocab(m), err))) st = G4_EINVAL;
    if (st) g4_api_reply_status(r, st, param, err);
    else g4_api_run(r, api, q, ids, n_ids, items, n_items);
    g4_free(ids);
    for (int i = 0; i < n_items; i++) g4_mm_item_free(&items[i]);
}

void g4_api_chat(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    g4_api_request q;
    char err[G4_ERR_LEN], param[64];
    size_t len;
    const char *body = g4_http_body(r, &len);
    g4_status st = g4_api_parse(&q, body, len, 1, api->media_dir, api->max_media, param, err);
    if (st) { g4_api_reply_status(r, st, param, err); return; }
    g4_api_generate(r, api, &q);
    g4_api_request_free(&q);
}
