/* test_attention.c -- the CPU backend's attention (backend_cpu.c) against a plain double-precision softmax
 * attention, for the shapes the model uses (grouped heads 16:1 with 512-dim heads as in the 12B's full
 * layers, 2:1 with 256, small ones), long ring-buffer caches, sliding windows, bidirectional blocks and f16
 * caches; and the determinism the engine relies on: a decode step (chunks spread over threads) gives
 * bit for bit what the same token gets inside a batch (whole items per thread), at any thread count. */
#include "check.h"
#include "core/backend.h"
#include "core/quant.h"

static uint32_t lcg(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 9; }
static float rnd(uint32_t *s) { return (float)lcg(s) / (float)(1u << 23) * 2.0f - 1.0f; }
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

typedef struct {
    int n_head, n_kv, hd, kv_type;
    int64_t cap, pos0, window, last;
    int n_tok;
} shape;

/* out[t][h][:] by the textbook formula in double, from the cache as stored (f16 values widened). */
static void naive(const shape *s, const float *q, const float *kf, const float *vf, float scale, double *out) {
    const int G = s->n_head / s->n_kv;
    for (int t = 0; t < s->n_tok; t++) {
        const int64_t pos = s->pos0 + t;
        int64_t lo = pos - s->window + 1 > 0 ? pos - s->window + 1 : 0;
        if (s->last >= 0 && s->pos0 < lo) lo = s->pos0;
        const int64_t hi = s->last > pos ? s->last : pos;
        for (int h = 0; h < s->n_head; h++) {
            const float *qv = q + ((int64_t)t * s->n_head + h) * s->hd;
            const int kvh = h / G;
            double m = -INFINITY, l = 0;
            double *o = out + ((int64_t)t * s->n_head + h) * s->hd;
            for (int i = 0; i < s->hd; i++) o[i] = 0;
            for (int pass = 0; pass < 2; pass++)
                for (int64_t p = lo; p <= hi; p++) {
                    const int64_t slot = p % s->cap;
                    const float *kr = kf + (slot * s->n_kv + kvh) * s->hd, *vr = vf + (slot * s->n_kv + kvh) * s->hd;
                    double sc = 0;
                    for (int i = 0; i < s->hd; i++) sc += (double)kr[i] * qv[i];
                    sc *= scale;
                    if (pass == 0) { m = sc > m ? sc : m; continue; }
                    const double w = exp(sc - m);
                    l += w;
                    for (int i = 0; i < s->hd; i++) o[i] += w * vr[i];
                }
            for (int i = 0; i < s->hd; i++) o[i] /= l;
        }
    }
}

static void run_case(const char *name, shape s, uint32_t seed) {
    const int64_t nq = (int64_t)s.n_tok * s.n_head * s.hd, nkv = s.cap * s.n_kv * s.hd;
    float *q = malloc(sizeof(float) * (size_t)nq), *kf = malloc(sizeof(float) * (size_t)nkv),
          *vf = malloc(sizeof(float) * (size_t)nkv);
    float *out = malloc(sizeof(float) * (size_t)nq), *out1 = malloc(sizeof(float) * (size_t)nq);
    double *ref = malloc(sizeof(double) * (size_t)nq);
    const size_t esz = s.kv_type == G4_TYPE_F16 ? 2 : 4;
    void *k = malloc(esz * (size_t)nkv), *v = malloc(esz * (size_t)nkv);
    if (!q || !kf || !vf || !out || !out1 || !ref || !k || !v) { CHECK(0); goto done; }
    for (int64_t i = 0; i < nq; i++) q[i] = rnd(&seed) * 2.0f;
    for (int64_t i = 0; i < nkv; i++) kf[i] = rnd(&seed), vf[i] = rnd(&seed);
    if (s.kv_type == G4_TYPE_F16) { /* the cache holds f16: the reference sees the same rounded values */
        const g4_type_info *ti = g4_type_get(G4_TYPE_F16);
        ti->from_f32(kf, k, nkv), ti->from_f32(vf, v, nkv);
        ti->to_f32(k, kf, nkv), ti->to_f32(v, vf, nkv);
    } else {
        memcpy(k, kf, 4 * (size_t)nkv), memcpy(v, vf, 4 * (size_t)nkv);
    }
    const float scale = 1.0f / sqrtf((float)s.hd) * 3.0f;
    naive(&s, q, kf, vf, scale, ref);
    char err[G4_ERR_LEN];
    for (int nth = 1; nth <= 3; nth += 2) {
        g4_backend be;
        if (g4_backend_cpu_new(&be, nth, 0, err) || be.iface->reserve(be.ctx, (int64_t)s.n_head * s.hd, 64)) {
            CHECKF(0, "%s", err);
            goto done;
        }
        /* the batch at once */
        be.iface->attention(be.ctx, q, s.n_tok, s.n_head, s.n_kv, s.hd, k, v, s.kv_type, s.cap, s.pos0, s.window, s.last,
                            scale, out);
        double worst = 0;
        for (int64_t i = 0; i < nq; i++) worst = fmax(worst, fabs(out[i] - ref[i]));
        CHECKF(worst < 2e-5, "%s, %d threads: max |diff| %.3g against the double-precision reference", name, nth, worst);
        /* token by token (decode steps); a bidirectional block only makes sense whole */
        if (s.last < 0) {
            int same = 1;
            for (int t = 0; t < s.n_tok; t++) {
                const int64_t off = (int64_t)t * s.n_head * s.hd;
                be.iface->attention(be.ctx, q + off, 1, s.n_head, s.n_kv, s.hd, k, v, s.kv_type, s.cap, s.pos0 + t,
                                    s.window, -1, scale, out1 + off);
            }
            for (int64_t i = 0; i < nq; i++) same &= fbits(out1[i]) == fbits(out[i]);
            CHECKF(same, "%s, %d threads: one token at a time differs from the batch", name, nth);
        }
        if (nth == 1) memcpy(out1, out, sizeof(float) * (size_t)nq);
        else {
            int same = 1;
            be.iface->attention(be.ctx, q, s.n_tok, s.n_head, s.n_kv, s.hd, k, v, s.kv_type, s.cap, s.pos0, s.window,
                                s.last, scale, out);
            g4_backend be1;
            if (g4_backend_cpu_new(&be1, 1, 0, err) || be1.iface->reserve(be1.ctx, (int64_t)s.n_head * s.hd, 64)) {
                CHECKF(0, "%s", err);
                g4_backend_free(&be);
                goto done;
            }
            be1.iface->attention(be1.ctx, q, s.n_tok, s.n_head, s.n_kv, s.hd, k, v, s.kv_type, s.cap, s.pos0, s.window,
                                 s.last, scale, out1);
            g4_backend_free(&be1);
            for (int64_t i = 0; i < nq; i++) same &= fbits(out1[i]) == fbits(out[i]);
            CHECKF(same, "%s: 3 threads differ from 1", name);
        }
        g4_backend_free(&be);
    }
done:
    free(q), free(kf), free(vf), free(out), free(out1), free(ref), free(k), free(v);
}

int main(void) {
    /* name, {n_head, n_kv, hd, kv_type, cap, pos0, window, last, n_tok} */
    run_case("12B full layer, 16:1 heads of 512, 3000 positions", (shape){16, 1, 512, G4_TYPE_F32, 4096, 2997, 1 << 30, -1, 3}, 1);
    run_case("12B full layer, f16 cache", (shape){16, 1, 512, G4_TYPE_F16, 4096, 1500, 1 << 30, -1, 2}, 2);
    run_case("12B sliding layer, 2:1 heads of 256, ring of 160, window 128", (shape){4, 2, 256, G4_TYPE_F32, 160, 700, 128, -1, 5}, 3);
    run_case("chunk boundary (positions 511..512)", (shape){8, 1, 64, G4_TYPE_F32, 1024, 511, 1 << 30, -1, 2}, 4);
    run_case("batch of many items (prefill)", (shape){8, 4, 32, G4_TYPE_F32, 2048, 1000, 1 << 30, -1, 40}, 5);
    run_case("bidirectional image block", (shape){4, 2, 64, G4_TYPE_F32, 1024, 300, 200, 340, 41}, 6);
    run_case("first position", (shape){2, 2, 16, G4_TYPE_F16, 64, 0, 64, -1, 1}, 7);
    return check_done("test_attention");
}
