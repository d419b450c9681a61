/* forward.c -- the Gemma 4 decoder forward pass (shared/spec/gemma4-12b.md §1.4), top to bottom.
 *
 * Mirrors transformers' Gemma4UnifiedTextModel / DecoderLayer / TextAttention.  Everything is
 * computed in f32 through the backend ops; weights stay in their stored type.  Also here:
 * context creation (KV ring sizes, activation buffers) since both follow the same shapes.
 */
#include "ctx.h"
#include "../core/quant.h"

#include <math.h>
#include <string.h>

#define BE(c) ((c)->be.iface)
#define BC(c) ((c)->be.ctx)

static int max_head_dim(const g4_config *c) { return G4_MAX(c->d_head_swa, c->d_head_full); }
static int max_kv_width(const g4_config *c) {
    return G4_MAX(c->n_kv_swa * c->d_head_swa, c->n_kv_full * c->d_head_full);
}

static int64_t layer_cap(const g4_config *cf, int l, int n_ctx, int n_batch) {
    return cf->is_full[l] ? n_ctx : G4_MIN((int64_t)n_ctx, (int64_t)cf->swa + n_batch - 1);
}

size_t g4_ctx_kv_bytes(const g4_config *cf, int n_ctx, int n_batch, int kv_f16) {
    size_t n = 0;
    for (int l = 0; l < cf->n_layer; l++)
        n += 2 * (size_t)layer_cap(cf, l, n_ctx, n_batch) * (size_t)g4_layer_n_kv(cf, l) * (size_t)g4_layer_d_head(cf, l) *
             (kv_f16 ? 2 : sizeof(float));
    return n;
}

g4_status g4_ctx_new(g4_ctx **out, const g4_model *m, const g4_ctx_params *pin, char *err) {
    *out = NULL;
    const g4_config *cf = &m->cfg;
    g4_ctx_params p = pin ? *pin : (g4_ctx_params){0};
    if (p.n_ctx <= 0) p.n_ctx = G4_MIN(4096, cf->n_ctx_train);
    if (p.n_batch <= 0) p.n_batch = 512;
    if (p.n_threads <= 0) p.n_threads = 1;
    if (p.n_ctx > cf->n_ctx_train)
        return g4_errf(err, G4_EINVAL, "context %d exceeds the model's %d positions", p.n_ctx, cf->n_ctx_train);
    p.n_batch = G4_MIN(p.n_batch, p.n_ctx);
    g4_ctx *c = g4_calloc(1, sizeof *c);
    if (!c) return g4_errf(err, G4_ENOMEM, "context: out of memory");
    c->model = m;
    c->p = p;
    g4_status st = g4_backend_cpu_new(&c->be, p.n_threads, p.q8_act, err);
    if (st) { g4_free(c); return st; }
    const int64_t B = p.n_batch, hdm = max_head_dim(cf);
    int64_t max_row = G4_MAX(G4_MAX((int64_t)cf->d_model, (int64_t)cf->d_ff), (int64_t)cf->n_head * hdm);
    if (m->w.has_vision) max_row = G4_MAX(max_row, (int64_t)G4_PATCH_DIM_MODEL); /* the patch embedder's rows */
    if (BE(c)->reserve(BC(c), max_row, (int)B)) goto oom;
    c->kv_type = p.kv_f16 ? G4_TYPE_F16 : G4_TYPE_F32;
    for (int l = 0; l < cf->n_layer; l++) {
        const int64_t w = (int64_t)g4_layer_n_kv(cf, l) * g4_layer_d_head(cf, l);
        c->cap[l] = layer_cap(cf, l, p.n_ctx, p.n_batch);
        const size_t bytes = (size_t)c->cap[l] * g4_row_size(c->kv_type, w);
        if (!(c->k[l] = BE(c)->alloc(BC(c), bytes)) || !(c->v[l] = BE(c)->alloc(BC(c), bytes))) goto oom;
        c->kv_bytes += 2 * bytes;
    }
    float **bufs[] = {&c->h, &c->x, &c->o};
    for (size_t i = 0; i < 3; i++)
        if (!(*bufs[i] = BE(c)->alloc(BC(c), (size_t)(B * cf->d_model) * sizeof(float)))) goto oom;
    if (!(c->q = BE(c)->alloc(BC(c), (size_t)(B * cf->n_head * hdm) * sizeof(float)))) goto oom;
    if (!(c->att = BE(c)->alloc(BC(c), (size_t)(B * cf->n_head * hdm) * sizeof(float)))) goto oom;
    if (!(c->kr = BE(c)->alloc(BC(c), (size_t)(B * max_kv_width(cf)) * sizeof(float)))) goto oom;
    if (!(c->vr = BE(c)->alloc(BC(c), (size_t)(B * max_kv_width(cf)) * sizeof(float)))) goto oom;
    if (!(c->gate = BE(c)->alloc(BC(c), (size_t)(B * cf->d_ff) * sizeof(float)))) goto oom;
    if (!(c->up = BE(c)->alloc(BC(c), (size_t)(B * cf->d_ff) * sizeof(float)))) goto oom;
    float **tabs[] = {&c->cos_swa, &c->sin_swa, &c->cos_full, &c->sin_full};
    for (size_t i = 0; i < 4; i++)
        if (!(*tabs[i] = BE(c)->alloc(BC(c), (size_t)(B * hdm / 2) * sizeof(float)))) goto oom;
    *out = c;
    return G4_OK;
oom:
    g4_ctx_free(c);
    return g4_errf(err, G4_ENOMEM, "context: out of memory for n_ctx %d, n_batch %d", p.n_ctx, p.n_batch);
}

void g4_ctx_free(g4_ctx *c) {
    if (!c) return;
    if (c->be.iface) {
        for (int l = 0; l < G4_MAX_LAYERS; l++) {
            if (c->k[l]) BE(c)->release(BC(c), c->k[l]);
            if (c->v[l]) BE(c)->release(BC(c), c->v[l]);
        }
        float *bufs[] = {c->h, c->x, c->q, c->kr, c->vr, c->att, c->o, c->gate, c->up,
                         c->cos_swa, c->sin_swa, c->cos_full, c->sin_full};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
            if (bufs[i]) BE(c)->release(BC(c), bufs[i]);
        g4_backend_free(&c->be);
    }
    g4_free(c);
}

void g4_ctx_reset(g4_ctx *c) { c->n_past = 0; }

g4_status g4_ctx_fill_synthetic(g4_ctx *c, int64_t n, char *err) {
    const g4_config *cf = &c->model->cfg;
    if (n < 0 || n > c->p.n_ctx)
        return g4_errf(err, G4_EINVAL, "depth %lld outside 0..n_ctx %d", (long long)n, c->p.n_ctx);
    int64_t wmax = 0;
    for (int l = 0; l < cf->n_layer; l++) wmax = G4_MAX(wmax, (int64_t)g4_layer_n_kv(cf, l) * g4_layer_d_head(cf, l));
    float *row = g4_malloc(sizeof(float) * (size_t)G4_MAX(wmax, 1));
    if (!row) return g4_errf(err, G4_ENOMEM, "depth: out of memory");
    uint32_t s = 12345;
    for (int l = 0; l < cf->n_layer; l++) {
        const int64_t w = (int64_t)g4_layer_n_kv(cf, l) * g4_layer_d_head(cf, l);
        const size_t rb = g4_row_size(c->kv_type, w);
        for (int64_t slot = 0; slot < G4_MIN(n, c->cap[l]); slot++)
            for (int kv = 0; kv < 2; kv++) {
                for (int64_t i = 0; i < w; i++) {
                    s = s * 1664525u + 1013904223u;
                    row[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
                }
                BE(c)->store_kv(BC(c), (char *)(kv ? c->v[l] : c->k[l]) + (size_t)slot * rb, c->kv_type, row, w);
            }
    }
    g4_free(row);
    c->n_past = n;
    return G4_OK;
}

g4_status g4_ctx_truncate(g4_ctx *c, int64_t n_past, char *err) {
    if (n_past < 0 || n_past > c->n_past)
        return g4_errf(err, G4_EINVAL, "truncate: %lld outside 0..%lld", (long long)n_past, (long long)c->n_past);
    /* sliding rings overwrite the oldest slots, so going back further than the ring's spare
     * room would lose keys still inside the window */
    const g4_config *cf = &c->model->cfg;
    for (int l = 0; l < cf->n_layer; l++)
        if (!cf->is_full[l] && c->n_past - n_past > c->cap[l] - cf->swa)
            return g4_errf(err, G4_EINVAL, "truncate: cannot drop %lld positions (ring holds %lld spare)",
                           (long long)(c->n_past - n_past), (long long)(c->cap[l] - cf->swa));
    c->n_past = n_past;
    return G4_OK;
}

/* cos/sin of HF's rope for positions pos0.. (or pos[t] when given), f32 like torch:
 * inv_freq = 1/theta^(2i/hd). */
static void rope_table(float *cs, float *sn, int n_tok, int64_t pos0, const int64_t *pos, int n_pairs, int hd,
                       float theta, float scale) {
    for (int i = 0; i < n_pairs; i++) {
        float inv = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
        if (scale != 1.0f) inv *= scale; /* linear rope scaling (Gemma 3 4B+ full layers) */
        for (int t = 0; t < n_tok; t++) {
            const float a = (float)(pos ? pos[t] : pos0 + t) * inv;
            cs[(int64_t)t * n_pairs + i] = cosf(a);
            sn[(int64_t)t * n_pairs + i] = sinf(a);
        }
    }
}

/* One batch of B tokens at positions pos0..pos0+B-1 -- token ids, or (ids NULL) rows of embeddings
 * from the vision/audio embedders, which enter the residual stream unscaled; bidir makes the batch
 * one bidirectional block (an image or video frame).  Writes logits for rows [first_row, B).
 * Several sequences (seqs != NULL): row t is the next token of context seqs[t] at position pos[t]; the
 * matrix products run once for all rows, each row's K/V and attention use its own context's cache;
 * c provides the buffers and the backend. */
static void forward_batch(g4_ctx *c, g4_ctx *const *seqs, const int64_t *pos, const int *ids, const float *embd,
                          int bidir, int B, int64_t pos0, float *logits, int first_row) {
    const g4_model *m = c->model;
    const g4_config *cf = &m->cfg;
    const g4_weights *w = &m->w;
    const g4_backend_iface *be = BE(c);
    void *bc = BC(c);
    const int64_t d = cf->d_model, eps_n = 0;
    (void)eps_n;
    const float eps = cf->rms_eps;

    /* embeddings, scaled by sqrt(d_model) (Gemma4UnifiedTextScaledWordEmbedding); soft tokens as given */
    if (ids) be->get_rows(bc, w->tok_embd, ids, B, sqrtf((float)d), c->h);
    else be->upload(bc, c->h, embd, B * d);

    const int pairs_swa = cf->d_head_swa / 2, pairs_full = g4_rope_dims_full(cf) / 2;
    rope_table(c->cos_swa, c->sin_swa, B, pos0, pos, pairs_swa, cf->d_head_swa, cf->rope_theta_swa, 1.0f);
    rope_table(c->cos_full, c->sin_full, B, pos0, pos, pairs_full, cf->d_head_full, cf->rope_theta_full,
               cf->rope_freq_scale_full);

    for (int l = 0; l < cf->n_layer; l++) {
        const g4_layer_weights *L = &w->layer[l];
        const int full = cf->is_full[l];
        const int hd = g4_layer_d_head(cf, l), nkv = g4_layer_n_kv(cf, l), nh = cf->n_head;
        const int pairs = full ? pairs_full : pairs_swa;
        const float *cs = full ? c->cos_full : c->cos_swa, *sn = full ? c->sin_full : c->sin_swa;

        /* attention block: x = input_layernorm(h) */
        be->copy(bc, c->x, c->h, B * d);
        be->rmsnorm(bc, c->x, L->attn_norm->data, B, d, eps);
        /* q = rope(q_norm(x Wq)) */
        be->matmul(bc, L->attn_q, c->x, B, c->q);
        be->rmsnorm(bc, c->q, L->attn_q_norm->data, (int64_t)B * nh, hd, eps);
        be->rope(bc, c->q, B, nh, hd, pairs, cs, sn);
        /* raw k; v from v_proj, or the raw k itself on k_eq_v full layers */
        be->matmul(bc, L->attn_k, c->x, B, c->kr);
        if (L->attn_v) be->matmul(bc, L->attn_v, c->x, B, c->vr);
        else be->copy(bc, c->vr, c->kr, (int64_t)B * nkv * hd);
        /* k = rope(k_norm(k)), v = v_norm(v) (no weight; Gemma 4 only) */
        be->rmsnorm(bc, c->kr, L->attn_k_norm->data, (int64_t)B * nkv, hd, eps);
        be->rope(bc, c->kr, B, nkv, hd, pairs, cs, sn);
        if (cf->v_norm) be->rmsnorm(bc, c->vr, NULL, (int64_t)B * nkv, hd, eps);
        /* append to this layer's KV ring(s), then softmax(q k^T * scale + mask) v (scale 1.0 for Gemma 4);
         * sliding layers see the last `swa` positions */
        const int64_t kvw = (int64_t)nkv * hd;
        const int64_t window = full ? INT64_MAX / 2 : cf->swa;
        if (!seqs) {
            const size_t rb = g4_row_size(c->kv_type, kvw);
            for (int t = 0; t < B; t++) {
                const int64_t slot = (pos0 + t) % c->cap[l];
                be->store_kv(bc, (char *)c->k[l] + (size_t)slot * rb, c->kv_type, c->kr + t * kvw, kvw);
                be->store_kv(bc, (char *)c->v[l] + (size_t)slot * rb, c->kv_type, c->vr + t * kvw, kvw);
            }
            /* an image block sees itself whole in every layer: transformers' generate() ORs the block mask into
             * both the causal and the sliding-window mask (Gemma4UnifiedModel.forward, spec §2.5 differs) */
            const int64_t last = bidir ? pos0 + B - 1 : -1;
            be->attention(bc, c->q, B, nh, nkv, hd, c->k[l], c->v[l], c->kv_type, c->cap[l], pos0, window, last,
                          cf->attn_scale, c->att);
        } else {
            for (int t = 0; t < B; t++) {
                g4_ctx *s = seqs[t];
                const int64_t slot = pos[t] % s->cap[l];
                const size_t rb = g4_row_size(s->kv_type, kvw);
                be->store_kv(bc, (char *)s->k[l] + (size_t)slot * rb, s->kv_type, c->kr + t * kvw, kvw);
                be->store_kv(bc, (char *)s->v[l] + (size_t)slot * rb, s->kv_type, c->vr + t * kvw, kvw);
                const int64_t qo = (int64_t)t * nh * hd;
                be->attention(bc, c->q + qo, 1, nh, nkv, hd, s->k[l], s->v[l], s->kv_type, s->cap[l], pos[t], window,
                              -1, cf->attn_scale, c->att + qo);
            }
        }
        /* h += post_attention_layernorm(att Wo) */
        be->matmul(bc, L->attn_output, c->att, B, c->o);
        be->rmsnorm(bc, c->o, L->post_attn_norm->data, B, d, eps);
        be->add_scale(bc, c->h, c->o, B * d, 1.0f);

        /* MLP block: h = (h + post_ffw_norm(down(gelu(gate(x)) * up(x)))) * layer_scalar */
        be->copy(bc, c->x, c->h, B * d);
        be->rmsnorm(bc, c->x, L->ffn_norm->data, B, d, eps);
        be->matmul(bc, L->ffn_gate, c->x, B, c->gate);
        be->matmul(bc, L->ffn_up, c->x, B, c->up);
        be->geglu(bc, c->gate, c->up, (int64_t)B * cf->d_ff);
        be->matmul(bc, L->ffn_down, c->gate, B, c->o);
        be->rmsnorm(bc, c->o, L->post_ffn_norm->data, B, d, eps);
        be->add_scale(bc, c->h, c->o, B * d, L->layer_scalar);
    }

    /* final norm, tied LM head, softcap -- only for the rows asked for */
    const int rows = B - first_row;
    if (rows <= 0) return;
    be->copy(bc, c->x, c->h + (int64_t)first_row * d, rows * d);
    be->rmsnorm(bc, c->x, w->output_norm->data, rows, d, eps);
    be->matmul(bc, w->tok_embd, c->x, rows, logits);
    if (cf->final_softcap > 0) be->softcap(bc, logits, (int64_t)rows * cf->n_vocab, cf->final_softcap);
}

g4_status g4_ctx_eval(g4_ctx *c, const int *ids, int n, float *logits, int all_logits, char *err) {
    const g4_config *cf = &c->model->cfg;
    if (n <= 0) return g4_errf(err, G4_EINVAL, "eval: no tokens");
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= cf->n_vocab)
            return g4_errf(err, G4_EINVAL, "eval: token id %d at %d out of range (vocab %d)", ids[i], i, cf->n_vocab);
    if (c->n_past + n > c->p.n_ctx)
        return g4_errf(err, G4_EINVAL, "context full: %lld + %d tokens > n_ctx %d", (long long)c->n_past, n, c->p.n_ctx);
    for (int done = 0; done < n;) {
        const int B = G4_MIN(n - done, c->p.n_batch);
        const int last_chunk = done + B == n;
        float *out = all_logits ? logits + (int64_t)done * cf->n_vocab : logits;
        const int first_row = !logits ? B : all_logits ? 0 : (last_chunk ? B - 1 : B); /* NULL: no logits wanted */
        forward_batch(c, NULL, NULL, ids + done, NULL, 0, B, c->n_past, out, first_row);
        c->n_past += B;
        done += B;
    }
    return G4_OK;
}

g4_status g4_ctx_eval_embd(g4_ctx *c, const float *embd, int n, int bidir, float *logits, int all_logits, char *err) {
    const g4_config *cf = &c->model->cfg;
    if (n <= 0) return g4_errf(err, G4_EINVAL, "eval: no embeddings");
    if (c->n_past + n > c->p.n_ctx)
        return g4_errf(err, G4_EINVAL, "context full: %lld + %d tokens > n_ctx %d", (long long)c->n_past, n, c->p.n_ctx);
    /* a bidirectional block must be one batch: its first tokens attend to its last ones */
    if (bidir && n > c->p.n_batch)
        return g4_errf(err, G4_EINVAL, "an image of %d soft tokens needs a batch size of at least %d (n_batch is %d)", n, n,
                       c->p.n_batch);
    for (int done = 0; done < n;) {
        const int B = G4_MIN(n - done, c->p.n_batch);
        const int last_chunk = done + B == n;
        float *out = all_logits ? logits + (int64_t)done * cf->n_vocab : logits;
        const int first_row = !logits ? B : all_logits ? 0 : (last_chunk ? B - 1 : B); /* NULL: no logits wanted */
        forward_batch(c, NULL, NULL, NULL, embd + (int64_t)done * cf->d_model, bidir && cf->bidir_vision, B, c->n_past,
                      out, first_row);
        c->n_past += B;
        done += B;
    }
    return G4_OK;
}

g4_status g4_ctx_decode_multi(g4_ctx *const *cs, const int *tokens, int n, float *logits, char *err) {
    if (n <= 0) return g4_errf(err, G4_EINVAL, "decode: no sequences");
    g4_ctx *lead = cs[0];
    const g4_config *cf = &lead->model->cfg;
    if (n > lead->p.n_batch)
        return g4_errf(err, G4_EINVAL, "decode: %d sequences exceed the batch size %d", n, lead->p.n_batch);
    int64_t pos[G4_MAX_MULTI];
    if (n > G4_MAX_MULTI) return g4_errf(err, G4_EINVAL, "decode: at most %d sequences at once", G4_MAX_MULTI);
    for (int i = 0; i < n; i++) {
        if (cs[i]->model != lead->model) return g4_errf(err, G4_EINVAL, "decode: contexts of different models");
        for (int j = 0; j < i; j++)
            if (cs[j] == cs[i]) return g4_errf(err, G4_EINVAL, "decode: context %d appears twice", i);
        if (tokens[i] < 0 || tokens[i] >= cf->n_vocab)
            return g4_errf(err, G4_EINVAL, "decode: token id %d out of range (vocab %d)", tokens[i], cf->n_vocab);
        if (cs[i]->n_past + 1 > cs[i]->p.n_ctx)
            return g4_errf(err, G4_EINVAL, "context full: %lld + 1 tokens > n_ctx %d", (long long)cs[i]->n_past,
                           cs[i]->p.n_ctx);
        pos[i] = cs[i]->n_past;
    }
    forward_batch(lead, cs, pos, tokens, NULL, 0, n, 0, logits, 0);
    for (int i = 0; i < n; i++) cs[i]->n_past++;
    return G4_OK;
}

int64_t g4_ctx_n_past(const g4_ctx *c) { return c->n_past; }
