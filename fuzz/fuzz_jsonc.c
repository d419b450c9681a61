/* fuzz_jsonc.c -- the JSON-object recogniser of response_format json_object (json_constrain.h):
 * on any bytes, every accepted prefix must close (g4_jsonc_closing) into a complete object, and a
 * complete object must parse with cJSON too (except unpaired \uD800-\uDFFF escapes, which cJSON
 * refuses and json.loads takes).  Aborts on a violation. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../src/text/json_constrain.h"

static int lone_surrogate(const char *s, size_t n) {
    for (size_t i = 0; i + 3 < n; i++)
        if (s[i] == '\\' && s[i + 1] == 'u' && (s[i + 2] | 0x20) == 'd' && strchr("89abcdefABCDEF", s[i + 3])) return 1;
    return 0;
}

static void must_parse(const char *s, size_t n) {
    if (lone_surrogate(s, n)) return;
    char *z = malloc(n + 1);
    memcpy(z, s, n);
    z[n] = 0;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(z, &end, 1);
    if (!j || !cJSON_IsObject(j) || (size_t)(end - z) != n) abort();
    cJSON_Delete(j);
    free(z);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size > 4096) return 0;
    char *buf = malloc(size + G4_JSONC_MAX_CLOSE);
    g4_jsonc s;
    g4_jsonc_init(&s);
    for (size_t i = 0; i <= size; i++) {
        char c[G4_JSONC_MAX_CLOSE];
        const size_t nc = g4_jsonc_closing(&s, c);
        g4_jsonc t = s;
        if (!g4_jsonc_feed(&t, c, nc) || !g4_jsonc_done(&t)) abort();
        memcpy(buf, data, i);
        memcpy(buf + i, c, nc);
        must_parse(buf, i + nc);
        if (i == size || !g4_jsonc_feed(&s, (const char *)data + i, 1)) break;
    }
    free(buf);
    return 0;
}
