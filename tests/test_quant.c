/* test_quant.c -- the weight-type table against gguf-py 0.19.0, llama.cpp's own Python
 * package (fixtures in tests/data/quant, written by tools/make_quant_fixtures.py):
 *  - type ids, names, block and byte sizes equal gguf's constants;
 *  - f16/bf16 conversions equal numpy's / gguf's bit for bit (ties, subnormals, overflow,
 *    NaN), plus a few hand-checked IEEE facts;
 *  - from_f32 bytes equal gguf-py's quantization (f32, f16, bf16, q8_0, q4_0);
 *  - to_f32 equals gguf-py's dequantization bitwise, for all eight types;
 *  - every dot kernel this CPU has (scalar ref and the selected SIMD one) against a
 *    double-precision dot of gguf-py's dequantized row, |err| <= 1e-5 * sum|w*x|, for
 *    n = block * {1, 3, 7, 129} (more sizes for the plain float types), at odd alignments;
 *    and a kernel's result must not change with the row's alignment or between calls.
 * Nothing here is timed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/common.h"
#include "core/quant.h"

#define DATA "tests/data/quant/"

static void *slurp(const char *name, size_t *len) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s", name);
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f) {
        fprintf(stderr, "missing fixture %s (run tools/make_quant_fixtures.py)\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) *len = (size_t)n;
    return p;
}

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* equal bits, or both NaN (NaN payloads from inf*0 are the CPU's business) */
static int same_float(float a, float b) { return fbits(a) == fbits(b) || (isnan(a) && isnan(b)); }

typedef struct {
    const char *name;
    int id;
    int quantizable;
} tinfo;

static const tinfo TYPES[] = {
    {"f32", G4_TYPE_F32, 1},   {"f16", G4_TYPE_F16, 1},   {"q4_0", G4_TYPE_Q4_0, 1},
    {"q8_0", G4_TYPE_Q8_0, 1}, {"q4_K", G4_TYPE_Q4_K, 0}, {"q5_K", G4_TYPE_Q5_K, 0},
    {"q6_K", G4_TYPE_Q6_K, 0}, {"bf16", G4_TYPE_BF16, 1}, {"q5_0", G4_TYPE_Q5_0, 0},
};
#define NTYPES (int)(sizeof TYPES / sizeof TYPES[0])

/* ---- the table ---------------------------------------------------------------------- */

static void test_table(void) {
    size_t len;
    char *txt = slurp("types.txt", &len);
    CHECK(txt != NULL);
    if (!txt) return;
    char *s = realloc(txt, len + 1);
    CHECK(s != NULL);
    if (!s) {
        free(txt);
        return;
    }
    s[len] = 0;
    int seen = 0;
    char name[32];
    int id, pos = 0, used;
    long blck, size;
    while (sscanf(s + pos, "%31s %d %ld %ld%n", name, &id, &blck, &size, &used) == 4) {
        pos += used;
        seen++;
        const g4_type_info *ti = g4_type_get(id);
        CHECKF(ti != NULL, "type %s (%d) has no row", name, id);
        if (!ti) continue;
        CHECKF(strcmp(ti->name, name) == 0, "id %d: name %s, want %s", id, ti->name, name);
        CHECKF(ti->blck == blck && ti->size == (size_t)size, "%s: block %ld/%zu, want %ld/%ld", name,
               (long)ti->blck, ti->size, blck, size);
        CHECK(ti->to_f32 != NULL && ti->dot_f32 != NULL);
        int quantizable = 0;
        for (int i = 0; i < NTYPES; i++)
            if (TYPES[i].id == id) quantizable = TYPES[i].quantizable;
        CHECKF((ti->from_f32 != NULL) == quantizable, "%s: from_f32 %s", name,
               ti->from_f32 ? "set" : "NULL");
        CHECK(g4_type_from_name(name) == id);
        char upper[32];
        for (int i = 0; i < 32; i++) upper[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i]);
        CHECK(g4_type_from_name(upper) == id);
        CHECK(g4_row_size(id, 3 * blck) == 3 * (size_t)size);
        CHECK(g4_row_size(id, 0) == 0);
        CHECK(g4_row_size(id, -blck) == 0);
        if (blck > 1) CHECK(g4_row_size(id, blck + 1) == 0);
        CHECK(g4_type_dot(id) != NULL && g4_type_dot_ref(id) != NULL);
    }
    CHECKF(seen == NTYPES, "types.txt lists %d types, want %d", seen, NTYPES);
    free(s);
    const int unknown[] = {-1, 3, 7, 9, 10, 11, 15, 29, 31, 39, 40, 1000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECKF(g4_type_get(unknown[i]) == NULL, "id %d should be unknown", unknown[i]);
        CHECK(g4_type_dot(unknown[i]) == NULL && g4_type_dot_ref(unknown[i]) == NULL);
        CHECK(g4_row_size(unknown[i], 256) == 0);
    }
    CHECK(g4_type_from_name("q4_1") == -1);
    CHECK(g4_type_from_name("q8") == -1);
    CHECK(g4_type_from_name("") == -1);
    CHECK(g4_type_from_name(NULL) == -1);
    CHECK(g4_row_size(G4_TYPE_F32, INT64_MAX) == 0); /* would overflow size_t */
    const char *isa = g4_quant_isa();
    CHECK(isa != NULL && (strcmp(isa, "avx2") == 0 || strcmp(isa, "neon") == 0 || strcmp(isa, "scalar") == 0));
}

/* ---- scalar conversions ------------------------------------------------------------- */

static void test_conversions(void) {
    size_t n32, n16, nbf;
    uint32_t *in = slurp("conv_f32.bin", &n32);
    uint16_t *h16 = slurp("conv_f16.bin", &n16);
    uint16_t *hbf = slurp("conv_bf16.bin", &nbf);
    CHECK(in && h16 && hbf && n16 == n32 / 2 && nbf == n32 / 2);
    if (in && h16 && hbf && n16 == n32 / 2 && nbf == n32 / 2) {
        size_t n = n32 / 4, bad16 = 0, badbf = 0, nnan = 0;
        for (size_t i = 0; i < n; i++) {
            float f = bitsf(in[i]);
            g4_f16 h = g4_f32_to_f16(f);
            g4_bf16 b = g4_f32_to_bf16(f);
            nnan += isnan(f);
            if (h != h16[i] && bad16++ == 0)
                fprintf(stderr, "f32->f16 %08x: got %04x, want %04x\n", in[i], h, h16[i]);
            if (b != hbf[i] && badbf++ == 0)
                fprintf(stderr, "f32->bf16 %08x: got %04x, want %04x\n", in[i], b, hbf[i]);
        }
        CHECKF(bad16 == 0, "%zu of %zu f32->f16 differ from numpy", bad16, n);
        CHECKF(badbf == 0, "%zu of %zu f32->bf16 differ from gguf-py", badbf, n);
        CHECK(n > 10000 && nnan >= 4);
    }
    free(in);
    free(h16);
    free(hbf);

    size_t nh, nf;
    uint16_t *hs = slurp("conv_h.bin", &nh);
    uint32_t *fs = slurp("conv_h_f32.bin", &nf);
    CHECK(hs && fs && nf == 2 * nh);
    if (hs && fs && nf == 2 * nh) {
        size_t bad = 0;
        for (size_t i = 0; i < nh / 2; i++) {
            uint32_t got = fbits(g4_f16_to_f32(hs[i]));
            if (got != fs[i] && bad++ == 0) fprintf(stderr, "f16->f32 %04x: got %08x, want %08x\n", hs[i], got, fs[i]);
        }
        CHECKF(bad == 0, "%zu of %zu f16->f32 differ from numpy", bad, nh / 2);
    }
    free(hs);
    free(fs);

    /* IEEE facts, independent of the fixtures */
    static const struct { float f; uint16_t h; int exact; } f16c[] = {
        {0.0f, 0x0000, 1}, {-0.0f, 0x8000, 1}, {1.0f, 0x3c00, 1}, {-2.0f, 0xc000, 1},
        {65504.0f, 0x7bff, 1}, {65519.0f, 0x7bff, 0}, {65520.0f, 0x7c00, 0}, {1e6f, 0x7c00, 0},
        {INFINITY, 0x7c00, 1}, {-INFINITY, 0xfc00, 1},
        {0x1p-14f, 0x0400, 1}, {0x1.ff8p-15f, 0x03ff, 1}, {0x1p-24f, 0x0001, 1}, {-0x1p-24f, 0x8001, 1},
        {0x1p-25f, 0x0000, 0}, {0x1.000002p-25f, 0x0001, 0}, {0x1.8p-24f, 0x0002, 0},
        {0x1.4p-23f, 0x0002, 0}, {1.0f + 0x1p-11f, 0x3c00, 0}, {1.0f + 0x3p-11f, 0x3c02, 0},
        {1.0f + 0x1p-11f + 0x1p-23f, 0x3c01, 0}, {1e-45f, 0x0000, 0},
    };
    for (size_t i = 0; i < sizeof f16c / sizeof f16c[0]; i++) {
        g4_f16 h = g4_f32_to_f16(f16c[i].f);
        CHECKF(h == f16c[i].h, "f32->f16(%a) = %04x, want %04x", (double)f16c[i].f, h, f16c[i].h);
        if (f16c[i].exact)
            CHECKF(fbits(g4_f16_to_f32(f16c[i].h)) == fbits(f16c[i].f), "f16->f32(%04x)", f16c[i].h);
    }
    CHECK(fbits(g4_f16_to_f32(0x8000)) == 0x80000000u);
    CHECK(isinf(g4_f16_to_f32(0x7c00)) && g4_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(g4_f16_to_f32(0x7e00)) && isnan(g4_f16_to_f32(0x7c01)));
    g4_f16 hn = g4_f32_to_f16(NAN), hsn = g4_f32_to_f16(bitsf(0xff800001u)); /* signalling */
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff) != 0);
    CHECK((hsn & 0xfc00) == 0xfc00 && (hsn & 0x3ff) != 0); /* still NaN, sign kept */
    static const struct { float f; uint16_t h; } bf[] = {
        {1.0f, 0x3f80}, {-0.0f, 0x8000}, {1.0f + 0x1p-8f, 0x3f80}, {1.0f + 0x3p-8f, 0x3f82},
        {1.0f + 0x1p-8f + 0x1p-23f, 0x3f81}, {INFINITY, 0x7f80}, {-INFINITY, 0xff80},
        {0x1.fffffep127f, 0x7f80}, {0x1p-130f, 0x0008},
    };
    for (size_t i = 0; i < sizeof bf / sizeof bf[0]; i++)
        CHECKF(g4_f32_to_bf16(bf[i].f) == bf[i].h, "f32->bf16(%a)", (double)bf[i].f);
    CHECK(isnan(g4_bf16_to_f32(g4_f32_to_bf16(NAN))));
    CHECK(isnan(g4_bf16_to_f32(g4_f32_to_bf16(bitsf(0x7f800001u))))); /* low payload only */
    CHECK(g4_bf16_to_f32(0x3f80) == 1.0f && fbits(g4_bf16_to_f32(0x8000)) == 0x80000000u);
}

/* ---- per-type fixtures -------------------------------------------------------------- */

typedef struct {
    const g4_type_info *ti;
    uint8_t *q;     /* gguf-py's bytes */
    float *deq;     /* gguf-py's dequantization */
    float *src;     /* input rows (quantizable types), else NULL */
    int64_t n;      /* elements */
    size_t nq;      /* bytes */
} fixture;

static int load_fixture(const tinfo *t, fixture *fx) {
    char nm[64];
    size_t nq, nd, ns = 0;
    memset(fx, 0, sizeof *fx);
    fx->ti = g4_type_get(t->id);
    snprintf(nm, sizeof nm, "%s_q.bin", t->name);
    fx->q = slurp(nm, &nq);
    snprintf(nm, sizeof nm, "%s_deq.f32", t->name);
    fx->deq = slurp(nm, &nd);
    if (t->quantizable) {
        snprintf(nm, sizeof nm, "%s_src.f32", t->name);
        fx->src = slurp(nm, &ns);
    }
    fx->n = (int64_t)(nd / 4);
    fx->nq = nq;
    int ok = fx->ti && fx->q && fx->deq && (!t->quantizable || (fx->src && ns == nd)) &&
             fx->n % fx->ti->blck == 0 && nq == (size_t)(fx->n / fx->ti->blck) * fx->ti->size;
    CHECKF(ok, "fixture for %s missing or inconsistent", t->name);
    return ok;
}

static void free_fixture(fixture *fx) {
    free(fx->q);
    free(fx->deq);
    free(fx->src);
}

static void test_from_f32(const tinfo *t, const fixture *fx) {
    if (!t->quantizable) {
        CHECKF(fx->ti->from_f32 == NULL, "%s from_f32", t->name);
        return;
    }
    uint8_t *out = malloc(fx->nq);
    CHECK(out != NULL);
    if (!out) return;
    memset(out, 0xa5, fx->nq);
    fx->ti->from_f32(fx->src, out, fx->n);
    size_t bad = 0, first = 0;
    for (size_t b = 0; b < fx->nq / fx->ti->size; b++)
        if (memcmp(out + b * fx->ti->size, fx->q + b * fx->ti->size, fx->ti->size) != 0 && bad++ == 0) first = b;
    CHECKF(bad == 0, "%s from_f32: %zu blocks differ from gguf-py, first #%zu", t->name, bad, first);
    free(out);
}

static void test_to_f32(const tinfo *t, const fixture *fx) {
    float *out = malloc((size_t)fx->n * 4);
    uint8_t *mis = malloc(fx->nq + 1);
    CHECK(out && mis);
    if (out && mis) {
        fx->ti->to_f32(fx->q, out, fx->n);
        int64_t bad = 0, first = 0;
        for (int64_t i = 0; i < fx->n; i++)
            if (!same_float(out[i], fx->deq[i]) && bad++ == 0) first = i;
        CHECKF(bad == 0, "%s to_f32: %lld of %lld differ from gguf-py, first [%lld] %a vs %a", t->name,
               (long long)bad, (long long)fx->n, (long long)first, (double)out[first], (double)fx->deq[first]);
        /* same bits from a row at an odd address */
        memcpy(mis + 1, fx->q, fx->nq);
        memset(out, 0, (size_t)fx->n * 4);
        fx->ti->to_f32(mis + 1, out, fx->n);
        bad = 0;
        for (int64_t i = 0; i < fx->n; i++) bad += !same_float(out[i], fx->deq[i]);
        CHECKF(bad == 0, "%s to_f32 misaligned: %lld differ", t->name, (long long)bad);
    }
    free(out);
    free(mis);
}

/* ---- dot kernels -------------------------------------------------------------------- */

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Rows of `units` (a block, or one element for the plain types) picked from the fixture's
 * all-finite units; reference = double dot of gguf-py's dequantized values. */
static void test_dot(const tinfo *t, const fixture *fx) {
    const g4_type_info *ti = fx->ti;
    int64_t blck = ti->blck, nunits = fx->n / blck;
    int64_t *good = malloc((size_t)nunits * sizeof *good), ngood = 0;
    CHECK(good != NULL);
    if (!good) return;
    for (int64_t u = 0; u < nunits; u++) {
        int fin = 1;
        for (int64_t i = 0; i < blck; i++) fin &= isfinite(fx->deq[u * blck + i]) != 0;
        if (fin) good[ngood++] = u;
    }
    CHECKF(ngood > nunits / 2, "%s: only %lld finite units", t->name, (long long)ngood);

    static const int64_t qsizes[] = {1, 3, 7, 129};
    static const int64_t fsizes[] = {1, 3, 7, 8, 31, 129, 256, 1000, 4099};
    const int64_t *sizes = blck > 1 ? qsizes : fsizes;
    int nsizes = blck > 1 ? 4 : 9;
    struct {
        const char *name;
        g4_dot_fn fn;
    } var[2] = {{"ref", g4_type_dot_ref(t->id)}, {g4_quant_isa(), g4_type_dot(t->id)}};
    int nvar = var[0].fn == var[1].fn ? 1 : 2;

    for (int si = 0; si < nsizes; si++) {
        int64_t nu = sizes[si], n = nu * blck;
        uint8_t *row = malloc((size_t)nu * ti->size + 64), *mis = malloc((size_t)nu * ti->size + 64);
        float *w = malloc((size_t)n * 4), *xbuf = malloc((size_t)(n + 16) * 4);
        CHECK(row && mis && w && xbuf);
        if (row && mis && w && xbuf) {
            uint32_t seed = (uint32_t)(1234 + 77 * si + t->id);
            for (int64_t k = 0; k < nu; k++) {
                int64_t u = good[(k * 7 + si) % ngood];
                memcpy(row + k * ti->size, fx->q + u * ti->size, ti->size);
                memcpy(w + k * blck, fx->deq + u * blck, (size_t)blck * 4);
            }
            memcpy(mis + 3, row, (size_t)nu * ti->size);
            float *x = xbuf + 1; /* 4-byte aligned, not 32 */
            for (int64_t i = 0; i < n; i++) x[i] = (float)lcg(&seed) / (float)(1u << 23) * 2.0f - 1.0f;
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
                ref += (double)w[i] * (double)x[i];
                mag += fabs((double)w[i] * (double)x[i]);
            }
            for (int v = 0; v < nvar; v++) {
                float r = var[v].fn(row, x, n);
                double err = fabs((double)r - ref);
                CHECKF(err <= 1e-5 * mag + 1e-30, "%s dot %s n=%lld: got %.9g want %.9g (err %.3g, bound %.3g)",
                       t->name, var[v].name, (long long)n, (double)r, ref, err, 1e-5 * mag);
                float r2 = var[v].fn(mis + 3, x, n), r3 = var[v].fn(row, x, n);
                CHECKF(fbits(r2) == fbits(r) && fbits(r3) == fbits(r), "%s dot %s n=%lld not reproducible",
                       t->name, var[v].name, (long long)n);
            }
            /* the table entry dispatches to the selected kernel */
            CHECK(fbits(ti->dot_f32(row, x, n)) == fbits(var[1].fn(row, x, n)));
        }
        free(row);
        free(mis);
        free(w);
        free(xbuf);
    }
    float dummy = 1.0f;
    for (int v = 0; v < nvar; v++) CHECK(var[v].fn(fx->q, &dummy, 0) == 0.0f);
    free(good);
}

/* Quantizers on inputs ggml leaves undefined (inf, NaN, overflowing scales) must still be
 * defined here: no UB (the sanitizer build checks float->int casts), in-range codes. */
static void test_quant_hostile(void) {
    static const float vals[] = {INFINITY, -INFINITY, NAN, 3.4e38f, -3.4e38f, 1e-45f, 1e-38f, 0.0f, -0.0f, 1.0f};
    const int nv = (int)(sizeof vals / sizeof vals[0]);
    for (int ti = 0; ti < 2; ti++) {
        int type = ti ? G4_TYPE_Q4_0 : G4_TYPE_Q8_0;
        const g4_type_info *t = g4_type_get(type);
        float x[32];
        uint8_t out[34], out2[34];
        for (int a = 0; a < nv; a++)
            for (int b = 0; b < nv; b++) {
                for (int i = 0; i < 32; i++) x[i] = (i % 3 == 0) ? vals[a] : (i % 3 == 1) ? vals[b] : 0.5f * (float)i;
                t->from_f32(x, out, 32);
                t->from_f32(x, out2, 32);
                CHECK(memcmp(out, out2, t->size) == 0);
            }
        /* a block whose scale fits f16 dequantizes finite; q8_0 codes stay in -127..127 */
        for (int i = 0; i < 32; i++) x[i] = (i & 1 ? -1.0f : 1.0f) * 60000.0f / (float)(i + 1);
        t->from_f32(x, out, 32);
        float y[32];
        t->to_f32(out, y, 32);
        int ok = 1;
        for (int i = 0; i < 32; i++) ok &= isfinite(y[i]) && (ti || out[2 + i] != 0x80);
        CHECK(ok);
    }
}

int main(void) {
    printf("quant kernels: %s\n", g4_quant_isa());
    if (strcmp(g4_quant_isa(), "scalar") == 0) check_skip("no SIMD kernels on this CPU: only the scalar dot is tested");
    test_table();
    test_conversions();
    test_quant_hostile();
    for (int i = 0; i < NTYPES; i++) {
        fixture fx;
        if (load_fixture(&TYPES[i], &fx)) {
            test_from_f32(&TYPES[i], &fx);
            test_to_f32(&TYPES[i], &fx);
            test_dot(&TYPES[i], &fx);
        }
        free_fixture(&fx);
    }
    return check_done("test_quant");
}
