/* config_gemma3.c -- Gemma 3 hyper-parameters from a Hugging Face config.json.
 *
 * Reads transformers' Gemma3TextConfig ("gemma3_text", Gemma3ForCausalLM) or the text_config of
 * a Gemma3Config ("gemma3", Gemma3ForConditionalGeneration) into a g4_config, the way the Python
 * class reads it, including what __post_init__ / convert_rope_params_to_dict derive:
 *   - layer_types: absent -> full every sliding_window_pattern-th layer (default 6);
 *   - rope: rope_parameters.{sliding,full}_attention when given; the legacy keys fill in what is
 *     missing: rope_theta (full, default 1e6), rope_local_base_freq (sliding, default 1e4), and
 *     rope_scaling, which updates full_attention (linear scaling only);
 *   - attention scale query_pre_attn_scalar^-0.5 (default 256), one head size and kv head count
 *     for all layers, no V norm, no layer scalar.
 * Features the engine does not implement (attention logit softcapping, bidirectional attention,
 * biases, an untied head, other activations / rope types) are refused with G4_EUNSUPPORTED.
 * Norm weights are stored as w and used as (1 + w); model.c adds the 1 when binding them.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "config.h"

typedef struct {
    const char *what, *pre;
    char *err;
} g3ctx;

#define TRY(e)                                                                                       \
    do {                                                                                             \
        g4_status s_ = (e);                                                                          \
        if (s_) return s_;                                                                           \
    } while (0)

/* Last member called key (Python's json keeps the last duplicate); NULL if absent. */
static const cJSON *get(const cJSON *o, const char *key) {
    const cJSON *hit = NULL, *it;
    if (!cJSON_IsObject(o)) return NULL;
    cJSON_ArrayForEach(it, o) {
        if (it->string && !strcmp(it->string, key)) hit = it;
    }
    return hit;
}

static const char *kind(const cJSON *j) {
    return cJSON_IsNull(j) ? "null" : cJSON_IsBool(j) ? "a boolean" : cJSON_IsString(j) ? "a string"
         : cJSON_IsNumber(j) ? "a number" : cJSON_IsArray(j) ? "an array" : "an object";
}

static g4_status bad(const g3ctx *x, const char *key, const char *want, const cJSON *j) {
    if (cJSON_IsNumber(j))
        return g4_errf(x->err, G4_EFORMAT, "%s: %s%s: want %s (got %g)", x->what, x->pre, key, want, j->valuedouble);
    return g4_errf(x->err, G4_EFORMAT, "%s: %s%s: want %s (got %s)", x->what, x->pre, key, want, kind(j));
}

static g4_status no(const g3ctx *x, const char *key, const char *why) {
    return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %s%s: %s not supported yet", x->what, x->pre, key, why);
}

/* Integer field (absent -> def; null -> def and *isnull = 1 when isnull is given). */
static g4_status gint(const g3ctx *x, const cJSON *o, const char *key, int def, int *out, int *isnull) {
    const cJSON *j = get(o, key);
    if (isnull) *isnull = 0;
    *out = def;
    if (!j) return G4_OK;
    if (isnull && cJSON_IsNull(j)) {
        *isnull = 1;
        return G4_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : 0.5;
    if (!cJSON_IsNumber(j) || !(d >= INT_MIN && d <= INT_MAX) || d != floor(d)) return bad(x, key, "an integer", j);
    *out = (int)d;
    return G4_OK;
}

static g4_status gnum(const g3ctx *x, const cJSON *o, const char *key, double def, double *out, int *isnull) {
    const cJSON *j = get(o, key);
    if (isnull) *isnull = 0;
    *out = def;
    if (!j) return G4_OK;
    if (isnull && cJSON_IsNull(j)) {
        *isnull = 1;
        return G4_OK;
    }
    if (!cJSON_IsNumber(j)) return bad(x, key, "a number", j);
    *out = j->valuedouble;
    return G4_OK;
}

/* Boolean field; null reads as false. */
static g4_status gbool(const g3ctx *x, const cJSON *o, const char *key, int def, int *out) {
    const cJSON *j = get(o, key);
    *out = def;
    if (!j) return G4_OK;
    if (cJSON_IsNull(j)) return *out = 0, G4_OK;
    if (!cJSON_IsBool(j)) return bad(x, key, "true or false", j);
    *out = cJSON_IsTrue(j);
    return G4_OK;
}

static g4_status refuse(const g3ctx *x, const cJSON *t) {
    int b, isnull;
    double v;
    TRY(gnum(x, t, "attn_logit_softcapping", 0, &v, &isnull));
    if (get(t, "attn_logit_softcapping") && !isnull)
        return no(x, "attn_logit_softcapping", "attention logit softcapping is");
    TRY(gbool(x, t, "use_bidirectional_attention", 0, &b));
    if (b) return no(x, "use_bidirectional_attention", "bidirectional text attention is");
    TRY(gbool(x, t, "attention_bias", 0, &b));
    if (b) return no(x, "attention_bias", "attention biases are");
    TRY(gbool(x, t, "tie_word_embeddings", 1, &b));
    if (!b) return no(x, "tie_word_embeddings", "an untied output head (false) is");
    const cJSON *j = get(t, "hidden_activation");
    if (j && !cJSON_IsString(j)) return bad(x, "hidden_activation", "a string", j);
    if (j && strcmp(j->valuestring, "gelu_pytorch_tanh") != 0)
        return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %shidden_activation \"%s\" not supported yet (want gelu_pytorch_tanh)",
                       x->what, x->pre, j->valuestring);
    return G4_OK;
}

static g4_status layer_types(const g3ctx *x, const cJSON *t, g4_config *c) {
    const cJSON *j = get(t, "layer_types");
    if (!j || cJSON_IsNull(j)) {
        int pat;
        TRY(gint(x, t, "sliding_window_pattern", 6, &pat, NULL));
        if (pat < 1)
            return g4_errf(x->err, G4_EINVAL, "%s: %ssliding_window_pattern out of range (got %d, want >= 1)", x->what,
                           x->pre, pat);
        for (int l = 0; l < c->n_layer; l++) c->is_full[l] = (l + 1) % pat == 0;
        return G4_OK;
    }
    if (!cJSON_IsArray(j)) return bad(x, "layer_types", "a list of strings", j);
    int n = cJSON_GetArraySize(j);
    if (n != c->n_layer)
        return g4_errf(x->err, G4_EFORMAT, "%s: %slayer_types has %d entries (want num_hidden_layers = %d)", x->what,
                       x->pre, n, c->n_layer);
    int l = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!cJSON_IsString(it))
            return g4_errf(x->err, G4_EFORMAT, "%s: %slayer_types[%d]: want a string", x->what, x->pre, l);
        if (!strcmp(it->valuestring, "full_attention")) c->is_full[l] = 1;
        else if (!strcmp(it->valuestring, "sliding_attention")) c->is_full[l] = 0;
        else
            return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %slayer_types[%d] \"%s\" not supported yet", x->what, x->pre,
                           l, it->valuestring);
        l++;
    }
    return G4_OK;
}

/* One rope entry: type default or linear (factor); theta and factor keep their value when absent. */
static g4_status rope_entry(const g3ctx *x, const cJSON *e, const char *name, int linear_ok, double *theta,
                            double *factor) {
    char pre[96];
    snprintf(pre, sizeof pre, "%s%s.", x->pre, name);
    g3ctx y = {x->what, pre, x->err};
    if (!cJSON_IsObject(e)) return bad(x, name, "an object", e);
    const cJSON *ty = get(e, "rope_type");
    if (!ty) ty = get(e, "type");
    const char *type = "default";
    if (ty) {
        if (!cJSON_IsString(ty)) return bad(&y, "rope_type", "a string", ty);
        type = ty->valuestring;
    }
    if (get(e, "rope_theta")) TRY(gnum(&y, e, "rope_theta", *theta, theta, NULL));
    if (!strcmp(type, "linear") && linear_ok) {
        if (!get(e, "factor")) return g4_errf(x->err, G4_EFORMAT, "%s: %sfactor missing for linear rope", x->what, pre);
        TRY(gnum(&y, e, "factor", 1.0, factor, NULL));
        if (!(*factor >= 1.0) || !isfinite(*factor))
            return g4_errf(x->err, G4_EINVAL, "%s: %sfactor out of range (got %g, want >= 1)", x->what, pre, *factor);
    } else if (strcmp(type, "default") != 0) {
        return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %srope_type \"%s\" not supported yet (want default%s)", x->what,
                       pre, type, linear_ok ? " or linear" : "");
    }
    return G4_OK;
}

static g4_status rope(const g3ctx *x, const cJSON *t, g4_config *c) {
    double th_full = 1e6, th_swa = 1e4, factor = 1.0;
    TRY(gnum(x, t, "rope_theta", th_full, &th_full, NULL));
    TRY(gnum(x, t, "rope_local_base_freq", th_swa, &th_swa, NULL));
    const cJSON *rp = get(t, "rope_parameters");
    if (rp && !cJSON_IsNull(rp)) {
        if (!cJSON_IsObject(rp)) return bad(x, "rope_parameters", "an object", rp);
        const cJSON *e;
        if ((e = get(rp, "full_attention")) && !cJSON_IsNull(e))
            TRY(rope_entry(x, e, "rope_parameters.full_attention", 1, &th_full, &factor));
        if ((e = get(rp, "sliding_attention")) && !cJSON_IsNull(e)) {
            double unused = 1.0;
            TRY(rope_entry(x, e, "rope_parameters.sliding_attention", 0, &th_swa, &unused));
        }
    }
    const cJSON *rs = get(t, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        double th = th_full; /* rope_scaling updates full_attention; a theta in it wins too */
        TRY(rope_entry(x, rs, "rope_scaling", 1, &th, &factor));
        th_full = th;
    }
    c->rope_theta_full = (float)th_full;
    c->rope_theta_swa = (float)th_swa;
    c->rope_freq_scale_full = (float)(1.0 / factor);
    c->rope_partial_full = 1.0f;
    return G4_OK;
}

/* A token id: a non-null value at the top level of a composite config wins over text_config's. */
static const cJSON *token(const cJSON *t, const cJSON *top, const char *key, int *at_top) {
    const cJSON *j = top ? get(top, key) : NULL;
    *at_top = j && !cJSON_IsNull(j);
    return *at_top ? j : get(t, key);
}

static g4_status tokens(const g3ctx *x, const cJSON *t, const cJSON *top, g4_config *c) {
    static const char *const keys[2] = {"bos_token_id", "pad_token_id"};
    int *dst[2] = {&c->bos_id, &c->pad_id};
    int at_top;
    for (int i = 0; i < 2; i++) {
        const cJSON *j = token(t, top, keys[i], &at_top);
        g3ctx y = {x->what, at_top ? "" : x->pre, x->err};
        if (j && !cJSON_IsNull(j)) TRY(gint(&y, at_top ? top : t, keys[i], 0, dst[i], NULL));
    }
    /* eos: the file's ids, plus <end_of_turn> (106) as the GGUF path and Gemma 3's
     * generation_config.json have it */
    c->n_eos = 1;
    c->eos_ids[0] = c->eos_id = 1;
    const cJSON *j = token(t, top, "eos_token_id", &at_top);
    g3ctx y = {x->what, at_top ? "" : x->pre, x->err};
    if (j && cJSON_IsArray(j)) {
        int n = cJSON_GetArraySize(j), i = 0;
        if (n > G4_MAX_EOS)
            return g4_errf(x->err, G4_EUNSUPPORTED, "%s: %seos_token_id: %d ids not supported (want at most %d)",
                           x->what, y.pre, n, G4_MAX_EOS);
        const cJSON *it;
        cJSON_ArrayForEach(it, j) {
            double d = cJSON_IsNumber(it) ? it->valuedouble : -1;
            if (!(d >= 0 && d <= INT_MAX) || d != floor(d))
                return g4_errf(x->err, G4_EFORMAT, "%s: %seos_token_id[%d]: want an integer", x->what, y.pre, i);
            c->eos_ids[i++] = (int)d;
        }
        c->n_eos = n;
        if (n) c->eos_id = c->eos_ids[0];
    } else if (j && !cJSON_IsNull(j)) {
        if (!cJSON_IsNumber(j)) return bad(&y, "eos_token_id", "an integer or a list of integers", j);
        TRY(gint(&y, at_top ? top : t, "eos_token_id", 1, &c->eos_id, NULL));
        c->eos_ids[0] = c->eos_id;
    }
    int has_eot = 0;
    for (int i = 0; i < c->n_eos; i++) has_eot |= c->eos_ids[i] == 106;
    if (!has_eot && c->n_eos < G4_MAX_EOS) c->eos_ids[c->n_eos++] = 106;
    c->n_suppress = 0;
    return G4_OK;
}

static g4_status parse_text(const g3ctx *x, const cJSON *t, const cJSON *top, g4_config *c) {
    TRY(refuse(x, t));
    int head_dim, n_kv, isnull;
    TRY(gint(x, t, "vocab_size", 262208, &c->n_vocab, NULL));
    TRY(gint(x, t, "hidden_size", 2304, &c->d_model, NULL));
    TRY(gint(x, t, "intermediate_size", 9216, &c->d_ff, NULL));
    TRY(gint(x, t, "num_hidden_layers", 26, &c->n_layer, NULL));
    TRY(gint(x, t, "num_attention_heads", 8, &c->n_head, NULL));
    TRY(gint(x, t, "num_key_value_heads", 4, &n_kv, NULL));
    TRY(gint(x, t, "head_dim", 256, &head_dim, NULL));
    TRY(gint(x, t, "max_position_embeddings", 131072, &c->n_ctx_train, NULL));
    TRY(gint(x, t, "sliding_window", 4096, &c->swa, &isnull));
    if (isnull) return no(x, "sliding_window", "null (no window on sliding layers) is");
    double eps, cap, qscale;
    int cap_null;
    TRY(gnum(x, t, "rms_norm_eps", 1e-6, &eps, NULL));
    TRY(gnum(x, t, "final_logit_softcapping", 0.0, &cap, &cap_null));
    TRY(gnum(x, t, "query_pre_attn_scalar", 256.0, &qscale, NULL));
    if (!(qscale > 0) || !isfinite(qscale))
        return g4_errf(x->err, G4_EINVAL, "%s: %squery_pre_attn_scalar must be finite and > 0 (got %g)", x->what,
                       x->pre, qscale);
    if (c->n_layer < 1 || c->n_layer > G4_MAX_LAYERS)
        return g4_errf(x->err, G4_EINVAL, "%s: %snum_hidden_layers out of range (got %d, want 1..%d)", x->what,
                       x->pre, c->n_layer, G4_MAX_LAYERS);
    c->arch = G4_ARCH_GEMMA3;
    c->rms_eps = (float)eps;
    c->final_softcap = cap_null ? 0.0f : (float)cap;
    c->attn_scale = (float)pow(qscale, -0.5);
    c->v_norm = 0;
    c->k_eq_v = 0;
    c->d_head_swa = c->d_head_full = head_dim;
    c->n_kv_swa = c->n_kv_full = n_kv;
    TRY(layer_types(x, t, c));
    TRY(rope(x, t, c));
    return tokens(x, t, top, c);
}

g4_status g4_hfconfig_parse_gemma3(const struct cJSON *root, const char *what, g4_config *c, char *err) {
    g3ctx x = {what ? what : "config.json", "", err};
    const cJSON *mt = get(root, "model_type");
    if (!cJSON_IsString(mt)) return bad(&x, "model_type", "a string", mt ? mt : root);
    if (!strcmp(mt->valuestring, "gemma3_text")) return parse_text(&x, root, NULL, c);
    if (strcmp(mt->valuestring, "gemma3") != 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: model_type \"%s\" not supported (want gemma3 or gemma3_text)", x.what,
                       mt->valuestring);
    int tie;
    TRY(gbool(&x, root, "tie_word_embeddings", 1, &tie));
    if (!tie) return no(&x, "tie_word_embeddings", "an untied output head (false) is");
    const cJSON *t = get(root, "text_config");
    if (t && !cJSON_IsNull(t) && !cJSON_IsObject(t)) return bad(&x, "text_config", "an object", t);
    x.pre = "text_config.";
    const cJSON *tmt = get(t, "model_type");
    if (tmt && !cJSON_IsNull(tmt) && (!cJSON_IsString(tmt) || strcmp(tmt->valuestring, "gemma3_text") != 0))
        return g4_errf(err, G4_EUNSUPPORTED, "%s: text_config.model_type not supported (want gemma3_text)", x.what);
    return parse_text(&x, t, root, c);
}
