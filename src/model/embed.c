/* embed.c -- the encoder-free embedders: image patches and audio frames -> decoder rows.
 *
 * Vision (HF Gemma4UnifiedVisionEmbedder, spec §2.2): LayerNorm(6912) -> dense + bias -> LayerNorm
 * -> + pos_x + pos_y (factorised table) -> LayerNorm -> RMSNorm without weight -> projection.
 * Audio (spec §3): RMSNorm without weight over each 640-sample frame -> projection.  The results
 * go into the residual stream as they are (no sqrt(d) scale).  Computed through the context's
 * backend in chunks so memory stays bounded whatever the image size.
 */
#include <string.h>

#include "ctx.h"

#define EMBED_CHUNK 64 /* patches per backend pass */

g4_status g4_ctx_embed_image(g4_ctx *c, const float *patches, const int *pos_xy, int n, float *out, char *err) {
    const g4_model *m = c->model;
    const g4_config *cf = &m->cfg;
    const g4_vision_weights *v = &m->w.vis;
    if (!m->w.has_vision)
        return g4_errf(err, G4_EINVAL, "%s: this model has no vision embedder (for a llama.cpp GGUF, pass its mmproj file "
                       "with --mmproj)", m->path);
    if (n <= 0) return g4_errf(err, G4_EINVAL, "image: no patches");
    for (int i = 0; i < 2 * n; i++)
        if (pos_xy[i] < 0 || pos_xy[i] >= cf->posemb_size)
            return g4_errf(err, G4_EINVAL, "image: patch position %d outside the table (0..%d)", pos_xy[i], cf->posemb_size - 1);
    const g4_backend_iface *be = c->be.iface;
    void *bc = c->be.ctx;
    const int64_t P = G4_PATCH_DIM_MODEL, mm = cf->mm_dim, d = cf->d_model, CH = EMBED_CHUNK;
    float *hx = g4_malloc((size_t)(CH * P) * sizeof(float));     /* host staging (patch reorder) */
    float *x = be->alloc(bc, (size_t)(CH * P) * sizeof(float));
    float *y = be->alloc(bc, (size_t)(CH * mm) * sizeof(float));
    float *px = be->alloc(bc, (size_t)(CH * mm) * sizeof(float));
    float *py = be->alloc(bc, (size_t)(CH * mm) * sizeof(float));
    float *e = be->alloc(bc, (size_t)(CH * d) * sizeof(float));
    g4_status st = G4_OK;
    if (!hx || !x || !y || !px || !py || !e) {
        st = g4_errf(err, G4_ENOMEM, "image: out of memory for the embedder");
        goto done;
    }
    for (int r0 = 0; r0 < n; r0 += (int)CH) {
        const int rows = (int)G4_MIN(CH, (int64_t)(n - r0));
        const float *src = patches + (int64_t)r0 * P;
        if (v->patch_chw) { /* llama.cpp's mmproj permuted patch_dense / patch_ln1 to (c, y, x) */
            for (int r = 0; r < rows; r++)
                for (int64_t i = 0; i < P / 3; i++)
                    for (int ch = 0; ch < 3; ch++) hx[r * P + ch * (P / 3) + i] = src[r * P + i * 3 + ch];
            src = hx;
        }
        be->upload(bc, x, src, rows * P);
        be->layernorm(bc, x, v->ln1_w->data, v->ln1_b->data, rows, P, cf->ln_eps);
        be->matmul(bc, v->dense, x, rows, y);
        be->add_bias(bc, y, v->dense_b->data, rows, mm);
        be->layernorm(bc, y, v->ln2_w->data, v->ln2_b->data, rows, mm, cf->ln_eps);
        int ix[EMBED_CHUNK], iy[EMBED_CHUNK];
        for (int r = 0; r < rows; r++) {
            const int gx = pos_xy[2 * (r0 + r)], gy = pos_xy[2 * (r0 + r) + 1];
            ix[r] = v->pos_interleaved ? gx * 2 : gx;
            iy[r] = v->pos_interleaved ? gy * 2 + 1 : cf->posemb_size + gy;
        }
        be->get_rows(bc, &v->pos, ix, rows, 1.0f, px);
        be->get_rows(bc, &v->pos, iy, rows, 1.0f, py);
        be->add_scale(bc, px, py, rows * mm, 1.0f); /* HF sums the two axes first */
        be->add_scale(bc, y, px, rows * mm, 1.0f);
        be->layernorm(bc, y, v->ln3_w->data, v->ln3_b->data, rows, mm, cf->ln_eps);
        be->rmsnorm(bc, y, NULL, rows, mm, cf->vision_eps);
        be->matmul(bc, v->proj, y, rows, e);
        be->download(bc, out + (int64_t)r0 * d, e, rows * d);
    }
done:
    g4_free(hx);
    float *bufs[] = {x, y, px, py, e};
    for (int i = 0; i < 5; i++)
        if (bufs[i]) be->release(bc, bufs[i]);
    return st;
}

g4_status g4_ctx_embed_audio(g4_ctx *c, const float *frames, int n, float *out, char *err) {
    const g4_model *m = c->model;
    const g4_config *cf = &m->cfg;
    if (!m->w.has_audio)
        return g4_errf(err, G4_EINVAL, "%s: this model has no audio embedder (for a llama.cpp GGUF, pass its mmproj file "
                       "with --mmproj)", m->path);
    if (n <= 0) return g4_errf(err, G4_EINVAL, "audio: no frames");
    const g4_backend_iface *be = c->be.iface;
    void *bc = c->be.ctx;
    const int64_t A = cf->audio_dim, d = cf->d_model, CH = 256;
    float *x = be->alloc(bc, (size_t)(CH * A) * sizeof(float));
    float *e = be->alloc(bc, (size_t)(CH * d) * sizeof(float));
    g4_status st = G4_OK;
    if (!x || !e) st = g4_errf(err, G4_ENOMEM, "audio: out of memory for the embedder");
    for (int r0 = 0; !st && r0 < n; r0 += (int)CH) {
        const int rows = (int)G4_MIN(CH, (int64_t)(n - r0));
        be->upload(bc, x, frames + (int64_t)r0 * A, rows * A);
        be->rmsnorm(bc, x, NULL, rows, A, cf->audio_eps);
        be->matmul(bc, m->w.audio_proj, x, rows, e);
        be->download(bc, out + (int64_t)r0 * d, e, rows * d);
    }
    if (x) be->release(bc, x);
    if (e) be->release(bc, e);
    return st;
}
