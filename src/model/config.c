/* config.c -- Gemma 4 hyper-parameters: the 12B's generation defaults, range checks, and
 * the Hugging Face config.json reader.
 *
 * The reader follows transformers' Gemma4UnifiedTextConfig (and the older Gemma4TextConfig,
 * whose defaults differ a little) field by field, including what __post_init__ derives, so
 * that a config.json saved with some fields omitted reads as the Python class reads it:
 *   - layer_types: absent -> full every 6th layer; the last layer is always full;
 *   - full layers' head_dim / kv heads: from "per_layer_config" when the key is present
 *     (what transformers >= 5.2x writes), else from global_head_dim (default 512) and
 *     num_global_key_value_heads (only when attention_k_eq_v, as in Python);
 *   - rope_parameters: absent -> sliding {default, 1e4}, full {proportional, 0.25, 1e6}.
 * Anything the engine does not implement (per-layer embeddings, KV sharing, MoE, other rope
 * types or activations, bidirectional text attention, untied head, ...) is refused with
 * G4_EUNSUPPORTED naming the field, rather than silently computing something else.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#define CFG_PAD 16

const char *const g4_mm_id_keys[G4_N_MM_IDS] = {"gemma4.boi_token_id", "gemma4.eoi_token_id", "gemma4.image_token_id",
                                                  "gemma4.video_token_id", "gemma4.boa_token_id", "gemma4.eoa_token_id",
                                                  "gemma4.audio_token_id"};

void g4_config_set_gemma4_defaults(g4_config *c) {
    static const int eos[] = {1, 106, 50};          /* <eos>, <turn|>, <|tool_response> */
    static const int suppress[] = {258883, 258882}; /* <audio|>, <image|> */
    c->arch = G4_ARCH_GEMMA4;
    c->attn_scale = 1.0f;
    c->v_norm = 1;
    c->rope_freq_scale_full = 1.0f;
    c->bos_id = 2;
    c->eos_id = 1;
    c->pad_id = 0;
    c->n_eos = 3;
    memcpy(c->eos_ids, eos, sizeof eos);
    c->n_suppress = 2;
    memcpy(c->suppress_ids, suppress, sizeof suppress);
    c->posemb_size = 1120;
    c->audio_dim = 640;
    c->vision_eps = c->audio_eps = 1e-6f;
    c->ln_eps = 1e-5f;
    c->bidir_vision = 1;
    c->boi_id = 255999, c->eoi_id = 258882, c->image_id = 258880, c->video_id = 258884;
    c->boa_id = 256000, c->eoa_id = 258883, c->audio_id = 258881;
}

/* ---- validation ---------------------------------------------------------------------- */

#define CHK_INT(field, name, lo, hi)                                                                 \
    do {                                                                                             \
        if (c->field < (lo) || c->field > (hi))                                                      \
            return g4_errf(err, G4_EINVAL, "%s: %s out of range (got %d, want %d..%d)", what, name,    \
                           c->field, (int)(lo), (int)(hi));                                          \
    } while (0)

g4_status g4_config_validate(const g4_config *c, const char *what, char *err) {
    if (!what) what = "config";
    CHK_INT(n_layer, "num_hidden_layers", 1, G4_MAX_LAYERS);
    CHK_INT(n_vocab, "vocab_size", 1, 1 << 22);
    CHK_INT(d_model, "hidden_size", 1, 65536);
    CHK_INT(n_head, "num_attention_heads", 1, 1024);
    CHK_INT(n_kv_swa, "num_key_value_heads", 1, c->n_head);
    CHK_INT(n_kv_full, "num_global_key_value_heads", 1, c->n_head);
    CHK_INT(d_head_swa, "head_dim", 2, 1024);
    CHK_INT(d_head_full, "global_head_dim", 2, 1024);
    CHK_INT(d_ff, "intermediate_size", 1, 1 << 20);
    CHK_INT(swa, "sliding_window", 1, INT_MAX);
    CHK_INT(n_ctx_train, "max_position_embeddings", 1, INT_MAX);
    if (c->d_head_swa % 2)
        return g4_errf(err, G4_EINVAL, "%s: head_dim must be even (got %d)", what, c->d_head_swa);
    if (c->d_head_full % 2)
        return g4_errf(err, G4_EINVAL, "%s: global_head_dim must be even (got %d)", what, c->d_head_full);
    if (c->n_head % c->n_kv_swa)
        return g4_errf(err, G4_EINVAL, "%s: num_attention_heads %d not a multiple of num_key_value_heads %d",
                       what, c->n_head, c->n_kv_swa);
    if (c->n_head % c->n_kv_full)
        return g4_errf(err, G4_EINVAL,
                       "%s: num_attention_heads %d not a multiple of num_global_key_value_heads %d", what,
                       c->n_head, c->n_kv_full);
    if (c->arch == G4_ARCH_GEMMA4 && !c->is_full[c->n_layer - 1]) /* Gemma 3 1B/4B/27B end sliding */
        return g4_errf(err, G4_EINVAL, "%s: layer_types: last layer must be full_attention", what);
    for (int l = 0; l < c->n_layer; l++)
        if (c->is_full[l] > 1)
            return g4_errf(err, G4_EINVAL, "%s: is_full[%d] not 0/1 (got %d)", what, l, c->is_full[l]);
    if (c->k_eq_v != 0 && c->k_eq_v != 1)
        return g4_errf(err, G4_EINVAL, "%s: attention_k_eq_v not 0/1 (got %d)", what, c->k_eq_v);
    if (!isfinite(c->attn_scale) || !(c->attn_scale > 0) || !isfinite(c->rope_freq_scale_full) ||
        !(c->rope_freq_scale_full > 0))
        return g4_errf(err, G4_EINVAL, "%s: attention scale and rope scale must be finite and > 0 (got %g, %g)", what,
                       c->attn_scale, c->rope_freq_scale_full);
    if (!isfinite(c->rms_eps) || !(c->rms_eps > 0))
        return g4_errf(err, G4_EINVAL, "%s: rms_norm_eps must be finite and > 0 (got %g)", what, c->rms_eps);
    if (!isfinite(c->rope_theta_swa) || !(c->rope_theta_swa > 0))
        return g4_errf(err, G4_EINVAL, "%s: rope_parameters.sliding_attention.rope_theta must be finite and > 0 (got %g)",
                       what, c->rope_theta_swa);
    if (!isfinite(c->rope_theta_full) || !(c->rope_theta_full > 0))
        return g4_errf(err, G4_EINVAL, "%s: rope_parameters.full_attention.rope_theta must be finite and > 0 (got %g)",
                       what, c->rope_theta_full);
    if (!(c->rope_partial_full > 0) || !(c->rope_partial_full <= 1))
        return g4_errf(err, G4_EINVAL, "%s: full_attention.partial_rotary_factor out of range (got %g, want (0, 1])",
                       what, c->rope_partial_full);
    if (!isfinite(c->final_softcap) || c->final_softcap < 0)
        return g4_errf(err, G4_EINVAL, "%s: final_logit_softcapping must be finite and >= 0 (got %g)", what,
                       c->final_softcap);
    if (c->bos_id < 0 || c->bos_id >= c->n_vocab)
        return g4_errf(err, G4_EINVAL, "%s: bos_token_id out of range (got %d, want 0..%d)", what, c->bos_id,
                       c->n_vocab - 1);
    if (c->eos_id < 0)
        return g4_errf(err, G4_EINVAL, "%s: eos_token_id negative (got %d)", what, c->eos_id);
    if (c->pad_id < -1)
        return g4_errf(err, G4_EINVAL, "%s: pad_token_id out of range (got %d, want >= -1)", what, c->pad_id);
    CHK_INT(n_eos, "number of eos ids", 0, G4_MAX_EOS);
    CHK_INT(n_suppress, "number of suppressed ids", 0, G4_MAX_EOS);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] < 0)
            return g4_errf(err, G4_EINVAL, "%s: eos_token_id[%d] negative (got %d)", what, i, c->eos_ids[i]);
    for (int i = 0; i < c->n_suppress; i++)
        if (c->suppress_ids[i] < 0)
            return g4_errf(err, G4_EINVAL, "%s: suppress id %d negative (got %d)", what, i, c->suppress_ids[i]);
    if (c->image_tokens && !g4_image_tokens_valid(c->image_tokens))
        return g4_errf(err, G4_EINVAL, "%s: image soft tokens %d not supported (want 70, 140, 280, 560 or 1120)", what,
                       c->image_tokens);
    return G4_OK;
}

/* ---- JSON field access ------------------------------------------------------------------ */

typedef struct {
    const char *what; /* the file, for messages */
    const char *pre;  /* "text_config." or "" */
    char *err;
    int bidir_vision; /* set by refuse_features */
} cfg_ctx;

/* Last member called key (Python's json keeps the last of duplicate keys); NULL if absent. */
static const cJSON *obj_get(const cJSON *obj, const char *key) {
    const cJSON *hit = NULL, *it;
    if (!cJSON_IsObject(obj)) return NULL;
    cJSON_ArrayForEach(it, obj) {
        if (it->string && strcmp(it->string, key) == 0) hit = it;
    }
    return hit;
}

static int json_int(const cJSON *j, int *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= INT_MIN && d <= INT_MAX) || d != floor(d)) return 0;
    *out = (int)d;
    return 1;
}

static g4_status bad_type(cfg_ctx *x, const char *key, const char *want, const cJSON *j) {
    const char *got = cJSON_IsNull(j) ? "null" : cJSON_IsBool(j) ? "a boolean" : cJSON_IsString(j) ? "a string"
                    : cJSON_IsNumber(j) ? "a number" : cJSON_IsArray(j) ? "an array" : "an object";
    if (cJSON_IsNumber(j) && !strcmp(want, "an integer"))
        return g4_errf(x->err, G4_EFORMAT, "%s: %s%s: want an integer (got %g)", x->what, x->pre, key,
                       j->valuedouble);
    return g4_errf(x->err, G4_EFORMAT, "%s: %s%s: want %s (got %s)", x->what, x->pre, key, want, got);
}

/* Integer field; *is_null (if given) allows null. */
static g4_status get_int(cfg_ctx *x, const cJSON *o, const char *key, int def, int *out, int *is_null) {
    const cJSON *j = obj_get(o, key);
    if (is_null) *is_null = 0;
    if (!j) {
        *out = def;
        return G4_OK;
    }
    if (is_null && cJSON_IsNull(j)) {
        *is_null = 1;
        *out = def;
        return G4_OK;
    }
    if (!json_int(j, out)) return bad_type(x, key, "an integer", j);
    return G4_OK;
}

static g4_status get_num(cfg_ctx *x, const cJSON *o, const char *key, double def, double *out, int *is_null) {
    const cJSON *j = obj_get(o, key);
    if (is_null) *is_null = 0;
    if (!j) {
        *out = def;
        return G4_OK;
    }
    if (is_null && cJSON_IsNull(j)) {
        *is_null = 1;
        *out = def;
        return G4_OK;
    }
    if (!cJSON_IsNumber(j)) return bad_type(x, key, "a number", j);
    *out = j->valuedouble;
    return G4_OK;
}

static g4_status get_bool(cfg_ctx *x, const cJSON *o, const char *key, int def, int *out, int nullable) {
    const cJSON *j = obj_get(o, key);
    if (!j || (nullable && cJSON_IsNull(j))) {
        *out = def;
        return G4_OK;
    }
    if (!cJSON_IsBool(j)) return bad_type(x, key, "true or false", j);
    *out = cJSON_IsTrue(j);
    return G4_OK;
}

/* String field; *out = NULL for an allowed null. */
static g4_status get_str(cfg_ctx *x, const cJSON *o, const char *key, const char *def, const char **out,
                         int nullable) {
    const cJSON *j = obj_get(o, key);
    if (!j) {
        *out = def;
        return G4_OK;
    }
    if (nullable && cJSON_IsNull(j)) {
        *out = NULL;
        return G4_OK;
    }
    if (!cJSON_IsString(j)) return bad_type(x, key, "a string", j);
    *out = j->valuestring;
    return G4_OK;
}

static g4_status unsupported(cfg_ctx *x, const char *key, const char *why) {
    return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %s%s: %s not supported yet", x->what, x->pre, key, why);
}

#define TRY(e)                                                                                       \
    do {                                                                                             \
        g4_status s_ = (e);                                                                          \
        if (s_) return s_;                                                                           \
    } while (0)

/* ---- the text config ---------------------------------------------------------------------- */

enum { LT_SLIDING = 0, LT_FULL = 1 };
static const char *const lt_name[2] = {"sliding_attention", "full_attention"};

/* Fields that name features we do not implement. */
static g4_status refuse_features(cfg_ctx *x, const cJSON *t, int old_gemma4) {
    int v = 0, isnull = 0, b = 0;
    TRY(get_int(x, t, "hidden_size_per_layer_input", old_gemma4 ? 256 : 0, &v, &isnull));
    if (!isnull && v > 0) return unsupported(x, "hidden_size_per_layer_input", "per-layer input embeddings are");
    TRY(get_int(x, t, "num_kv_shared_layers", 0, &v, NULL));
    if (v > 0) return unsupported(x, "num_kv_shared_layers", "KV sharing between layers is");
    if (v < 0)
        return g4_errf(x->err, G4_EINVAL, "%s: %snum_kv_shared_layers negative (got %d)", x->what, x->pre, v);
    TRY(get_bool(x, t, "enable_moe_block", 0, &b, 1));
    if (b) return unsupported(x, "enable_moe_block", "mixture of experts is");
    TRY(get_int(x, t, "num_experts", 0, &v, &isnull));
    if (!isnull && v > 0) return unsupported(x, "num_experts", "mixture of experts is");
    TRY(get_bool(x, t, "use_double_wide_mlp", 0, &b, 0));
    if (b) return unsupported(x, "use_double_wide_mlp", "the double-wide MLP is");
    const cJSON *j = obj_get(t, "attn_logit_softcapping");
    if (j && !cJSON_IsNull(j)) return unsupported(x, "attn_logit_softcapping", "attention logit soft-capping is");
    TRY(get_bool(x, t, "attention_bias", 0, &b, 0));
    if (b) return unsupported(x, "attention_bias", "attention biases are");
    TRY(get_bool(x, t, "tie_word_embeddings", 1, &b, 0));
    if (!b) return unsupported(x, "tie_word_embeddings", "an untied output head (false) is");
    const char *s = NULL;
    TRY(get_str(x, t, "hidden_activation", "gelu_pytorch_tanh", &s, 0));
    if (strcmp(s, "gelu_pytorch_tanh") != 0)
        return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %shidden_activation \"%s\" not supported yet (want gelu_pytorch_tanh)",
                       x->what, x->pre, s);
    TRY(get_str(x, t, "use_bidirectional_attention", old_gemma4 ? NULL : "vision", &s, 1));
    x->bidir_vision = s && !strcmp(s, "vision");
    if (s && !strcmp(s, "all")) return unsupported(x, "use_bidirectional_attention", "\"all\" (bidirectional text) is");
    if (s && strcmp(s, "vision") != 0)
        return g4_errf(x->err, G4_EFORMAT, "%s: %suse_bidirectional_attention: want \"vision\", \"all\" or null (got \"%s\")",
                       x->what, x->pre, s);
    return G4_OK;
}

/* legacy[l]: layer l was spelled "attention"; transformers maps that to full_attention only
 * after it has given full layers their global_head_dim, so such a layer keeps head_dim. */
static g4_status parse_layer_types(cfg_ctx *x, const cJSON *t, g4_config *c, uint8_t *legacy) {
    memset(legacy, 0, G4_MAX_LAYERS);
    const cJSON *j = obj_get(t, "layer_types");
    if (!j || cJSON_IsNull(j)) {
        for (int l = 0; l < c->n_layer; l++) c->is_full[l] = (l + 1) % 6 == 0;
    } else {
        if (!cJSON_IsArray(j)) return bad_type(x, "layer_types", "a list of strings", j);
        int n = cJSON_GetArraySize(j);
        if (n != c->n_layer)
            return g4_errf(x->err, G4_EFORMAT, "%s: %slayer_types has %d entries (want num_hidden_layers = %d)",
                           x->what, x->pre, n, c->n_layer);
        int l = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, j) {
            if (!cJSON_IsString(it))
                return g4_errf(x->err, G4_EFORMAT, "%s: %slayer_types[%d]: want a string", x->what, x->pre, l);
            const char *s = it->valuestring;
            if (!strcmp(s, "full_attention")) c->is_full[l] = 1;
            else if (!strcmp(s, "attention")) c->is_full[l] = legacy[l] = 1;
            else if (!strcmp(s, "sliding_attention")) c->is_full[l] = 0;
            else
                return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %slayer_types[%d] \"%s\" not supported yet", x->what,
                               x->pre, l, s);
            l++;
        }
    }
    c->is_full[c->n_layer - 1] = 1; /* transformers forces the last layer to full attention */
    legacy[c->n_layer - 1] = 0;
    return G4_OK;
}

/* Parse "05" -> 5 like Python's int() on a layer key (digits only). */
static int layer_key(const char *s, int n_layer, int *out) {
    long v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (*s - '0');
        if (v >= n_layer) return 0;
    }
    *out = (int)v;
    return 1;
}

/* Resolve head_dim and kv heads of every layer, then require them uniform per layer type. */
static g4_status parse_heads(cfg_ctx *x, const cJSON *t, g4_config *c, const uint8_t *legacy, int head_dim,
                             int n_kv) {
    int hd[G4_MAX_LAYERS], kv[G4_MAX_LAYERS]; /* per layer, after overrides */
    for (int l = 0; l < c->n_layer; l++) {
        hd[l] = head_dim;
        kv[l] = n_kv;
    }
    const cJSON *plc = obj_get(t, "per_layer_config");
    if (plc) {
        /* transformers ignores global_head_dim / num_global_key_value_heads when this is present */
        if (!cJSON_IsNull(plc) && !cJSON_IsObject(plc)) return bad_type(x, "per_layer_config", "an object", plc);
        const cJSON *it;
        cJSON_ArrayForEach(it, plc) {
            int l;
            if (!layer_key(it->string, c->n_layer, &l))
                return g4_errf(x->err, G4_EFORMAT, "%s: %sper_layer_config: key \"%s\" is not a layer index 0..%d",
                               x->what, x->pre, it->string, c->n_layer - 1);
            if (!cJSON_IsObject(it))
                return g4_errf(x->err, G4_EFORMAT, "%s: %sper_layer_config.%s: want an object", x->what, x->pre,
                               it->string);
            hd[l] = head_dim; /* a repeated index replaces the earlier entry, as in a Python dict */
            kv[l] = n_kv;
            const cJSON *a;
            cJSON_ArrayForEach(a, it) {
                int *dst = !strcmp(a->string, "head_dim") ? &hd[l]
                         : !strcmp(a->string, "num_key_value_heads") ? &kv[l] : NULL;
                if (dst) {
                    if (!json_int(a, dst))
                        return g4_errf(x->err, G4_EFORMAT, "%s: %sper_layer_config.%s.%s: want an integer", x->what,
                                       x->pre, it->string, a->string);
                } else if (!strcmp(a->string, "skip") && cJSON_IsArray(a) && cJSON_GetArraySize(a) == 0) {
                    /* nothing skipped */
                } else {
                    return g4_errf(x->err, G4_EUNSUPPORTED,
                                   "%s: %sper_layer_config.%s.%s: this per-layer override is not supported yet",
                                   x->what, x->pre, it->string, a->string);
                }
            }
        }
    } else {
        int ghd = 0, ghd_null = 0, gkv = 0, gkv_null = 0;
        TRY(get_int(x, t, "global_head_dim", 512, &ghd, &ghd_null));
        if (ghd_null) ghd = head_dim; /* transformers cannot build this; we read it as "no override" */
        TRY(get_int(x, t, "num_global_key_value_heads", -1, &gkv, &gkv_null));
        for (int l = 0; l < c->n_layer; l++) {
            if (!c->is_full[l] || legacy[l]) continue;
            hd[l] = ghd;
            /* as in Python: the kv override only applies with attention_k_eq_v */
            if (c->k_eq_v && !gkv_null && obj_get(t, "num_global_key_value_heads")) kv[l] = gkv;
        }
    }
    int seen[2] = {-1, -1}, thd[2] = {head_dim, head_dim}, tkv[2] = {n_kv, n_kv};
    for (int l = 0; l < c->n_layer; l++) {
        int ty = c->is_full[l];
        if (seen[ty] < 0) {
            seen[ty] = l;
            thd[ty] = hd[l];
            tkv[ty] = kv[l];
        } else if (hd[l] != thd[ty] || kv[l] != tkv[ty]) {
            return g4_errf(x->err, G4_EUNSUPPORTED,
                           "%s: %sper_layer_config: layer %d (%s) has head_dim %d / %d kv heads, layer %d has %d / %d: "
                           "per-layer shapes within one layer type not supported yet",
                           x->what, x->pre, l, lt_name[ty], hd[l], kv[l], seen[ty], thd[ty], tkv[ty]);
        }
    }
    c->d_head_swa = thd[LT_SLIDING];
    c->n_kv_swa = tkv[LT_SLIDING];
    c->d_head_full = thd[LT_FULL];
    c->n_kv_full = tkv[LT_FULL];
    return G4_OK;
}

static g4_status parse_rope(cfg_ctx *x, const cJSON *t, g4_config *c) {
    c->rope_theta_swa = 10000.0f;
    c->rope_theta_full = 1000000.0f;
    c->rope_partial_full = 0.25f;
    const cJSON *rp = obj_get(t, "rope_parameters");
    if (!rp || cJSON_IsNull(rp)) return G4_OK;
    if (!cJSON_IsObject(rp)) return bad_type(x, "rope_parameters", "an object", rp);
    int have[2] = {0, 0};
    for (int l = 0; l < c->n_layer; l++) have[c->is_full[l]] = 1;
    for (int ty = 0; ty < 2; ty++) {
        if (!have[ty]) continue;
        char pre[64];
        snprintf(pre, sizeof pre, "%srope_parameters.%s.", x->pre, lt_name[ty]);
        cfg_ctx y = {x->what, pre, x->err, 0};
        const cJSON *e = obj_get(rp, lt_name[ty]);
        if (!cJSON_IsObject(e))
            return g4_errf(x->err, G4_EFORMAT, "%s: %srope_parameters.%s: missing or not an object", x->what,
                           x->pre, lt_name[ty]);
        const char *type = NULL;
        TRY(get_str(&y, e, "rope_type", NULL, &type, 0));
        if (!type) TRY(get_str(&y, e, "type", "default", &type, 0));
        double theta = 0, partial = 1.0, factor = 1.0;
        if (!obj_get(e, "rope_theta"))
            return g4_errf(x->err, G4_EFORMAT, "%s: %srope_theta missing", x->what, pre);
        TRY(get_num(&y, e, "rope_theta", 0, &theta, NULL));
        if (!strcmp(type, "proportional")) {
            TRY(get_num(&y, e, "partial_rotary_factor", 1.0, &partial, NULL));
            TRY(get_num(&y, e, "factor", 1.0, &factor, NULL));
            if (factor != 1.0)
                return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %sfactor %g not supported yet (want 1)", x->what, pre,
                               factor);
            if (ty == LT_SLIDING && partial != 1.0)
                return g4_errf(x->err, G4_EUNSUPPORTED,
                               "%s: %spartial_rotary_factor %g not supported yet on sliding layers (want 1)",
                               x->what, pre, partial);
        } else if (strcmp(type, "default") != 0) {
            return g4_errf(x->err, G4_EUNSUPPORTED,
                           "%s: %srope_type \"%s\" not supported yet (want default or proportional)", x->what, pre,
                           type);
        }
        if (ty == LT_SLIDING) {
            c->rope_theta_swa = (float)theta;
        } else {
            c->rope_theta_full = (float)theta;
            c->rope_partial_full = (float)partial;
        }
    }
    return G4_OK;
}

/* Token ids as transformers' GenerationConfig.from_model_config sees them: a value at the
 * top level of a composite config wins over text_config's; null keeps the default. */
static const cJSON *token_field(cfg_ctx *x, const cJSON *t, const cJSON *top, const char *key, cfg_ctx *y) {
    const cJSON *j = obj_get(top, key);
    *y = *x;
    if (j && !cJSON_IsNull(j)) {
        y->pre = "";
        return j;
    }
    return obj_get(t, key);
}

static g4_status parse_token(cfg_ctx *x, const cJSON *t, const cJSON *top, const char *key, int *out) {
    cfg_ctx y;
    const cJSON *j = token_field(x, t, top, key, &y);
    if (!j || cJSON_IsNull(j)) return G4_OK;
    if (!json_int(j, out)) return bad_type(&y, key, "an integer", j);
    return G4_OK;
}

static g4_status parse_eos(cfg_ctx *x, const cJSON *t, const cJSON *top, g4_config *c) {
    cfg_ctx y;
    const cJSON *j = token_field(x, t, top, "eos_token_id", &y);
    if (!j || cJSON_IsNull(j)) return G4_OK;
    int v;
    if (json_int(j, &v)) {
        c->eos_id = v;
        c->n_eos = 1;
        c->eos_ids[0] = v;
        return G4_OK;
    }
    if (!cJSON_IsArray(j)) return bad_type(&y, "eos_token_id", "an integer or a list of integers", j);
    int n = cJSON_GetArraySize(j);
    if (n == 0) return G4_OK;
    if (n > G4_MAX_EOS)
        return g4_errf(y.err, G4_EUNSUPPORTED, "%s: %seos_token_id: %d ids not supported (want at most %d)", y.what,
                       y.pre, n, G4_MAX_EOS);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!json_int(it, &c->eos_ids[i]))
            return g4_errf(y.err, G4_EFORMAT, "%s: %seos_token_id[%d]: want an integer", y.what, y.pre, i);
        i++;
    }
    c->n_eos = n;
    c->eos_id = c->eos_ids[0];
    return G4_OK;
}

static g4_status parse_text(cfg_ctx *x, const cJSON *t, const cJSON *top, int old_gemma4, g4_config *c) {
    TRY(refuse_features(x, t, old_gemma4));
    int head_dim = 0, n_kv = 0, b = 0;
    TRY(get_int(x, t, "vocab_size", 262144, &c->n_vocab, NULL));
    TRY(get_int(x, t, "hidden_size", 2304, &c->d_model, NULL));
    TRY(get_int(x, t, "intermediate_size", 9216, &c->d_ff, NULL));
    TRY(get_int(x, t, "num_hidden_layers", 30, &c->n_layer, NULL));
    TRY(get_int(x, t, "num_attention_heads", 8, &c->n_head, NULL));
    TRY(get_int(x, t, "num_key_value_heads", 4, &n_kv, NULL));
    TRY(get_int(x, t, "head_dim", 256, &head_dim, NULL));
    TRY(get_int(x, t, "max_position_embeddings", old_gemma4 ? 131072 : 262144, &c->n_ctx_train, NULL));
    TRY(get_int(x, t, "sliding_window", old_gemma4 ? 512 : 1024, &c->swa, NULL));
    TRY(get_bool(x, t, "attention_k_eq_v", 0, &b, 0));
    c->k_eq_v = b;
    double eps = 0, cap = 0;
    int cap_null = 0;
    TRY(get_num(x, t, "rms_norm_eps", 1e-6, &eps, NULL));
    TRY(get_num(x, t, "final_logit_softcapping", 0.0, &cap, &cap_null));
    c->rms_eps = (float)eps;
    c->final_softcap = cap_null ? 0.0f : (float)cap;
    if (c->n_layer < 1 || c->n_layer > G4_MAX_LAYERS)
        return g4_errf(x->err, G4_EINVAL, "%s: %snum_hidden_layers out of range (got %d, want 1..%d)", x->what,
                       x->pre, c->n_layer, G4_MAX_LAYERS);
    uint8_t legacy[G4_MAX_LAYERS];
    TRY(parse_layer_types(x, t, c, legacy));
    TRY(parse_heads(x, t, c, legacy, head_dim, n_kv));
    TRY(parse_rope(x, t, c));
    TRY(parse_token(x, t, top, "bos_token_id", &c->bos_id));
    TRY(parse_token(x, t, top, "pad_token_id", &c->pad_id));
    c->bidir_vision = x->bidir_vision;
    return parse_eos(x, t, top, c);
}

/* vision_config / audio_config of a gemma4_unified config: the embedders' sizes and eps.  The
 * patch geometry is fixed by the processor (16-px patches merged 3x3 = 48 px), so other values
 * are refused rather than computed wrongly. */
static g4_status parse_mm(cfg_ctx *x, const cJSON *root, g4_config *c) {
    static const char *const ids[] = {"boi_token_id", "eoi_token_id", "image_token_id", "video_token_id",
                                      "boa_token_id", "eoa_token_index", "audio_token_id"};
    int *dst[] = {&c->boi_id, &c->eoi_id, &c->image_id, &c->video_id, &c->boa_id, &c->eoa_id, &c->audio_id};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        int isnull = 0;
        TRY(get_int(x, root, ids[i], *dst[i], dst[i], &isnull)); /* range: checked when the embedders load */
    }
    const cJSON *v = obj_get(root, "vision_config");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsObject(v)) return bad_type(x, "vision_config", "an object", v);
        cfg_ctx y = *x;
        y.pre = "vision_config.";
        int ps = 0, pool = 0, out_dim = 0;
        double eps = 0;
        TRY(get_int(&y, v, "patch_size", 16, &ps, NULL));
        TRY(get_int(&y, v, "pooling_kernel_size", 3, &pool, NULL));
        if (ps != 16 || pool != 3)
            return g4_errf(x->err, G4_EUNSUPPORTED, "%s: vision_config: patch_size %d x pooling %d not supported "
                           "(the processor's 16 x 3 = 48-px patches only)", x->what, ps, pool);
        TRY(get_int(&y, v, "mm_embed_dim", 3840, &c->mm_dim, NULL));
        TRY(get_int(&y, v, "mm_posemb_size", 1120, &c->posemb_size, NULL));
        TRY(get_int(&y, v, "output_proj_dims", c->mm_dim, &out_dim, NULL));
        TRY(get_num(&y, v, "rms_norm_eps", 1e-6, &eps, NULL));
        c->vision_eps = (float)eps;
        if (c->mm_dim < 1 || c->mm_dim > 65536 || c->posemb_size < 1 || c->posemb_size > 65536 || !(eps > 0))
            return g4_errf(x->err, G4_EINVAL, "%s: vision_config: mm_embed_dim %d / mm_posemb_size %d / rms_norm_eps %g "
                           "out of range", x->what, c->mm_dim, c->posemb_size, eps);
        if (out_dim != c->mm_dim)
            return g4_errf(x->err, G4_EUNSUPPORTED, "%s: vision_config.output_proj_dims %d != mm_embed_dim %d not supported",
                           x->what, out_dim, c->mm_dim);
    }
    const cJSON *a = obj_get(root, "audio_config");
    if (a && !cJSON_IsNull(a)) {
        if (!cJSON_IsObject(a)) return bad_type(x, "audio_config", "an object", a);
        cfg_ctx y = *x;
        y.pre = "audio_config.";
        double eps = 0;
        TRY(get_int(&y, a, "audio_embed_dim", 640, &c->audio_dim, NULL));
        TRY(get_num(&y, a, "rms_norm_eps", 1e-6, &eps, NULL));
        c->audio_eps = (float)eps;
        if (c->audio_dim != 640)
            return g4_errf(x->err, G4_EUNSUPPORTED, "%s: audio_config.audio_embed_dim %d not supported (the processor's "
                           "640-sample frames only)", x->what, c->audio_dim);
        if (!(eps > 0)) return g4_errf(x->err, G4_EINVAL, "%s: audio_config.rms_norm_eps must be > 0", x->what);
    }
    return G4_OK;
}

static g4_status parse_root(const cJSON *root, const char *what, g4_config *c, char *err) {
    cfg_ctx x = {what, "", err, 0};
    if (!cJSON_IsObject(root)) return g4_errf(err, G4_EFORMAT, "%s: top level is not a JSON object", what);
    const char *mt = NULL;
    TRY(get_str(&x, root, "model_type", NULL, &mt, 1));
    int composite, old = 0;
    if (mt && (!strcmp(mt, "gemma3") || !strcmp(mt, "gemma3_text"))) return g4_hfconfig_parse_gemma3(root, what, c, err);
    if (!mt) composite = obj_get(root, "text_config") != NULL;
    else if (!strcmp(mt, "gemma4_unified")) composite = 1;
    else if (!strcmp(mt, "gemma4")) composite = 1, old = 1;
    else if (!strcmp(mt, "gemma4_unified_text")) composite = 0;
    else if (!strcmp(mt, "gemma4_text")) composite = 0, old = 1;
    else
        return g4_errf(err, G4_EUNSUPPORTED, "%s: model_type \"%s\" not supported (want gemma4_unified)", what, mt);
    if (!composite) return parse_text(&x, root, NULL, old, c);

    int tie = 1;
    TRY(get_bool(&x, root, "tie_word_embeddings", 1, &tie, 0));
    if (!tie) return unsupported(&x, "tie_word_embeddings", "an untied output head (false) is");
    const cJSON *t = obj_get(root, "text_config");
    if (t && !cJSON_IsNull(t) && !cJSON_IsObject(t)) return bad_type(&x, "text_config", "an object", t);
    x.pre = "text_config.";
    const char *tmt = NULL;
    TRY(get_str(&x, t, "model_type", NULL, &tmt, 1));
    if (tmt && !strcmp(tmt, "gemma4_unified_text")) old = 0;
    else if (tmt && !strcmp(tmt, "gemma4_text")) old = 1;
    else if (tmt)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: text_config.model_type \"%s\" not supported (want gemma4_unified_text)",
                       what, tmt);
    TRY(parse_text(&x, t, root, old, c));
    x.pre = "";
    if (!c->mm_dim) c->mm_dim = c->d_model;
    return parse_mm(&x, root, c);
}

/* Parse len bytes of JSON (no terminator needed) and hand the root to fn; one error style for every file. */
static g4_status parse_json(const char *json, size_t len, const char *what, g4_config *c, char *err,
                            g4_status (*fn)(const cJSON *, const char *, g4_config *, char *)) {
    if (!json && len) return g4_errf(err, G4_EINVAL, "%s: NULL text", what);
    /* cJSON reads a private NUL-padded copy: the caller's bytes need no terminator. */
    char *buf = g4_malloc(len + CFG_PAD);
    if (!buf) return g4_errf(err, G4_ENOMEM, "%s: out of memory copying %zu bytes", what, len);
    if (len) memcpy(buf, json, len);
    memset(buf + len, 0, CFG_PAD);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    g4_status s;
    if (!root) {
        long at = (end && end >= buf && end <= buf + len) ? (long)(end - buf) : -1;
        s = g4_errf(err, G4_EFORMAT, "%s: invalid JSON (error near byte %ld of %zu)", what, at, len);
    } else {
        s = G4_OK;
        for (const char *p = end; p < buf + len; p++) {
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                s = g4_errf(err, G4_EFORMAT, "%s: unexpected bytes after the JSON (at byte %ld of %zu)", what,
                            (long)(p - buf), len);
                break;
            }
        }
        if (!s) s = fn(root, what, c, err);
        cJSON_Delete(root);
    }
    g4_free(buf);
    return s;
}

g4_status g4_hfconfig_parse(const char *json, size_t len, const char *what, g4_config *c, char *err) {
    if (!what) what = "config.json";
    memset(c, 0, sizeof *c);
    g4_config_set_gemma4_defaults(c);
    g4_status s = parse_json(json, len, what, c, err, parse_root);
    if (!s) s = g4_config_validate(c, what, err);
    return s;
}

static g4_status parse_processor(const cJSON *root, const char *what, g4_config *c, char *err) {
    cfg_ctx x = {what, "", err, 0};
    if (!cJSON_IsObject(root)) return g4_errf(err, G4_EFORMAT, "%s: top level is not a JSON object", what);
    const cJSON *ip = obj_get(root, "image_processor");
    if (!ip || cJSON_IsNull(ip)) return G4_OK;
    if (!cJSON_IsObject(ip)) return bad_type(&x, "image_processor", "an object", ip);
    x.pre = "image_processor.";
    int t = 0, is_null = 0;
    TRY(get_int(&x, ip, "max_soft_tokens", 0, &t, &is_null));
    if (t && !g4_image_tokens_valid(t))
        return g4_errf(err, G4_EUNSUPPORTED, "%s: image_processor.max_soft_tokens %d not supported (want 70, 140, 280, "
                       "560 or 1120)", what, t);
    c->image_tokens = is_null ? 0 : t;
    return G4_OK;
}

g4_status g4_hfprocessor_parse(const char *json, size_t len, const char *what, g4_config *c, char *err) {
    return parse_json(json, len, what ? what : "processor_config.json", c, err, parse_processor);
}
