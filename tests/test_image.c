/* test_image.c -- src/media/image*.c against transformers' Gemma4UnifiedImageProcessor + torchcodec
 * (tools/make_image_fixtures.py -> tests/data/media/image/expected.json).
 *
 * decode:  dims and CRC-32 of the decoded RGB equal the reference's (torchcodec; PIL for BMP), files the
 *          reference rejects are rejected, headers declaring huge images are refused (G4_EINVAL).
 * target:  get_aspect_ratio_preserving_size over a table of sizes and budgets.
 * process: per (image, budget): target size, the resized image (CRC, per-48px-block sums, and two corners
 *          pixel by pixel: how many values differ by 1 or more), patch count, positions, sampled
 *          pixel_values entries (exact floats) and per-token sums, the CHW layout against the HWC one.
 * Real photos from Debian packages are skipped (visibly) when absent; tools/fetch-media.sh installs them.
 * Also: argument errors, an allocation-failure sweep, and replay of fuzz regressions.
 */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../src/media/image.h"
#include "check.h"

#define DIR_ "tests/data/media/image/"

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    static uint32_t tab[256];
    if (!tab[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            tab[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = tab[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static int jint(const cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valueint; }
static double jnum(const cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valuedouble; }
static const char *jstr(const cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valuestring; }
static int jtrue(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItem(o, k)); }

/* a system photo that is not installed: say so and skip */
static int missing(const cJSON *e) {
    const char *f = jstr(e, "file");
    if (!jtrue(e, "system") || access(f, R_OK) == 0) return 0;
    char why[512];
    snprintf(why, sizeof why, "%s not installed (tools/fetch-media.sh installs python3-skimage, opencv-doc)", f);
    check_skip(why);
    return 1;
}

static void test_decode(const cJSON *list) {
    const cJSON *e;
    int n_ok = 0;
    cJSON_ArrayForEach(e, list) {
        if (missing(e)) continue;
        const char *f = jstr(e, "file");
        char err[G4_ERR_LEN] = "";
        g4_image im;
        g4_status st = g4_image_load(&im, f, err);
        if (jtrue(e, "refuse")) {
            CHECKF(st == G4_EINVAL && strstr(err, "too large"), "%s: want refusal, got %d: %s", f, st, err);
            CHECK(im.rgb == NULL);
        } else if (!jtrue(e, "ok")) {
            CHECKF(st != G4_OK && err[0] && strstr(err, f), "%s: the reference fails, we gave %d (%s)", f, st, err);
            CHECK(im.rgb == NULL && im.w == 0);
        } else {
            CHECKF(st == G4_OK, "%s: %s", f, err);
            if (st) continue;
            uint32_t c = crc32_of(im.rgb, (size_t)im.w * im.h * 3);
            CHECKF(im.w == jint(e, "w") && im.h == jint(e, "h") && c == (uint32_t)jnum(e, "crc"),
                   "%s: got %dx%d crc %08x, want %dx%d crc %08x", f, im.w, im.h, c, jint(e, "w"), jint(e, "h"),
                   (uint32_t)jnum(e, "crc"));
            n_ok++;
            g4_image_free(&im);
        }
    }
    printf("decode: %d images identical to the reference\n", n_ok);
    /* the same through g4_image_decode, from memory */
    size_t n;
    char *b = check_slurp(DIR_ "exif6.jpg", &n);
    CHECK(b != NULL);
    if (b) {
        g4_image im;
        char err[G4_ERR_LEN];
        CHECK(g4_image_decode(&im, (const uint8_t *)b, n, "mem", err) == G4_OK && im.w == 24 && im.h == 40);
        g4_image_free(&im);
        CHECK(g4_image_decode(&im, (const uint8_t *)b, 100, "mem", err) == G4_EFORMAT && strstr(err, "mem:"));
        CHECK(g4_image_decode(&im, NULL, 0, "mem", err) == G4_EFORMAT);
        free(b);
    }
    g4_image im;
    char err[G4_ERR_LEN];
    CHECK(g4_image_load(&im, DIR_ "no-such-file.png", err) == G4_EIO && strstr(err, "no-such-file"));
    CHECK(g4_image_load(&im, DIR_, err) != G4_OK);
}

static void test_target(const cJSON *list) {
    const cJSON *e;
    int bad = 0, n = 0;
    cJSON_ArrayForEach(e, list) {
        int w = cJSON_GetArrayItem(e, 0)->valueint, h = cJSON_GetArrayItem(e, 1)->valueint;
        int b = cJSON_GetArrayItem(e, 2)->valueint, tw = 0, th = 0;
        char err[G4_ERR_LEN];
        g4_status st = g4_image_target_size(w, h, b, &tw, &th, err);
        n++;
        if (st || tw != cJSON_GetArrayItem(e, 3)->valueint || th != cJSON_GetArrayItem(e, 4)->valueint) {
            if (bad++ < 5)
                fprintf(stderr, "target %dx%d@%d: got %dx%d (%d), want %dx%d\n", w, h, b, tw, th, st,
                        cJSON_GetArrayItem(e, 3)->valueint, cJSON_GetArrayItem(e, 4)->valueint);
        }
    }
    CHECKF(bad == 0 && n > 100, "%d of %d target sizes differ", bad, n);
    int tw, th;
    char err[G4_ERR_LEN];
    CHECK(g4_image_target_size(100, 100, 100, &tw, &th, err) == G4_EINVAL && strstr(err, "max_soft_tokens"));
    CHECK(g4_image_target_size(0, 100, 280, &tw, &th, err) == G4_EINVAL);
    CHECK(g4_image_target_size(100, -1, 280, &tw, &th, err) == G4_EINVAL);
}

static long tot_vals, tot_diff1, tot_diffmore;

static void test_process_case(const cJSON *e) {
    const char *f = jstr(e, "file");
    int budget = jint(e, "budget"), W = jint(e, "tw"), H = jint(e, "th"), n = jint(e, "n");
    char err[G4_ERR_LEN] = "", tag[300];
    snprintf(tag, sizeof tag, "%s@%d", f, budget);
    g4_image im, rs, corners;
    if (g4_image_load(&im, f, err)) {
        CHECKF(0, "%s: %s", tag, err);
        return;
    }
    CHECKF(im.w == jint(e, "w") && im.h == jint(e, "h"), "%s: decoded %dx%d", tag, im.w, im.h);
    int tw = 0, th = 0;
    CHECK(g4_image_target_size(im.w, im.h, budget, &tw, &th, err) == G4_OK);
    CHECKF(tw == W && th == H, "%s: target %dx%d, want %dx%d", tag, tw, th, W, H);
    if (tw != W || th != H || g4_image_resize(&im, tw, th, &rs, err)) {
        CHECKF(0, "%s: %s", tag, err);
        g4_image_free(&im);
        return;
    }
    /* the resized image: whole-image CRC, block sums, corners value by value */
    uint32_t c = crc32_of(rs.rgb, (size_t)W * H * 3);
    CHECKF(c == (uint32_t)jnum(e, "resized_crc"), "%s: resized crc %08x, want %08x", tag, c,
           (uint32_t)jnum(e, "resized_crc"));
    const cJSON *bs = cJSON_GetObjectItem(e, "block_sums");
    int gw = W / G4_PATCH_PX, bad_blocks = 0;
    for (int i = 0; i < n; i++) {
        long s = 0;
        int gx = i % gw, gy = i / gw;
        for (int y = 0; y < G4_PATCH_PX; y++)
            for (int x = 0; x < G4_PATCH_PX * 3; x++)
                s += rs.rgb[((size_t)(gy * G4_PATCH_PX + y) * W + gx * G4_PATCH_PX) * 3 + x];
        if (s != (long)cJSON_GetArrayItem(bs, i)->valuedouble) bad_blocks++;
    }
    CHECKF(bad_blocks == 0, "%s: %d of %d 48-px blocks differ", tag, bad_blocks, n);
    if (g4_image_load(&corners, jstr(e, "corners"), err) == G4_OK) {
        int cw = jint(e, "corner_w"), ch = jint(e, "corner_h"), d1 = 0, dm = 0;
        CHECK(corners.w == 2 * cw && corners.h == ch);
        for (int y = 0; y < ch && corners.w == 2 * cw; y++)
            for (int x = 0; x < 2 * cw; x++)
                for (int k = 0; k < 3; k++) {
                    int sy = x < cw ? y : H - ch + y, sx = x < cw ? x : W - cw + (x - cw);
                    int d = abs((int)rs.rgb[((size_t)sy * W + sx) * 3 + k] - corners.rgb[((size_t)y * corners.w + x) * 3 + k]);
                    d1 += d == 1, dm += d > 1;
                }
        CHECKF(dm == 0, "%s: %d corner values differ by more than 1 (%d by 1)", tag, dm, d1);
        tot_vals += (long)ch * 2 * cw * 3, tot_diff1 += d1, tot_diffmore += dm;
        g4_image_free(&corners);
    } else {
        CHECKF(0, "%s: %s", tag, err);
    }
    /* patches, HWC and CHW */
    float *p = NULL, *q = NULL;
    int *pos = NULL, *pos2 = NULL, np = 0, np2 = 0;
    CHECKF(g4_image_patches(&im, budget, 0, &p, &pos, &np, err) == G4_OK, "%s: %s", tag, err);
    CHECKF(np == n, "%s: %d patches, want %d", tag, np, n);
    if (p && np == n) {
        const cJSON *rp = cJSON_GetObjectItem(e, "pos");
        int bad = 0;
        for (int i = 0; i < 2 * n; i++) bad += pos[i] != cJSON_GetArrayItem(rp, i)->valueint;
        CHECKF(bad == 0, "%s: %d position values differ", tag, bad);
        const cJSON *s;
        bad = 0;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(e, "samples")) {
            int t = cJSON_GetArrayItem(s, 0)->valueint, j = cJSON_GetArrayItem(s, 1)->valueint;
            float want = (float)cJSON_GetArrayItem(s, 2)->valuedouble;
            bad += p[(size_t)t * G4_PATCH_DIM + j] != want;
        }
        CHECKF(bad == 0, "%s: %d sampled pixel_values differ", tag, bad);
        const cJSON *ts = cJSON_GetObjectItem(e, "token_sums");
        bad = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < G4_PATCH_DIM; j++) sum += p[(size_t)i * G4_PATCH_DIM + j];
            bad += fabs(sum - cJSON_GetArrayItem(ts, i)->valuedouble) > 1e-6;
        }
        CHECKF(bad == 0, "%s: %d token sums differ", tag, bad);
        CHECK(g4_image_patches(&im, budget, 1, &q, &pos2, &np2, err) == G4_OK && np2 == n);
        if (q) {
            bad = 0;
            for (int i = 0; i < n; i++)
                for (int y = 0; y < G4_PATCH_PX; y++)
                    for (int x = 0; x < G4_PATCH_PX; x++)
                        for (int k = 0; k < 3; k++)
                            bad += q[(size_t)i * G4_PATCH_DIM + k * 2304 + y * 48 + x] !=
                                   p[(size_t)i * G4_PATCH_DIM + (y * 48 + x) * 3 + k];
            CHECKF(bad == 0 && !memcmp(pos, pos2, sizeof(int) * 2 * n), "%s: CHW layout: %d values differ", tag, bad);
        }
    }
    g4_free(p), g4_free(q), g4_free(pos), g4_free(pos2);
    g4_image_free(&rs);
    g4_image_free(&im);
}

static void test_process(const cJSON *list) {
    const cJSON *e;
    cJSON_ArrayForEach(e, list) if (!missing(e)) test_process_case(e);
    printf("resize: %ld corner values compared, %ld differ by 1, %ld by more\n", tot_vals, tot_diff1, tot_diffmore);
}

static void test_args(void) {
    char err[G4_ERR_LEN];
    uint8_t px[3] = {1, 2, 3};
    g4_image one = {1, 1, px}, out, empty = {0, 0, NULL};
    float *p;
    int *pos, n;
    CHECK(g4_image_resize(&one, 0, 48, &out, err) == G4_EINVAL && out.rgb == NULL);
    CHECK(g4_image_resize(&empty, 48, 48, &out, err) == G4_EINVAL);
    CHECK(g4_image_patches(&one, 77, 0, &p, &pos, &n, err) == G4_EINVAL && p == NULL && pos == NULL && n == 0);
    CHECK(g4_image_patches(&empty, 280, 0, &p, &pos, &n, err) == G4_EINVAL);
    /* a 1x1 image becomes 768x768 of that colour (the reference upsamples it) */
    CHECK(g4_image_patches(&one, 280, 0, &p, &pos, &n, err) == G4_OK && n == 256);
    if (n == 256) {
        CHECK(p[0] == (float)1 * (float)(1.0 / 255) && p[255 * G4_PATCH_DIM + G4_PATCH_DIM - 1] == 3 * (float)(1.0 / 255));
        CHECK(pos[2 * 255] == 15 && pos[2 * 255 + 1] == 15 && pos[2] == 1 && pos[3] == 0);
        g4_free(p), g4_free(pos);
    }
    g4_image_free(NULL);
}

/* every allocation failure is reported as G4_ENOMEM and leaks nothing (ASan checks the leaks) */
static void test_alloc_sweep(void) {
    static const char *files[] = {DIR_ "exif6.jpg", DIR_ "cmyk.jpg", DIR_ "rgb16.png", DIR_ "interlaced.png",
                                  DIR_ "anim.webp", DIR_ "exif8.webp", DIR_ "sub_trans.gif", DIR_ "rgb565.bmp"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        int bad = 0, i;
        for (i = 0; i < 1000; i++) {
            char err[G4_ERR_LEN] = "";
            g4_image im = {0};
            float *p = NULL;
            int *pos = NULL, n = 0;
            g4_alloc_fail_at(i);
            g4_status st = g4_image_load(&im, files[k], err);
            if (!st) st = g4_image_patches(&im, 70, 0, &p, &pos, &n, err);
            long made = g4_alloc_fail_at(-1);
            g4_image_free(&im);
            g4_free(p), g4_free(pos);
            if (st == G4_OK && made <= i) break; /* the failure point was never reached: done */
            if (st == G4_OK) continue;            /* a failure the code tolerates (a shrinking realloc) */
            if (st != G4_ENOMEM || !err[0]) {
                if (bad++ < 3) fprintf(stderr, "%s: failing allocation %d gave %d (%s)\n", files[k], i, st, err);
            }
        }
        CHECKF(bad == 0 && i > 3 && i < 1000, "%s: %d allocation failures misreported (%d tried)", files[k], bad, i);
    }
}

/* inputs the fuzzer once crashed on: they must decode or fail cleanly */
static void test_fuzz_regressions(void) {
    DIR *d = opendir(DIR_ "fuzz");
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[512], err[G4_ERR_LEN];
        snprintf(path, sizeof path, DIR_ "fuzz/%s", de->d_name);
        g4_image im;
        g4_status st = g4_image_load(&im, path, err);
        if (!st && (int64_t)im.w * im.h <= 4000000) {
            float *p;
            int *pos, n;
            if (!g4_image_patches(&im, 70, 0, &p, &pos, &n, err)) g4_free(p), g4_free(pos);
        }
        g4_image_free(&im);
        CHECK(st == G4_OK || err[0]);
    }
    closedir(d);
}

int main(void) {
    size_t n;
    char *js = check_slurp(DIR_ "expected.json", &n);
    CHECKF(js != NULL, "cannot read " DIR_ "expected.json");
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    free(js);
    if (root) {
        test_decode(cJSON_GetObjectItem(root, "decode"));
        test_target(cJSON_GetObjectItem(root, "target"));
        test_process(cJSON_GetObjectItem(root, "process"));
        cJSON_Delete(root);
    }
    test_args();
    test_alloc_sweep();
    test_fuzz_regressions();
    return check_done("test_image");
}
