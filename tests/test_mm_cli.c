/* test_mm_cli.c -- `gemma4 run` with --image/--audio/--video against the whole reference pipeline.
 *
 * tests/data/mm/tiny-mm/e2e.json (tools/make_mm_fixtures.py): for each case, transformers' chat
 * template + tokenizer + Gemma4UnifiedProcessor (torchcodec decoding, resize, placeholder expansion)
 * turned a user turn of files and text into prompt ids, and the model's generate() gave the logits
 * after the prompt.  Here the CLI does the same from the same files: its prompt ids (--verbose-prompt)
 * must be identical and its logits (--logits-out) within 1e-4 x max|logit|.  Media go where the -p
 * text has <image>/<audio>/<video> markers, which reproduces the case's part order.
 */
#include <cjson/cJSON.h>
#include <unistd.h>

#include "check.h"

#define DIR "tests/data/mm/tiny-mm"

/* video_audio: give "video X, audio X" as --video X --video-audio (the same blocks). */
static int run_case(const char *bin, const cJSON *c, int video_audio) {
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    char cmd[8192], prompt[2048] = "", media[4096] = "", last_video[512] = "";
    const cJSON *part;
    cJSON_ArrayForEach(part, cJSON_GetObjectItem(c, "parts")) {
        const char *kind = cJSON_GetArrayItem(part, 0)->valuestring, *v = cJSON_GetArrayItem(part, 1)->valuestring;
        if (strcmp(kind, "text") && access(v, R_OK) != 0) { /* media from a Debian package that is not installed */
            char why[700];
            snprintf(why, sizeof why, "%s: %s is absent (tools/fetch-media.sh installs it)", name, v);
            check_skip(why);
            return 0;
        }
        if (!strcmp(kind, "video")) snprintf(last_video, sizeof last_video, "%s", v);
        if (video_audio && !strcmp(kind, "audio") && !strcmp(v, last_video)) {
            strncat(media, " --video-audio", sizeof media - strlen(media) - 1);
        } else if (!strcmp(kind, "text")) {
            strncat(prompt, v, sizeof prompt - strlen(prompt) - 1);
        } else {
            char m[600];
            snprintf(m, sizeof m, " --%s %s", kind, v);
            strncat(media, m, sizeof media - strlen(media) - 1);
            snprintf(m, sizeof m, "<%s>", kind);
            strncat(prompt, m, sizeof prompt - strlen(prompt) - 1);
        }
    }
    const int budget = cJSON_GetObjectItem(c, "image_tokens")->valueint;
    snprintf(cmd, sizeof cmd, "%s run -m %s%s --image-tokens %d -p '%s' --greedy -n 1 -c 4096 --verbose-prompt "
             "--logits-out build/test_mm_cli.f32 >/dev/null 2>build/test_mm_cli.err", bin, DIR, media, budget, prompt);
    int rc = system(cmd);
    CHECKF(rc == 0, "%s: %s -> exit %d", name, cmd, rc);
    if (rc) {
        char *e = check_slurp("build/test_mm_cli.err", NULL);
        fprintf(stderr, "%s\n", e ? e : "");
        free(e);
        return 0;
    }
    /* prompt ids */
    char *err = check_slurp("build/test_mm_cli.err", NULL);
    const char *p = err ? strstr(err, "prompt ids (") : NULL;
    const cJSON *want = cJSON_GetObjectItem(c, "prompt_ids");
    int n_want = cJSON_GetArraySize(want), n = -1, same = 0;
    if (p && sscanf(p, "prompt ids (%d):", &n) == 1 && n == n_want) {
        p = strchr(p, ':') + 1;
        same = 1;
        for (int i = 0; i < n && same; i++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v != cJSON_GetArrayItem(want, i)->valueint) same = 0;
            p = end + (*end == ',');
        }
    }
    CHECKF(same, "%s: prompt ids differ (%d ids, want %d)", name, n, n_want);
    free(err);
    /* logits after the prompt */
    char ref_path[256];
    snprintf(ref_path, sizeof ref_path, "%s/e2e-%s.f32", DIR, name);
    size_t la = 0, lb = 0;
    float *got = (float *)check_slurp("build/test_mm_cli.f32", &la), *ref = (float *)check_slurp(ref_path, &lb);
    CHECKF(got && ref && la == lb && la > 0, "%s: logits files (%zu vs %zu bytes)", name, la, lb);
    if (got && ref && la == lb && la > 0) {
        double mx = 0, mr = 0;
        for (size_t i = 0; i < la / 4; i++) {
            mx = fmax(mx, fabs((double)got[i] - ref[i]));
            mr = fmax(mr, fabs((double)ref[i]));
        }
        printf("%-15s%s %4d prompt ids %s, logits rel err %.2e\n", name, video_audio ? " (--video-audio)" : "", n_want,
               same ? "identical" : "DIFFERENT", mx / mr);
        CHECKF(mx <= 1e-4 * mr, "%s: logits rel err %.3g", name, mx / mr);
    }
    free(got);
    free(ref);
    return 1;
}

int main(void) {
    const char *bin = getenv("G4_BIN");
    if (!bin) {
        check_skip("G4_BIN not set (run through ctest)");
        return check_done("test_mm_cli");
    }
    char *js = check_slurp(DIR "/e2e.json", NULL);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    CHECKF(j != NULL, "cannot read %s/e2e.json", DIR);
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
        run_case(bin, c, 0);
        if (!strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "clip-sound")) run_case(bin, c, 1);
    }
    cJSON_Delete(j);
    return check_done("test_mm_cli");
}
