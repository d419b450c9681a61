/* test_config.c -- config.json parsing against transformers itself.
 *
 * tests/data/config/<case>.json were written by transformers (or hand-written in the hub's
 * older form), and <case>.expected hold what transformers reads back from them
 * (tools/make_st_fixtures.py): sizes, layer types, per-type head dims and kv heads, rope
 * thetas, rotated dims counted from the rotary embedding, generation token ids.  Then the
 * refusals (unsupported features, bad types, bad ranges), g4_config_validate, truncation and
 * an allocation-failure sweep. */
#include "check.h"
#include "model/config.h"

#include <stdlib.h>
#include <string.h>

#define DATA "tests/data/config"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    } else {
        b[n] = 0;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Parse text that is NOT NUL-terminated: copy into an exact-size heap block so ASan sees
 * any read past len. */
static g4_status parse_exact(const char *text, size_t len, const char *what, g4_config *c, char *err) {
    char *b = malloc(len ? len : 1);
    memcpy(b, text, len);
    g4_status s = g4_hfconfig_parse(b, len, what, c, err);
    free(b);
    return s;
}

static int default_eos_ok(const g4_config *c) {
    return c->n_eos == 3 && c->eos_ids[0] == 1 && c->eos_ids[1] == 106 && c->eos_ids[2] == 50;
}

static void check_case(const char *name) {
    char path[256], err[G4_ERR_LEN] = "";
    size_t jl, el;
    snprintf(path, sizeof path, DATA "/%s.json", name);
    char *json = slurp(path, &jl);
    snprintf(path, sizeof path, DATA "/%s.expected", name);
    char *exp = slurp(path, &el);
    CHECKF(json && exp, "%s: fixture missing", name);
    if (!json || !exp) {
        free(json);
        free(exp);
        return;
    }
    g4_config c;
    g4_status s = parse_exact(json, jl, name, &c, err);
    CHECKF(s == G4_OK, "%s: %s", name, err);
    if (s) {
        free(json);
        free(exp);
        return;
    }
    /* did the file say anything about eos? then the list must be the file's */
    int eos_explicit = strstr(json, "\"eos_token_id\"") != NULL;
    int nkeys = 0;
    for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n")) {
        char key[64];
        int off = 0;
        if (sscanf(line, "%63s %n", key, &off) != 1) continue;
        const char *v = line + off;
        long iv = strtol(v, NULL, 10);
        double dv = strtod(v, NULL);
        nkeys++;
#define INT_KEY(k, field)                                                                            \
        if (!strcmp(key, k)) {                                                                       \
            CHECKF(c.field == iv, "%s: %s = %d, transformers says %ld", name, k, (int)c.field, iv); \
            continue;                                                                                \
        }
#define FLT_KEY(k, field)                                                                            \
        if (!strcmp(key, k)) {                                                                       \
            CHECKF(c.field == (float)dv, "%s: %s = %.9g, transformers says %.9g", name, k, (double)c.field, dv); \
            continue;                                                                                \
        }
        INT_KEY("n_vocab", n_vocab)
        INT_KEY("d_model", d_model)
        INT_KEY("n_layer", n_layer)
        INT_KEY("n_head", n_head)
        INT_KEY("d_ff", d_ff)
        INT_KEY("n_kv_swa", n_kv_swa)
        INT_KEY("n_kv_full", n_kv_full)
        INT_KEY("d_head_swa", d_head_swa)
        INT_KEY("d_head_full", d_head_full)
        INT_KEY("swa", swa)
        INT_KEY("k_eq_v", k_eq_v)
        INT_KEY("n_ctx_train", n_ctx_train)
        FLT_KEY("rope_theta_swa", rope_theta_swa)
        FLT_KEY("rope_theta_full", rope_theta_full)
        FLT_KEY("rms_eps", rms_eps)
        FLT_KEY("final_softcap", final_softcap)
        if (!strcmp(key, "is_full")) {
            int l = 0, bad = 0;
            char *p = (char *)v, *q;
            for (long x = strtol(p, &q, 10); q != p; p = q, x = strtol(p, &q, 10), l++)
                if (l >= G4_MAX_LAYERS || c.is_full[l] != x) bad++;
            CHECKF(l == c.n_layer && !bad, "%s: is_full differs (%d layers, %d wrong)", name, l, bad);
        } else if (!strcmp(key, "rope_dims_full")) {
            CHECKF(g4_rope_dims_full(&c) == iv, "%s: rope dims full %d, transformers rotates %ld", name,
                   g4_rope_dims_full(&c), iv);
        } else if (!strcmp(key, "rope_dims_swa")) {
            CHECKF(c.d_head_swa == iv, "%s: sliding layers rotate %ld dims, want all %d", name, iv, c.d_head_swa);
        } else if (!strcmp(key, "bos_id")) {
            CHECKF(c.bos_id == (strncmp(v, "default", 7) ? iv : 2), "%s: bos %d (%s)", name, c.bos_id, v);
        } else if (!strcmp(key, "pad_id")) {
            CHECKF(c.pad_id == (strncmp(v, "default", 7) ? iv : 0), "%s: pad %d (%s)", name, c.pad_id, v);
        } else if (!strcmp(key, "eos_ids")) {
            int ids[64], n = 0;
            char *p = (char *)v, *q;
            for (long x = strtol(p, &q, 10); q != p && n < 64; p = q, x = strtol(p, &q, 10)) ids[n++] = (int)x;
            CHECKF(n > 0 && c.eos_id == ids[0], "%s: eos_id %d want %d", name, c.eos_id, n ? ids[0] : -1);
            if (eos_explicit) {
                int same = c.n_eos == n;
                for (int i = 0; same && i < n; i++) same = c.eos_ids[i] == ids[i];
                CHECKF(same, "%s: eos list differs (n_eos %d, want %d)", name, c.n_eos, n);
            } else {
                CHECKF(default_eos_ok(&c), "%s: file has no eos: want the default list", name);
            }
        } else {
            CHECKF(0, "%s: unknown expected key %s", name, key);
        }
    }
    CHECKF(nkeys == 22, "%s: %d expected keys", name, nkeys);
    CHECK(c.n_suppress == 2 && c.suppress_ids[0] == 258883 && c.suppress_ids[1] == 258882);
    CHECK(g4_config_validate(&c, name, err) == G4_OK);

    /* Truncations: every proper prefix that cuts the object is an error naming the file. */
    size_t last = jl;
    while (last > 0 && json[last - 1] != '}') last--;
    int clean = 1;
    for (size_t k = 0; k < jl; k++) {
        g4_config t;
        err[0] = 0;
        s = parse_exact(json, k, name, &t, err);
        int want_ok = k >= last;
        if ((s == G4_OK) != want_ok || (!want_ok && !strstr(err, name))) {
            clean = 0;
            fprintf(stderr, "%s: prefix %zu: status %d err '%s'\n", name, k, s, err);
        }
    }
    CHECKF(clean, "%s: truncation", name);
    free(json);
    free(exp);
}

static const char *cases[] = {
    "small12", "defaults", "gemma4_12b", "gemma4_12b_legacy", "minimal_unified", "sparse_text", "empty",
    "bare_text", "layer_types", "layer_types_legacy", "old_gemma4", "kv_no_override", "rope_variants",
    "plc_null", "plc_custom", "misc",
};

/* ---- refusals ---------------------------------------------------------------------------------- */

typedef struct {
    const char *json;
    g4_status want;
    const char *msg;
} bad_case;

/* a valid small text config plus extra fields (later duplicate keys win, as in Python) */
#define TXT(extra) "{\"model_type\":\"gemma4_unified_text\",\"num_hidden_layers\":6,\"hidden_size\":64," \
                   "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":16,\"global_head_dim\":32," \
                   "\"vocab_size\":512," extra "\"comment\":\"end\"}"

static const bad_case bad[] = {
    {TXT(""), G4_OK, NULL},
    {TXT("\"hidden_size_per_layer_input\":256,"), G4_EUNSUPPORTED, "hidden_size_per_layer_input"},
    {TXT("\"hidden_size_per_layer_input\":0,"), G4_OK, NULL},
    {"{\"model_type\":\"gemma4_text\"}", G4_EUNSUPPORTED, "hidden_size_per_layer_input"},
    {"{\"model_type\":\"gemma4\",\"text_config\":{}}", G4_EUNSUPPORTED, "text_config.hidden_size_per_layer_input"},
    {TXT("\"num_kv_shared_layers\":2,"), G4_EUNSUPPORTED, "num_kv_shared_layers"},
    {TXT("\"num_kv_shared_layers\":-1,"), G4_EINVAL, "num_kv_shared_layers"},
    {TXT("\"enable_moe_block\":true,"), G4_EUNSUPPORTED, "enable_moe_block"},
    {TXT("\"num_experts\":8,"), G4_EUNSUPPORTED, "num_experts"},
    {TXT("\"num_experts\":null,\"enable_moe_block\":false,"), G4_OK, NULL},
    {TXT("\"use_double_wide_mlp\":true,"), G4_EUNSUPPORTED, "use_double_wide_mlp"},
    {TXT("\"attn_logit_softcapping\":50.0,"), G4_EUNSUPPORTED, "attn_logit_softcapping"},
    {TXT("\"attn_logit_softcapping\":null,"), G4_OK, NULL},
    {TXT("\"hidden_activation\":\"gelu\","), G4_EUNSUPPORTED, "hidden_activation \"gelu\""},
    {TXT("\"hidden_activation\":null,"), G4_EFORMAT, "hidden_activation"},
    {TXT("\"use_bidirectional_attention\":\"all\","), G4_EUNSUPPORTED, "use_bidirectional_attention"},
    {TXT("\"use_bidirectional_attention\":\"some\","), G4_EFORMAT, "use_bidirectional_attention"},
    {TXT("\"use_bidirectional_attention\":null,"), G4_OK, NULL},
    {TXT("\"attention_bias\":true,"), G4_EUNSUPPORTED, "attention_bias"},
    {TXT("\"tie_word_embeddings\":false,"), G4_EUNSUPPORTED, "tie_word_embeddings"},
    {"{\"model_type\":\"gemma4_unified\",\"tie_word_embeddings\":false}", G4_EUNSUPPORTED, "tie_word_embeddings"},
    {"{\"model_type\":\"llama\"}", G4_EUNSUPPORTED, "model_type \"llama\""},
    {"{\"model_type\":\"gemma4_unified\",\"text_config\":{\"model_type\":\"gemma3_text\"}}", G4_EUNSUPPORTED,
     "text_config.model_type"},
    {"{\"model_type\":\"gemma4_unified\",\"text_config\":[]}", G4_EFORMAT, "text_config: want an object"},
    {"{\"model_type\":5}", G4_EFORMAT, "model_type: want a string"},
    {"[]", G4_EFORMAT, "not a JSON object"},
    {"", G4_EFORMAT, "invalid JSON"},
    {"{\"a\":}", G4_EFORMAT, "invalid JSON"},
    {"{} x", G4_EFORMAT, "unexpected bytes"},
    {"{}  \n", G4_OK, NULL},
    /* types */
    {TXT("\"vocab_size\":\"512\","), G4_EFORMAT, "vocab_size: want an integer (got a string)"},
    {"{\"vocab_size\":1.5}", G4_EFORMAT, "vocab_size: want an integer (got 1.5)"},
    {"{\"vocab_size\":null}", G4_EFORMAT, "vocab_size: want an integer (got null)"},
    {"{\"vocab_size\":1e300}", G4_EFORMAT, "vocab_size"},
    {"{\"hidden_size\":true}", G4_EFORMAT, "hidden_size: want an integer (got a boolean)"},
    {"{\"attention_k_eq_v\":1}", G4_EFORMAT, "attention_k_eq_v: want true or false"},
    {"{\"rms_norm_eps\":\"1e-6\"}", G4_EFORMAT, "rms_norm_eps: want a number"},
    {"{\"final_logit_softcapping\":[]}", G4_EFORMAT, "final_logit_softcapping"},
    {"{\"eos_token_id\":\"1\"}", G4_EFORMAT, "eos_token_id"},
    {"{\"eos_token_id\":[1,\"2\"]}", G4_EFORMAT, "eos_token_id[1]"},
    {"{\"eos_token_id\":[1,2,3,4,5,6,7,8,9]}", G4_EUNSUPPORTED, "eos_token_id"},
    {"{\"bos_token_id\":1.5}", G4_EFORMAT, "bos_token_id"},
    /* layer types */
    {TXT("\"layer_types\":[\"full_attention\"],"), G4_EFORMAT, "layer_types has 1 entries (want num_hidden_layers = 6)"},
    {TXT("\"layer_types\":\"full\","), G4_EFORMAT, "layer_types"},
    {TXT("\"layer_types\":[1,2,3,4,5,6],"), G4_EFORMAT, "layer_types[0]"},
    {TXT("\"layer_types\":[\"sliding_attention\",\"chunked_attention\",\"sliding_attention\",\"sliding_attention\","
         "\"sliding_attention\",\"full_attention\"],"), G4_EUNSUPPORTED, "layer_types[1] \"chunked_attention\""},
    /* transformers gives a legacy "attention" layer no global_head_dim: mixed full layers */
    {TXT("\"layer_types\":[\"attention\",\"sliding_attention\",\"sliding_attention\",\"sliding_attention\","
         "\"sliding_attention\",\"full_attention\"],"), G4_EUNSUPPORTED, "layer 5 (full_attention) has head_dim 32"},
    /* per_layer_config */
    {TXT("\"per_layer_config\":{\"5\":{\"intermediate_size\":128}},"), G4_EUNSUPPORTED,
     "per_layer_config.5.intermediate_size"},
    {TXT("\"per_layer_config\":{\"5\":{\"skip\":[\"mlp\"]}},"), G4_EUNSUPPORTED, "per_layer_config.5.skip"},
    {TXT("\"per_layer_config\":{\"5\":{\"skip\":[]}},"), G4_OK, NULL},
    {TXT("\"per_layer_config\":{\"6\":{\"head_dim\":32}},"), G4_EFORMAT, "key \"6\" is not a layer index 0..5"},
    {TXT("\"per_layer_config\":{\"x\":{}},"), G4_EFORMAT, "key \"x\""},
    {TXT("\"per_layer_config\":{\"5\":7},"), G4_EFORMAT, "per_layer_config.5: want an object"},
    {TXT("\"per_layer_config\":[],"), G4_EFORMAT, "per_layer_config: want an object"},
    {TXT("\"per_layer_config\":{\"5\":{\"head_dim\":\"a\"}},"), G4_EFORMAT, "per_layer_config.5.head_dim"},
    {TXT("\"per_layer_config\":{\"2\":{\"head_dim\":32}},"), G4_EUNSUPPORTED, "layer 2 (sliding_attention)"},
    /* a later "05" replaces "5", as in a Python dict */
    {TXT("\"per_layer_config\":{\"5\":{\"head_dim\":30},\"05\":{\"head_dim\":32}},"), G4_OK, NULL},
    {TXT("\"per_layer_config\":{\"5\":{\"head_dim\":0}},"), G4_EINVAL, "global_head_dim out of range (got 0"},
    {TXT("\"global_head_dim\":\"x\","), G4_EFORMAT, "global_head_dim: want an integer"},
    {TXT("\"attention_k_eq_v\":true,\"num_global_key_value_heads\":3,"), G4_EINVAL, "num_global_key_value_heads"},
    /* rope */
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"yarn\",\"rope_theta\":1e6},"
         "\"sliding_attention\":{\"rope_theta\":1e4}},"), G4_EUNSUPPORTED,
     "rope_parameters.full_attention.rope_type \"yarn\""},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_theta\":1e6}},"), G4_EFORMAT,
     "rope_parameters.sliding_attention: missing"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"default\"},\"sliding_attention\":{\"rope_theta\":1e4}},"),
     G4_EFORMAT, "rope_parameters.full_attention.rope_theta missing"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"proportional\",\"rope_theta\":1e6,\"factor\":8.0},"
         "\"sliding_attention\":{\"rope_theta\":1e4}},"), G4_EUNSUPPORTED, "factor 8"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_theta\":1e6},"
         "\"sliding_attention\":{\"rope_type\":\"proportional\",\"partial_rotary_factor\":0.5,\"rope_theta\":1e4}},"),
     G4_EUNSUPPORTED, "sliding_attention.partial_rotary_factor 0.5"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"proportional\",\"partial_rotary_factor\":0,"
         "\"rope_theta\":1e6},\"sliding_attention\":{\"rope_theta\":1e4}},"), G4_EINVAL, "partial_rotary_factor"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_theta\":-1},\"sliding_attention\":{\"rope_theta\":1e4}},"),
     G4_EINVAL, "full_attention.rope_theta"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_theta\":1e6},\"sliding_attention\":{\"rope_theta\":0}},"),
     G4_EINVAL, "sliding_attention.rope_theta"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"rope_type\":null,\"rope_theta\":1e6},\"sliding_attention\":{\"rope_theta\":1}},"),
     G4_EFORMAT, "full_attention.rope_type"},
    {TXT("\"rope_parameters\":{\"full_attention\":{\"type\":\"proportional\",\"partial_rotary_factor\":0.5,\"rope_theta\":1e6},"
         "\"sliding_attention\":{\"rope_theta\":1}},"), G4_OK, NULL},
    {TXT("\"rope_parameters\":[],"), G4_EFORMAT, "rope_parameters: want an object"},
    /* ranges (g4_config_validate) */
    {TXT("\"num_hidden_layers\":300,"), G4_EINVAL, "num_hidden_layers out of range (got 300"},
    {"{\"num_hidden_layers\":0}", G4_EINVAL, "num_hidden_layers"},
    {TXT("\"num_attention_heads\":5,"), G4_EINVAL, "num_attention_heads 5 not a multiple of num_key_value_heads 2"},
    {TXT("\"num_key_value_heads\":0,"), G4_EINVAL, "num_key_value_heads out of range"},
    {TXT("\"head_dim\":15,"), G4_EINVAL, "head_dim must be even (got 15)"},
    {TXT("\"head_dim\":2048,"), G4_EINVAL, "head_dim out of range"},
    {TXT("\"vocab_size\":0,"), G4_EINVAL, "vocab_size"},
    {TXT("\"vocab_size\":5000000,"), G4_EINVAL, "vocab_size"},
    {TXT("\"hidden_size\":-64,"), G4_EINVAL, "hidden_size"},
    {TXT("\"intermediate_size\":0,"), G4_EINVAL, "intermediate_size"},
    {TXT("\"sliding_window\":0,"), G4_EINVAL, "sliding_window"},
    {TXT("\"rms_norm_eps\":0,"), G4_EINVAL, "rms_norm_eps"},
    {TXT("\"rms_norm_eps\":1e300,"), G4_EINVAL, "rms_norm_eps"},
    {TXT("\"final_logit_softcapping\":-1.0,"), G4_EINVAL, "final_logit_softcapping"},
    {TXT("\"bos_token_id\":512,"), G4_EINVAL, "bos_token_id out of range (got 512, want 0..511)"},
    {TXT("\"eos_token_id\":-3,"), G4_EINVAL, "eos_token_id"},
};

static void test_bad(void) {
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[G4_ERR_LEN] = "";
        g4_config c;
        g4_status s = parse_exact(bad[i].json, strlen(bad[i].json), "bad.json", &c, err);
        CHECKF(s == bad[i].want, "case %zu %s: status %d want %d: %s", i, bad[i].json, s, bad[i].want, err);
        if (bad[i].msg)
            CHECKF(strstr(err, bad[i].msg) && strstr(err, "bad.json"), "case %zu: err '%s' want '%s'", i, err,
                   bad[i].msg);
    }
}

/* Semantics not covered by the transformers fixtures. */
static void test_semantics(void) {
    char err[G4_ERR_LEN];
    g4_config c;
    /* a config eos list replaces the generation default; null / [] keep it */
    const char *j = TXT("\"eos_token_id\":[1,106],");
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && c.n_eos == 2 && c.eos_id == 1 && c.eos_ids[1] == 106);
    j = TXT("\"eos_token_id\":null,\"bos_token_id\":null,\"pad_token_id\":null,");
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && default_eos_ok(&c) && c.bos_id == 2 && c.pad_id == 0);
    j = TXT("\"eos_token_id\":[],");
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && default_eos_ok(&c));
    /* top-level ids win over text_config's (GenerationConfig.from_model_config) */
    j = "{\"model_type\":\"gemma4_unified\",\"eos_token_id\":[1,106,50,7],\"bos_token_id\":4,"
        "\"text_config\":{\"eos_token_id\":1,\"bos_token_id\":2,\"pad_token_id\":5}}";
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && c.n_eos == 4 && c.eos_ids[3] == 7 && c.bos_id == 4 &&
          c.pad_id == 5);
    /* duplicate keys: the last one counts, as with Python's json */
    j = "{\"num_hidden_layers\":3,\"num_hidden_layers\":12,\"hidden_size\":64}";
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && c.n_layer == 12 && c.is_full[5] && c.is_full[11]);
    /* global_head_dim null: full layers keep head_dim (transformers itself cannot build this) */
    j = TXT("\"global_head_dim\":null,");
    CHECK(parse_exact(j, strlen(j), "x", &c, err) == G4_OK && c.d_head_full == 16 && c.d_head_swa == 16);
    /* NULL what is allowed */
    CHECK(g4_hfconfig_parse("{}", 2, NULL, &c, err) == G4_OK);
    CHECK(g4_hfconfig_parse("{", 1, NULL, &c, err) == G4_EFORMAT && strstr(err, "config.json"));

    /* g4_config_set_gemma4_defaults only touches the generation fields */
    memset(&c, 0x5a, sizeof c);
    g4_config_set_gemma4_defaults(&c);
    CHECK(c.bos_id == 2 && c.eos_id == 1 && c.pad_id == 0 && default_eos_ok(&c));
    CHECK(c.n_suppress == 2 && c.suppress_ids[0] == 258883 && c.suppress_ids[1] == 258882);
    CHECK(c.n_layer == 0x5a5a5a5a);

    /* g4_config_validate on a config built by hand (as model.c does from GGUF keys) */
    memset(&c, 0, sizeof c);
    g4_config_set_gemma4_defaults(&c);
    c.n_vocab = 262144; c.d_model = 3840; c.n_layer = 48; c.n_head = 16; c.d_ff = 15360;
    c.n_kv_swa = 8; c.n_kv_full = 1; c.d_head_swa = 256; c.d_head_full = 512; c.swa = 1024;
    for (int l = 0; l < 48; l++) c.is_full[l] = (l % 6) == 5;
    c.k_eq_v = 1; c.rope_theta_swa = 1e4f; c.rope_theta_full = 1e6f; c.rope_partial_full = 0.25f;
    c.rms_eps = 1e-6f; c.final_softcap = 30.0f; c.n_ctx_train = 262144;
    CHECKF(g4_config_validate(&c, "gguf", err) == G4_OK, "%s", err);
    CHECK(g4_rope_dims_full(&c) == 128);
    g4_config d = c;
    d.rms_eps = NAN;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "gguf: rms_norm_eps"));
    d = c; d.rope_theta_full = INFINITY;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "rope_theta"));
    d = c; d.final_softcap = NAN;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "final_logit_softcapping"));
    d = c; d.rope_partial_full = 1.5f;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "partial_rotary_factor"));
    d = c; d.n_kv_full = 3;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "num_global_key_value_heads 3"));
    d = c; d.n_layer = 0;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL);
    d = c; d.n_layer = G4_MAX_LAYERS + 1;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL);
    d = c; d.is_full[47] = 0;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "last layer"));
    d = c; d.n_eos = G4_MAX_EOS + 1;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL);
    d = c; d.d_head_full = 511;
    CHECK(g4_config_validate(&d, "gguf", err) == G4_EINVAL && strstr(err, "global_head_dim must be even"));
}

static void test_alloc_sweep(void) {
    size_t len;
    char *json = slurp(DATA "/small12.json", &len);
    CHECK(json != NULL);
    if (!json) return;
    int ok = 0, clean = 1;
    long n;
    for (n = 0; n < 1000; n++) {
        char err[G4_ERR_LEN] = "";
        g4_config c;
        g4_alloc_fail_at(n);
        g4_status s = g4_hfconfig_parse(json, len, "small12", &c, err);
        g4_alloc_fail_at(-1);
        if (s == G4_OK) {
            ok = 1;
            break;
        }
        if (s != G4_ENOMEM || !strstr(err, "small12")) clean = 0;
    }
    CHECKF(ok && clean && n >= 1, "sweep ok=%d clean=%d n=%ld", ok, clean, n);
    free(json);
}

/* processor_config.json: the image budget the model was made for, validated like --image-tokens. */
static void test_processor(void) {
    char err[G4_ERR_LEN];
    g4_config c;
    memset(&c, 0, sizeof c);
    const char *ok = "{\"image_processor\": {\"max_soft_tokens\": 70, \"patch_size\": 16}, \"image_seq_length\": 280}";
    CHECK(g4_hfprocessor_parse(ok, strlen(ok), NULL, &c, err) == G4_OK && c.image_tokens == 70);
    CHECK(g4_config_image_tokens(&c) == 70);
    c.image_tokens = 0;
    CHECK(g4_config_image_tokens(&c) == 280);
    const char *none = "{\"feature_extractor\": {}}";
    CHECK(g4_hfprocessor_parse(none, strlen(none), NULL, &c, err) == G4_OK && c.image_tokens == 0);
    const char *nul = "{\"image_processor\": {\"max_soft_tokens\": null}}";
    c.image_tokens = 140;
    CHECK(g4_hfprocessor_parse(nul, strlen(nul), NULL, &c, err) == G4_OK && c.image_tokens == 0);
    static const struct { const char *json, *needle; } bad[] = {
        {"{\"image_processor\": {\"max_soft_tokens\": 100}}", "max_soft_tokens 100 not supported"},
        {"{\"image_processor\": {\"max_soft_tokens\": \"70\"}}", "want an integer"},
        {"{\"image_processor\": {\"max_soft_tokens\": 70.5}}", "want an integer"},
        {"{\"image_processor\": [70]}", "image_processor: want an object"},
        {"[1]", "not a JSON object"},
        {"{\"image_processor\": {", "invalid JSON"},
        {"{} x", "unexpected bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        g4_status st = g4_hfprocessor_parse(bad[i].json, strlen(bad[i].json), "p.json", &c, err);
        CHECKF(st != G4_OK && strstr(err, bad[i].needle) && strstr(err, "p.json"), "%s -> %s", bad[i].json, err);
    }
    CHECK(g4_hfconfig_parse("{}", 2, NULL, &c, err) == G4_OK && g4_config_validate(&c, "x", err) == G4_OK);
    c.image_tokens = 99; /* e.g. from a GGUF key */
    CHECK(g4_config_validate(&c, "x", err) != G4_OK && strstr(err, "image soft tokens 99"));
}

int main(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(cases[i]);
    test_processor();
    test_bad();
    test_semantics();
    test_alloc_sweep();
    return check_done("test_config");
}
