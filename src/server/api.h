/* api.h -- the OpenAI-compatible API of `gemma4 serve` on top of the engine (engine.h) and the
 * HTTP layer (http.h).
 *
 *   api_req.c   request bodies -> g4_api_request (sampling parameters, stop strings, media
 *               blobs from data: URIs and --media-dir files); no model needed (fuzz target)
 *   api_chat.c  POST /v1/chat/completions; media decoding and the prompt ids (shared with
 *               /v1/completions)
 *   api_gen.c   the generation loop: detokenize, stop strings, reasoning/content/tool-call split,
 *               SSE chunks or the full response object
 *   api_misc.c  /v1/completions, /v1/models, /health, /metrics, /tokenize, /detokenize, the route
 *               table; page.c the chat page at /
 */
#ifndef G4_API_H
#define G4_API_H

#include <stddef.h>
#include <stdint.h>

#include "../media/mm.h"
#include "../text/chat.h"
#include "engine.h"
#include "http.h"

#define G4_API_MAX_STOP 16
#define G4_API_MAX_MEDIA 64

typedef struct {
    g4_engine *engine;
    const char *model_id;  /* what /v1/models lists and responses carry */
    const char *media_dir; /* local media files are allowed only under it (NULL = none) */
    size_t max_media;      /* bytes one media input may have */
    long created;          /* unix time the server started */
} g4_api;

typedef struct {
    g4_mm_kind kind;
    unsigned char *data; /* the file's bytes (decoded base64 or read from --media-dir) */
    size_t len;
} g4_api_media;

typedef struct {
    int chat;                  /* 1: chat.completions (conv), 0: completions (prompt or prompt_ids) */
    g4_chat *conv;
    char *prompt;
    int *prompt_ids, n_prompt_ids;
    g4_sampler_params sp;
    int max_tokens;            /* 0 = up to the end of the context */
    char *stop[G4_API_MAX_STOP];
    int n_stop;
    int stream, include_usage, ignore_eos;
    int logprobs, top_logprobs; /* chat: logprobs true + top_logprobs N; completions: logprobs N */
    int json;                   /* response_format json_object: constrained to one JSON object */
    int tool_required;          /* tool_choice "required" or a named function: the reply starts with a call */
    char *tool_name;            /* tool_choice {"type":"function","function":{"name":...}} */
    g4_api_media media[G4_API_MAX_MEDIA]; /* chat: in message/part order, which is prompt order */
    int n_media;
} g4_api_request;

/* Parse a request body.  media_dir NULL forbids local files; max_media bounds one input.
 * Errors: G4_EINVAL / G4_EUNSUPPORTED (a 400; param names the field, "" if none), G4_ENOMEM,
 * G4_EIO (a --media-dir file could not be read).  On error q holds nothing to free. */
g4_status g4_api_parse(g4_api_request *q, const char *body, size_t len, int chat, const char *media_dir,
                       size_t max_media, char param[64], char *err);
void g4_api_request_free(g4_api_request *q);

/* Base64 (standard or URL-safe alphabet, padding optional, no other bytes) -> *out (g4_free). */
g4_status g4_api_base64(const char *s, size_t n, unsigned char **out, size_t *len, char *err);

/* Run q (already parsed) and reply: decode media, tokenize, generate, stream or answer (api_chat.c). */
void g4_api_generate(g4_http_req *r, g4_api *api, g4_api_request *q);
/* The generation loop and the response (api_gen.c): ids/items are the prompt, ready for the engine. */
void g4_api_run(g4_http_req *r, g4_api *api, const g4_api_request *q, const int *ids, int n_ids,
                const g4_mm_item *items, int n_items);
/* An error reply for a g4_status: 400 (param names the field, may be NULL or ""), 503 for
 * G4_EBUSY (with Retry-After), 500 for G4_ENOMEM. */
void g4_api_reply_status(g4_http_req *r, g4_status st, const char *param, const char *msg);

/* Route handlers (ud = g4_api *). */
void g4_api_chat(g4_http_req *r, void *ud);
void g4_api_completions(g4_http_req *r, void *ud);
const g4_http_route *g4_api_routes(int *n);

/* The chat page (page.c). */
extern const char g4_api_page_html[];

#endif
