/* fuzz_request.c -- libFuzzer target for the server's request parsing (src/server/api_req.c).
 *
 * The input is a request body, parsed as /v1/chat/completions and as /v1/completions wants it
 * (g4_api_parse: JSON, conversation, sampling fields, stop strings, media parts with data: URIs and
 * base64), and also decoded as plain base64.  No model is loaded and local files are refused
 * (media_dir NULL).  Errors are fine; crashes, leaks, or an error without a message are bugs.
 * Bounded: inputs over 256 KiB are skipped.  Seeds: fuzz/seeds-request.
 */
#include "server/api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (256u << 10)) return 0;
    char err[G4_ERR_LEN], param[64];
    for (int chat = 0; chat < 2; chat++) {
        g4_api_request q;
        err[0] = 0;
        g4_status st = g4_api_parse(&q, (const char *)data, size, chat, NULL, 1u << 20, param, err);
        if (st != G4_OK) {
            if (!err[0]) __builtin_trap();
            continue;
        }
        if (chat ? !q.conv : !q.prompt && !q.n_prompt_ids) __builtin_trap();
        for (int i = 0; i < q.n_media; i++)
            if (!q.media[i].data || !q.media[i].len) __builtin_trap();
        if (chat) { /* the prompt text must render (or fail with a message) */
            char *text = NULL;
            err[0] = 0;
            if (g4_chat_render(q.conv, &text, NULL, err) != G4_OK && !err[0]) __builtin_trap();
            g4_free(text);
        }
        g4_api_request_free(&q);
    }
    unsigned char *out;
    size_t n;
    if (g4_api_base64((const char *)data, size, &out, &n, err) == G4_OK) g4_free(out);
    return 0;
}
