/* backend_cpu.c -- the CPU implementation of backend.h: threads over rows/heads, SIMD via the
 * per-type dot kernels of quant.c.  Work is split into fixed contiguous ranges per thread, so
 * results do not depend on timing (only on the thread count, for reductions we never split). */
#include "backend.h"

#include <math.h>
#include <string.h>

#include "cpu/quant_cpu.h"
#include "gemm.h"
#include "qdot.h"
#include "quant.h"
#include "threads.h"

#define G4_GEMM_ROWS 16 /* weight rows dequantized per GEMM call in prefill */
#define PACK_GROUP 128  /* weight rows whose interleaved k block shares one pass over the activations */
#define SCRATCH_PER_THREAD(n) ((int64_t)G4_GEMM_ROWS * (n) + (int64_t)(PACK_GROUP + G4_GEMM_ROWS) * G4_GEMM_KC)

typedef struct {
    g4_pool *pool;
    int nth;
    float *scratch;        /* per thread: SCRATCH_PER_THREAD(scratch_n) floats (dequantized, interleaved rows) */
    int64_t scratch_n;
    int int8_act;          /* matmuls on q8_0/q4_0/q4_K/q6_K weights quantize the activations (qdot.h) */
    g4_block_q8x *xq;      /* those activations: xq_tok rows of scratch_n / 32 blocks */
    int xq_tok;
    float *attn_buf;       /* attention partials (cpu_attention), attn_n floats */
    size_t attn_n;
} cpu_ctx;

static void cpu_free(void *vctx) {
    cpu_ctx *c = vctx;
    g4_pool_free(c->pool);
    g4_free(c->scratch);
    g4_free(c->xq);
    g4_free(c->attn_buf);
    g4_free(c);
}

static void *cpu_alloc(void *vctx, size_t n) { (void)vctx; return g4_calloc(1, n); }
static void cpu_release(void *vctx, void *p) { (void)vctx; g4_free(p); }

/* ---- matmul ---------------------------------------------------------------------------- */

typedef struct {
    cpu_ctx *c;
    const g4_tensor *w;
    const float *x;
    int n_tok;
    float *y;
} matmul_job;

static void matmul_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    const int64_t n_in = j->w->ne[0], n_out = j->w->ne[1];
    const size_t row_bytes = g4_row_size(j->w->type, n_in);
    int64_t r0, r1;
    g4_split(n_out, ith, nth, &r0, &r1);
    const uint8_t *base = j->w->data;
    if (j->n_tok == 1 || n_in > j->c->scratch_n) {
        g4_dot_fn dot = g4_type_dot(j->w->type);
        for (int64_t r = r0; r < r1; r++) {
            const void *row = base + (size_t)r * row_bytes;
            for (int t = 0; t < j->n_tok; t++) j->y[(int64_t)t * n_out + r] = dot(row, j->x + (int64_t)t * n_in, n_in);
        }
        return;
    }
    const g4_type_info *ti = g4_type_get(j->w->type);
    float *tmp = j->c->scratch + (int64_t)ith * SCRATCH_PER_THREAD(j->c->scratch_n);
    if (j->n_tok <= G4_MULTI_MAX && g4_gemm_packed_ok()) { /* a few tokens (parallel decode): each row dequantized once, dotted with all */
        for (int64_t r = r0; r < r1; r += 2) {
            const int nr = (int)G4_MIN((int64_t)2, r1 - r);
            const uint8_t *row = base + (size_t)r * row_bytes;
            const float *wf = (const float *)row;
            if (j->w->type != G4_TYPE_F32) {
                for (int i = 0; i < nr; i++) ti->to_f32(row + (size_t)i * row_bytes, tmp + (int64_t)i * n_in, n_in);
                wf = tmp;
            }
            g4_dot_f32_multi(wf, nr, j->x, j->n_tok, n_in, n_in, j->y + r, n_out);
        }
        return;
    }
    if (g4_gemm_packed_ok()) {
        /* Many tokens, the packed AVX2 kernel.  Rows go in groups of PACK_GROUP (panels of 16 interleaved
         * rows) and k in blocks of G4_GEMM_KC: a block of the group is dequantized and interleaved once (it
         * fits L2), then every token block of the activations (6 x KC, in L1) meets all its panels, so the
         * activations stream once per group of rows rather than once per 16 rows.  (On the 2-core VM the
         * 12B's pp512 measured the same with groups of 16 -- its L3 holds them -- so this is for smaller
         * caches, not a measured gain.) */
        float *chunk = tmp + (int64_t)PACK_GROUP * G4_GEMM_KC; /* one panel's rows, dequantized */
        for (int64_t g = r0; g < r1; g += PACK_GROUP) {
            const int ng = (int)G4_MIN((int64_t)PACK_GROUP, r1 - g), npan = (ng + 15) / 16;
            for (int64_t k0 = 0; k0 < n_in; k0 += G4_GEMM_KC) {
                const int64_t len = G4_MIN((int64_t)G4_GEMM_KC, n_in - k0);
                for (int p = 0; p < npan; p++) {
                    const int nr = G4_MIN(16, ng - 16 * p);
                    const float *src[16];
                    for (int i = 0; i < nr; i++) {
                        const uint8_t *row = base + (size_t)(g + 16 * p + i) * row_bytes;
                        if (j->w->type == G4_TYPE_F32) src[i] = (const float *)row + k0;
                        else {
                            ti->to_f32(row + g4_row_size(j->w->type, k0), chunk + (int64_t)i * G4_GEMM_KC, len);
                            src[i] = chunk + (int64_t)i * G4_GEMM_KC;
                        }
                    }
                    g4_gemm_pack16(src, nr, len, tmp + (int64_t)p * 16 * G4_GEMM_KC);
                }
                for (int t = 0; t < j->n_tok; t += 6) {
                    const int nt = G4_MIN(6, j->n_tok - t);
                    for (int p = 0; p < npan; p++)
                        g4_gemm_f32_packed_kblock(tmp + (int64_t)p * 16 * G4_GEMM_KC, G4_MIN(16, ng - 16 * p),
                                                  j->x + (int64_t)t * n_in + k0, nt, n_in, len,
                                                  j->y + (int64_t)t * n_out + g + 16 * p, n_out, k0 > 0);
                }
            }
        }
        return;
    }
    /* many tokens elsewhere: dequantize G4_GEMM_ROWS rows at a time, then a register-tiled f32 GEMM */
    for (int64_t r = r0; r < r1; r += G4_GEMM_ROWS) {
        const int nr = (int)G4_MIN((int64_t)G4_GEMM_ROWS, r1 - r);
        if (j->w->type == G4_TYPE_F32) { /* already f32: use the rows in place */
            g4_gemm_f32((const float *)(base + (size_t)r * row_bytes), nr, j->x, j->n_tok, n_in, j->y + r, n_out);
            continue;
        }
        for (int i = 0; i < nr; i++) ti->to_f32(base + (size_t)(r + i) * row_bytes, tmp + (int64_t)i * n_in, n_in);
        g4_gemm_f32(tmp, nr, j->x, j->n_tok, n_in, j->y + r, n_out);
    }
}

/* The integer path: each thread's rows against all n_tok quantized activation rows, G4_QDOT_MAX_NT at a time. */
typedef struct {
    const g4_tensor *w;
    g4_qdot_fn dot;
    const g4_block_q8x *xq;
    int n_tok;
    float *y;
} qmatmul_job;

static void qmatmul_worker(void *arg, int ith, int nth) {
    qmatmul_job *j = arg;
    const int64_t n_in = j->w->ne[0], n_out = j->w->ne[1], nb = n_in / G4_QK8X;
    const size_t row_bytes = g4_row_size(j->w->type, n_in);
    int64_t r0, r1;
    g4_split(n_out, ith, nth, &r0, &r1);
    const uint8_t *base = j->w->data;
    for (int64_t r = r0; r < r1; r++)
        for (int t = 0; t < j->n_tok; t += G4_QDOT_MAX_NT)
            j->dot(base + (size_t)r * row_bytes, j->xq + t * nb, nb, G4_MIN(G4_QDOT_MAX_NT, j->n_tok - t), n_in,
                   j->y + (int64_t)t * n_out + r, n_out);
}

/* Packed rows (8-row groups, qdot.h): each thread takes whole groups; tokens go in chunks of X8_TOK_CHUNK (their
 * quantized rows stay in L2 while the chunk meets every group of the thread), 4 at a time per kernel call. */
#define X8_TOK_CHUNK 32
typedef struct {
    const g4_tensor *w;
    g4_qdot_x8_fn dot;
    const g4_block_q8x *xq;
    int n_tok;
    float *y;
} x8matmul_job;

static void x8matmul_worker(void *arg, int ith, int nth) {
    x8matmul_job *j = arg;
    const int64_t n_in = j->w->ne[0], n_out = j->w->ne[1], nb = n_in / G4_QK8X;
    const size_t grp_bytes = g4_row_size(j->w->type, n_in) * G4_X8_ROWS;
    int64_t g0, g1;
    g4_split(n_out / G4_X8_ROWS, ith, nth, &g0, &g1);
    const uint8_t *base = j->w->packed;
    for (int t0 = 0; t0 < j->n_tok; t0 += X8_TOK_CHUNK) {
        const int t1 = G4_MIN(j->n_tok, t0 + X8_TOK_CHUNK);
        for (int64_t g = g0; g < g1; g++)
            for (int t = t0; t < t1; t += G4_QDOT_MAX_NT)
                j->dot(base + (size_t)g * grp_bytes, j->xq + t * nb, nb, G4_MIN(G4_QDOT_MAX_NT, t1 - t), n_in,
                       j->y + (int64_t)t * n_out + g * G4_X8_ROWS, n_out);
    }
}

static void cpu_matmul(void *vctx, const g4_tensor *w, const float *x, int n_tok, float *y) {
    cpu_ctx *c = vctx;
    const int64_t n_in = w->ne[0], nb = n_in / G4_QK8X;
    const int q_ok = c->int8_act && c->xq && n_in <= c->scratch_n && n_in % G4_QK8X == 0;
    g4_qdot_x8_fn x8 = q_ok && w->packed && n_tok <= c->xq_tok ? g4_qdot_x8(w->type) : NULL;
    g4_qdot_fn qdot = q_ok && !x8 && n_tok <= G4_MULTI_MAX ? g4_type_qdot(w->type) : NULL;
    if (x8 || qdot)
        for (int t = 0; t < n_tok; t++) g4_quantize_q8x(x + t * n_in, c->xq + t * nb, n_in);
    if (x8) {
        x8matmul_job q = {w, x8, c->xq, n_tok, y};
        g4_pool_run(c->pool, x8matmul_worker, &q);
        return;
    }
    if (qdot) {
        qmatmul_job q = {w, qdot, c->xq, n_tok, y};
        g4_pool_run(c->pool, qmatmul_worker, &q);
        return;
    }
    matmul_job j = {c, w, x, n_tok, y};
    g4_pool_run(c->pool, matmul_worker, &j);
}

/* Scratch for dequantized rows of up to max_row elements, per thread (prefill fast path), and, with
 * int8_act, room for max_tok quantized activation rows of that length. */
static float *attn_scratch(cpu_ctx *c, size_t n);
#define ATTN_MAX_GROUP 64 /* query heads per KV head */

/* max_row also bounds a query token's heads (n_head * head_dim): the attention of a batch needs two
 * partials of at most max_row + 2 * ATTN_MAX_GROUP floats per thread, reserved here so it cannot fail. */
static g4_status cpu_reserve(void *vctx, int64_t max_row, int max_tok) {
    cpu_ctx *c = vctx;
    if (!attn_scratch(c, (size_t)c->nth * 2 * (size_t)(G4_MAX(max_row, c->scratch_n) + 2 * ATTN_MAX_GROUP)))
        return G4_ENOMEM;
    max_tok = c->int8_act ? G4_MAX(max_tok, G4_MULTI_MAX) : G4_MULTI_MAX;
    if (max_row <= c->scratch_n && max_tok <= c->xq_tok) return G4_OK;
    max_row = G4_MAX(max_row, c->scratch_n);
    float *s = g4_malloc((size_t)c->nth * (size_t)SCRATCH_PER_THREAD(max_row) * sizeof(float));
    g4_block_q8x *xq = g4_malloc((size_t)max_tok * (size_t)(max_row / G4_QK8X + 1) * sizeof *xq);
    if (!s || !xq) {
        g4_free(s);
        g4_free(xq);
        return G4_ENOMEM;
    }
    g4_free(c->scratch);
    g4_free(c->xq);
    c->scratch = s;
    c->xq = xq;
    c->xq_tok = max_tok;
    c->scratch_n = max_row;
    return G4_OK;
}

static void cpu_get_rows(void *vctx, const g4_tensor *w, const int *ids, int n, float scale, float *out) {
    (void)vctx;
    const int64_t d = w->ne[0];
    const size_t rb = g4_row_size(w->type, d);
    const g4_type_info *ti = g4_type_get(w->type);
    for (int i = 0; i < n; i++) {
        float *o = out + (int64_t)i * d;
        ti->to_f32((const uint8_t *)w->data + (size_t)ids[i] * rb, o, d);
        for (int64_t k = 0; k < d; k++) o[k] *= scale;
    }
}

/* ---- elementwise ------------------------------------------------------------------------ */

typedef struct {
    float *x;
    const float *w, *u;
    int64_t n_rows, n;
    float eps;
} elem_job;

static void rmsnorm_rows(float *x, const float *w, int64_t r0, int64_t r1, int64_t n, float eps) {
    for (int64_t r = r0; r < r1; r++) {
        float *v = x + r * n;
        double ss = 0;
        for (int64_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
        const float inv = 1.0f / sqrtf((float)(ss / (double)n) + eps);
        if (w) for (int64_t i = 0; i < n; i++) v[i] = v[i] * inv * w[i];
        else   for (int64_t i = 0; i < n; i++) v[i] = v[i] * inv;
    }
}

static void rmsnorm_worker(void *arg, int ith, int nth) {
    elem_job *j = arg;
    int64_t r0, r1;
    g4_split(j->n_rows, ith, nth, &r0, &r1);
    rmsnorm_rows(j->x, j->w, r0, r1, j->n, j->eps);
}

/* Rows are independent: threads take whole rows, so results do not depend on the thread count. */
static void cpu_rmsnorm(void *vctx, float *x, const float *w, int64_t n_rows, int64_t n, float eps) {
    cpu_ctx *c = vctx;
    if (n_rows * n < 32768) { rmsnorm_rows(x, w, 0, n_rows, n, eps); return; }
    elem_job j = {.x = x, .w = w, .n_rows = n_rows, .n = n, .eps = eps};
    g4_pool_run(c->pool, rmsnorm_worker, &j);
}

static void cpu_rope(void *vctx, float *x, int n_tok, int n_heads, int hd, int n_pairs, const float *cos_t,
                     const float *sin_t) {
    (void)vctx;
    const int half = hd / 2;
    for (int t = 0; t < n_tok; t++) {
        const float *cs = cos_t + (int64_t)t * n_pairs, *sn = sin_t + (int64_t)t * n_pairs;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((int64_t)t * n_heads + h) * hd;
            for (int i = 0; i < n_pairs; i++) {
                const float a = v[i], b = v[i + half];
                v[i] = a * cs[i] - b * sn[i];
                v[i + half] = b * cs[i] + a * sn[i];
            }
        }
    }
}

static void geglu_range(float *g, const float *u, int64_t a, int64_t b) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int64_t i = a; i < b; i++) {
        const float x = g[i];
        g[i] = 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x))) * u[i];
    }
}

static void geglu_worker(void *arg, int ith, int nth) {
    elem_job *j = arg;
    int64_t a, b;
    g4_split(j->n, ith, nth, &a, &b);
    geglu_range(j->x, j->u, a, b);
}

static void cpu_geglu(void *vctx, float *g, const float *u, int64_t n) {
    cpu_ctx *c = vctx;
    if (n < 32768) { geglu_range(g, u, 0, n); return; }
    elem_job j = {.x = g, .u = u, .n = n};
    g4_pool_run(c->pool, geglu_worker, &j);
}

static void cpu_add_scale(void *vctx, float *y, const float *x, int64_t n, float s) {
    (void)vctx;
    for (int64_t i = 0; i < n; i++) y[i] = (y[i] + x[i]) * s;
}

static void cpu_softcap(void *vctx, float *x, int64_t n, float cap) {
    (void)vctx;
    for (int64_t i = 0; i < n; i++) x[i] = cap * tanhf(x[i] / cap);
}

static void cpu_copy(void *vctx, float *d, const float *s, int64_t n) { (void)vctx; memmove(d, s, (size_t)n * sizeof *d); }

static void cpu_layernorm(void *vctx, float *x, const float *w, const float *b, int64_t n_rows, int64_t n, float eps) {
    (void)vctx;
    for (int64_t r = 0; r < n_rows; r++) {
        float *v = x + r * n;
        double sum = 0, ss = 0;
        for (int64_t i = 0; i < n; i++) sum += v[i];
        const double mean = sum / (double)n;
        for (int64_t i = 0; i < n; i++) ss += ((double)v[i] - mean) * ((double)v[i] - mean);
        const float inv = (float)(1.0 / sqrt(ss / (double)n + (double)eps)), mf = (float)mean;
        for (int64_t i = 0; i < n; i++) v[i] = (v[i] - mf) * inv * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
    }
}

static void cpu_add_bias(void *vctx, float *y, const float *b, int64_t n_rows, int64_t n) {
    (void)vctx;
    for (int64_t r = 0; r < n_rows; r++)
        for (int64_t i = 0; i < n; i++) y[r * n + i] += b[i];
}

/* ---- attention --------------------------------------------------------------------------
 * Work item: one query token t and one KV head; its G = n_head / n_kv query heads are done together, so
 * every K/V row is read from memory once for all of them (a decode step at 32K context reads the full
 * layers' cache once, not 16 times).  Positions go in chunks of ATTN_CHUNK aligned to absolute positions:
 * each chunk gives a partial softmax (max m, normaliser l, unnormalised sum o), and the partials are folded
 * in chunk order.  Decode steps (few items) spread the chunks of one item over the threads and fold
 * afterwards; batches give each thread whole items and fold as they go.  The arithmetic per item is the
 * same either way, so results depend neither on the thread count nor on the batch.  Within a chunk, scores
 * are computed ATTN_TILE positions at a time before the rows' values are added. */

#define ATTN_MAX_HD 1024  /* head dims above this take the f32 cache only */
#define ATTN_CHUNK 512    /* positions per partial result */
#define ATTN_TILE 32      /* positions scored before their values are accumulated */

typedef struct {
    const float *q;
    const char *k, *v;
    int kv_type;
    float *out;
    int n_tok, n_head, n_kv, hd;
    int64_t cap, pos0, window, last;
    float scale;
    float *part;      /* decode: per unit (item, chunk) G * (hd + 2) floats; batch: 2 such per thread */
    int64_t *unit0;   /* decode: first unit of item i (items + 1 entries) */
    int avx2;         /* the AVX2 inner loops (cpu/attn_avx2.c) */
} attn_job;

static int attn_group(const attn_job *j) { return j->n_head / j->n_kv; }
static size_t attn_part_floats(const attn_job *j) { return (size_t)attn_group(j) * (size_t)(j->hd + 2); }

/* Positions query t sees: [lo, hi]. */
static void attn_range(const attn_job *j, int t, int64_t *lo, int64_t *hi) {
    const int64_t pos = j->pos0 + t;
    *lo = pos - j->window + 1 > 0 ? pos - j->window + 1 : 0;
    if (j->last >= 0 && j->pos0 < *lo) *lo = j->pos0; /* a bidirectional block: all of it */
    *hi = j->last > pos ? j->last : pos;
}
static int64_t attn_chunks(int64_t lo, int64_t hi) { return hi / ATTN_CHUNK - lo / ATTN_CHUNK + 1; }

/* The two inner loops, portable versions (the AVX2 ones are in cpu/attn_avx2.c): scores of one key row
 * against the G query rows, and the probability-weighted value rows of a tile added to the G accumulators. */
static void attn_scores_ref(const float *k, const float *q, int G, int hd, float scale, float *s, int ss) {
    for (int g = 0; g < G; g++) {
        float acc = 0.0f;
        for (int i = 0; i < hd; i++) acc += k[i] * q[(int64_t)g * hd + i];
        s[g * ss] = acc * scale;
    }
}

static void attn_pv_ref(float *o, const float *p, int ps, const float *const *v, int n, int G, int hd) {
    for (int g = 0; g < G; g++)
        for (int i = 0; i < n; i++) {
            const float w = p[(int64_t)g * ps + i];
            float *og = o + (int64_t)g * hd;
            for (int k = 0; k < hd; k++) og[k] += w * v[i][k];
        }
}

typedef void (*attn_scores_fn)(const float *k, const float *q, int G, int hd, float scale, float *s, int ss);
typedef void (*attn_pv_fn)(float *o, const float *p, int ps, const float *const *v, int n, int G, int hd);

/* The partial softmax of item (t, kvh) over positions [a, b]: p = {m[G], l[G], o[G][hd]}. */
static void attn_part(const attn_job *j, int t, int kvh, int64_t a, int64_t b, float *p) {
    const int G = attn_group(j), hd = j->hd, f32 = j->kv_type == G4_TYPE_F32;
    float *m = p, *l = p + G, *o = p + 2 * G;
    const g4_type_info *ti = g4_type_get(j->kv_type);
    const size_t row = g4_row_size(j->kv_type, (int64_t)j->n_kv * hd), head = g4_row_size(j->kv_type, hd);
    const float *qg = j->q + ((int64_t)t * j->n_head + (int64_t)kvh * G) * hd;
    attn_scores_fn scores = attn_scores_ref;
    attn_pv_fn pv = attn_pv_ref;
#ifdef G4_HAVE_AVX2_KERNELS
    if (j->avx2 && hd % 8 == 0) scores = g4_attn_scores_avx2;
    if (j->avx2 && hd % 64 == 0) pv = g4_attn_pv_avx2;
#endif
    float s[ATTN_MAX_GROUP * ATTN_TILE], kbuf[ATTN_MAX_HD];
    float vbuf[ATTN_TILE * ATTN_MAX_HD]; /* f16 value rows of a tile, as f32 */
    const float *vrows[ATTN_TILE];
    for (int g = 0; g < G; g++) m[g] = -INFINITY, l[g] = 0.0f;
    memset(o, 0, (size_t)G * (size_t)hd * sizeof *o);
    for (int64_t p0 = a; p0 <= b; p0 += ATTN_TILE) {
        const int n = (int)G4_MIN((int64_t)ATTN_TILE, b - p0 + 1);
        for (int i = 0; i < n; i++) {
            const size_t at = (size_t)((p0 + i) % j->cap) * row + (size_t)kvh * head;
            const char *kr = j->k + at, *vr = j->v + at;
            const float *kf = (const float *)kr;
            if (!f32) ti->to_f32(kr, kbuf, hd), kf = kbuf;
            scores(kf, qg, G, hd, j->scale, s + i, ATTN_TILE);
            vrows[i] = (const float *)vr;
            if (!f32) ti->to_f32(vr, vbuf + (int64_t)i * hd, hd), vrows[i] = vbuf + (int64_t)i * hd;
        }
        for (int g = 0; g < G; g++) {
            float *sg = s + g * ATTN_TILE, mt = m[g];
            for (int i = 0; i < n; i++) mt = sg[i] > mt ? sg[i] : mt;
            if (mt > m[g]) {
                const float c = expf(m[g] - mt); /* 0 on the first tile */
                l[g] *= c;
                for (int i = 0; i < hd; i++) o[(int64_t)g * hd + i] *= c;
                m[g] = mt;
            }
            for (int i = 0; i < n; i++) {
                sg[i] = expf(sg[i] - m[g]);
                l[g] += sg[i];
            }
        }
        pv(o, s, ATTN_TILE, vrows, n, G, hd);
    }
}

/* acc = acc (+) q: two partial softmaxes of the same heads merged. */
static void attn_fold(int G, int hd, float *acc, const float *q) {
    float *m = acc, *l = acc + G, *o = acc + 2 * G;
    const float *qm = q, *ql = q + G, *qo = q + 2 * G;
    for (int g = 0; g < G; g++) {
        const float mx = qm[g] > m[g] ? qm[g] : m[g], ca = expf(m[g] - mx), cq = expf(qm[g] - mx);
        l[g] = l[g] * ca + ql[g] * cq;
        for (int k = 0; k < hd; k++) o[(int64_t)g * hd + k] = o[(int64_t)g * hd + k] * ca + qo[(int64_t)g * hd + k] * cq;
        m[g] = mx;
    }
}

static void attn_finish(const attn_job *j, int t, int kvh, const float *acc) {
    const int G = attn_group(j), hd = j->hd;
    for (int g = 0; g < G; g++) {
        float *out = j->out + ((int64_t)t * j->n_head + (int64_t)kvh * G + g) * hd;
        const float inv = 1.0f / acc[G + g];
        for (int k = 0; k < hd; k++) out[k] = acc[2 * G + (int64_t)g * hd + k] * inv;
    }
}

/* chunk k of [lo, hi] */
static void attn_chunk_range(int64_t lo, int64_t hi, int64_t k, int64_t *a, int64_t *b) {
    const int64_t c0 = (lo / ATTN_CHUNK + k) * ATTN_CHUNK;
    *a = c0 > lo ? c0 : lo;
    *b = c0 + ATTN_CHUNK - 1 < hi ? c0 + ATTN_CHUNK - 1 : hi;
}

/* Batches: whole items per thread, chunks folded as they come. */
static void attn_items_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const int G = attn_group(j);
    float *acc = j->part + (size_t)ith * 2 * attn_part_floats(j), *tmp = acc + attn_part_floats(j);
    int64_t b0, e0;
    g4_split((int64_t)j->n_tok * j->n_kv, ith, nth, &b0, &e0);
    for (int64_t it = b0; it < e0; it++) {
        const int t = (int)(it / j->n_kv), kvh = (int)(it % j->n_kv);
        int64_t lo, hi, a, b;
        attn_range(j, t, &lo, &hi);
        const int64_t nc = attn_chunks(lo, hi);
        for (int64_t k = 0; k < nc; k++) {
            attn_chunk_range(lo, hi, k, &a, &b);
            attn_part(j, t, kvh, a, b, k ? tmp : acc);
            if (k) attn_fold(G, j->hd, acc, tmp);
        }
        attn_finish(j, t, kvh, acc);
    }
}

/* Decode steps, phase 1: every (item, chunk) unit to its own partial. */
static void attn_units_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const int64_t n_items = (int64_t)j->n_tok * j->n_kv;
    int64_t b0, e0;
    g4_split(j->unit0[n_items], ith, nth, &b0, &e0);
    int64_t it = 0;
    for (int64_t u = b0; u < e0; u++) {
        while (u >= j->unit0[it + 1]) it++;
        const int t = (int)(it / j->n_kv), kvh = (int)(it % j->n_kv);
        int64_t lo, hi, a, b;
        attn_range(j, t, &lo, &hi);
        attn_chunk_range(lo, hi, u - j->unit0[it], &a, &b);
        attn_part(j, t, kvh, a, b, j->part + (size_t)u * attn_part_floats(j));
    }
}

/* Phase 2: fold each item's partials in chunk order. */
static void attn_fold_worker(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const size_t pf = attn_part_floats(j);
    int64_t b0, e0;
    g4_split((int64_t)j->n_tok * j->n_kv, ith, nth, &b0, &e0);
    for (int64_t it = b0; it < e0; it++) {
        float *acc = j->part + (size_t)j->unit0[it] * pf;
        for (int64_t u = j->unit0[it] + 1; u < j->unit0[it + 1]; u++) attn_fold(attn_group(j), j->hd, acc, j->part + (size_t)u * pf);
        attn_finish(j, (int)(it / j->n_kv), (int)(it % j->n_kv), acc);
    }
}

/* Room for n floats in the attention scratch (grown, never shrunk); NULL when out of memory. */
static float *attn_scratch(cpu_ctx *c, size_t n) {
    if (n > c->attn_n) {
        float *p = g4_malloc(n * sizeof *p);
        if (!p) return NULL;
        g4_free(c->attn_buf);
        c->attn_buf = p;
        c->attn_n = n;
    }
    return c->attn_buf;
}

static void cpu_attention(void *vctx, const float *q, int n_tok, int n_head, int n_kv, int hd, const void *k,
                          const void *v, int kv_type, int64_t cap, int64_t pos0, int64_t window, int64_t last,
                          float scale, float *out) {
    cpu_ctx *c = vctx;
    G4_ASSERT(kv_type == G4_TYPE_F32 || hd <= ATTN_MAX_HD);
    G4_ASSERT(n_kv > 0 && n_head % n_kv == 0 && n_head / n_kv <= ATTN_MAX_GROUP);
    attn_job j = {q, k, v, kv_type, out, n_tok, n_head, n_kv, hd, cap, pos0, window, last, scale, NULL, NULL, 0};
#ifdef G4_HAVE_AVX2_KERNELS
    j.avx2 = g4_cpu_has_avx2();
#endif
    const int64_t n_items = (int64_t)n_tok * n_kv;
    const size_t pf = attn_part_floats(&j);
    if (n_items < 2 * (int64_t)c->nth && n_items <= 64) {
        int64_t unit0[65];
        unit0[0] = 0;
        for (int64_t it = 0; it < n_items; it++) {
            int64_t lo, hi;
            attn_range(&j, (int)(it / n_kv), &lo, &hi);
            unit0[it + 1] = unit0[it] + attn_chunks(lo, hi);
        }
        j.unit0 = unit0;
        j.part = attn_scratch(c, (size_t)unit0[n_items] * pf);
        if (j.part) {
            g4_pool_run(c->pool, attn_units_worker, &j);
            g4_pool_run(c->pool, attn_fold_worker, &j);
            return;
        }
    }
    j.part = attn_scratch(c, (size_t)c->nth * 2 * pf);
    G4_ASSERT(j.part != NULL); /* reserved by cpu_reserve (n_head * hd <= max_row) */
    g4_pool_run(c->pool, attn_items_worker, &j);
}

static void cpu_store_kv(void *vctx, void *dst, int kv_type, const float *src, int64_t n) {
    (void)vctx;
    if (kv_type == G4_TYPE_F32) memmove(dst, src, (size_t)n * sizeof *src);
    else g4_type_get(kv_type)->from_f32(src, dst, n);
}

static const g4_backend_iface cpu_iface = {
    .name = "cpu",
    .free = cpu_free,
    .reserve = cpu_reserve,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .matmul = cpu_matmul,
    .get_rows = cpu_get_rows,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .layernorm = cpu_layernorm,
    .add_bias = cpu_add_bias,
    .attention = cpu_attention,
    .store_kv = cpu_store_kv,
    .geglu = cpu_geglu,
    .add_scale = cpu_add_scale,
    .softcap = cpu_softcap,
    .copy = cpu_copy,
    .download = cpu_copy,
    .upload = cpu_copy,
    .sync = NULL,
};

g4_status g4_backend_cpu_new(g4_backend *be, int n_threads, int int8_act, char *err) {
    if (n_threads < 1 || n_threads > 1024) return g4_errf(err, G4_EINVAL, "threads: %d out of range (1..1024)", n_threads);
    cpu_ctx *c = g4_calloc(1, sizeof *c);
    if (!c) return g4_errf(err, G4_ENOMEM, "cpu backend: out of memory");
    c->nth = n_threads;
    c->int8_act = int8_act;
    c->pool = g4_pool_new(n_threads);
    if (!c->pool) { g4_free(c); return g4_errf(err, G4_ENOMEM, "cpu backend: cannot start %d threads", n_threads); }
    be->iface = &cpu_iface;
    be->ctx = c;
    return G4_OK;
}
