/* cmd_run.c -- `gemma4 run`: prefill a prompt, then sample and stream tokens until a stop id or -n.
 *
 * Until the tokenizer lands the prompt is given as token ids (--ids) and output is streamed as
 * ids; -p TEXT says so loudly.  --verbose prints load time, prompt/generation tokens/s, peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/ctx.h"
#include "model/model.h"
#include "text/sampler.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: gemma4 run -m MODEL (--ids 2,105,... | -p TEXT) [options]\n"
            "  -m, --model PATH        GGUF file or Hugging Face directory\n"
            "  --ids LIST              prompt as comma-separated token ids\n"
            "  -p, --prompt TEXT       prompt text (needs the tokenizer: not supported yet)\n"
            "  -n, --n-predict N       tokens to generate (default 64)\n"
            "  -t, --threads N         CPU threads (default 2)\n"
            "  -c, --ctx-size N        context length (default 4096 or the model's, if smaller)\n"
            "  --temp X --top-k N --top-p X --min-p X --seed N\n"
            "  --repeat-penalty X --repeat-last-n N --presence-penalty X --frequency-penalty X\n"
            "  --greedy                same as --temp 0\n"
            "  --ignore-eos            don't stop at the model's end-of-turn ids\n"
            "  --verbose               timings and peak RSS on stderr\n");
}

int cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *prompt = NULL, *ids_arg = NULL;
    long n_predict = 64, threads = 2, n_ctx = 0;
    int verbose = 0, ignore_eos = 0;
    g4_sampler_params sp;
    g4_sampler_params_default(&sp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long lv; double dv;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (OPT("-h", "--help")) { run_usage(stdout); return 0; }
        else if (OPT("-m", "--model") && v) { model_path = v; i++; }
        else if (OPT("-p", "--prompt") && v) { prompt = v; i++; }
        else if (!strcmp(a, "--ids") && v) { ids_arg = v; i++; }
        else if (OPT("-n", "--n-predict")) { if (!cli_int(a, v, 0, 1 << 24, &n_predict)) return 2; i++; }
        else if (OPT("-t", "--threads")) { if (!cli_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (OPT("-c", "--ctx-size")) { if (!cli_int(a, v, 1, 1 << 24, &n_ctx)) return 2; i++; }
        else if (!strcmp(a, "--temp")) { if (!cli_float(a, v, 0, 100, &dv)) return 2; sp.temperature = (float)dv; i++; }
        else if (!strcmp(a, "--top-k")) { if (!cli_int(a, v, 0, 1 << 30, &lv)) return 2; sp.top_k = (int)lv; i++; }
        else if (!strcmp(a, "--top-p")) { if (!cli_float(a, v, 0, 1, &dv)) return 2; sp.top_p = (float)dv; i++; }
        else if (!strcmp(a, "--min-p")) { if (!cli_float(a, v, 0, 1, &dv)) return 2; sp.min_p = (float)dv; i++; }
        else if (!strcmp(a, "--seed")) { if (!cli_int(a, v, 0, 0x7fffffffL, &lv)) return 2; sp.seed = (uint64_t)lv; i++; }
        else if (!strcmp(a, "--repeat-penalty")) { if (!cli_float(a, v, 0.01, 100, &dv)) return 2; sp.repeat_penalty = (float)dv; i++; }
        else if (!strcmp(a, "--repeat-last-n")) { if (!cli_int(a, v, 0, 1 << 24, &lv)) return 2; sp.repeat_last_n = (int)lv; i++; }
        else if (!strcmp(a, "--presence-penalty")) { if (!cli_float(a, v, -2, 2, &dv)) return 2; sp.presence_penalty = (float)dv; i++; }
        else if (!strcmp(a, "--frequency-penalty")) { if (!cli_float(a, v, -2, 2, &dv)) return 2; sp.frequency_penalty = (float)dv; i++; }
        else if (!strcmp(a, "--greedy")) sp.temperature = 0;
        else if (!strcmp(a, "--ignore-eos")) ignore_eos = 1;
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else { fprintf(stderr, "error: unknown or incomplete option '%s'\n", a); run_usage(stderr); return 2; }
#undef OPT
    }
    if (!model_path) { fprintf(stderr, "error: no model given (-m PATH)\n"); run_usage(stderr); return 2; }
    if (prompt && !ids_arg) {
        fprintf(stderr, "error: text prompts (-p) need the tokenizer, which is not supported yet; give token ids with --ids\n");
        return 2;
    }
    if (!ids_arg) { fprintf(stderr, "error: no prompt given (--ids)\n"); return 2; }
    int *ids = NULL;
    int n_ids = cli_parse_ids(ids_arg, &ids);
    if (n_ids < 0) return 2;

    char err[G4_ERR_LEN];
    double t0 = cli_now();
    g4_model *m = NULL;
    g4_ctx *ctx = NULL;
    g4_sampler *smp = NULL;
    float *logits = NULL;
    int rc = 1;
    if (g4_model_load(&m, model_path, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    double t_load = cli_now() - t0;
    const g4_config *cf = &m->cfg;
    if (n_ctx == 0) n_ctx = G4_MIN(4096, cf->n_ctx_train);
    if (n_ids + n_predict > n_ctx) {
        fprintf(stderr, "error: prompt (%d) + -n (%ld) exceeds the context size %ld (use -c)\n", n_ids, n_predict, n_ctx);
        goto out;
    }
    g4_ctx_params cp = {.n_ctx = (int)n_ctx, .n_batch = 512, .n_threads = (int)threads};
    if (g4_ctx_new(&ctx, m, &cp, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    smp = g4_sampler_new(&sp, cf->n_vocab);
    logits = malloc(sizeof(float) * (size_t)cf->n_vocab);
    if (!smp || !logits) { fprintf(stderr, "error: out of memory\n"); goto out; }
    g4_sampler_set_suppress(smp, cf->suppress_ids, cf->n_suppress);
    for (int i = 0; i < n_ids; i++) g4_sampler_accept(smp, ids[i]);

    double t1 = cli_now();
    if (g4_ctx_eval(ctx, ids, n_ids, logits, 0, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    double t_prompt = cli_now() - t1;
    double t2 = cli_now();
    int n_gen = 0;
    for (; n_gen < n_predict; n_gen++) {
        int tok = g4_sampler_sample(smp, logits);
        if (tok < 0) {
            fprintf(stderr, "%serror: no token can be sampled: every logit is NaN or -inf (broken weights?)\n",
                    n_gen ? "\n" : "");
            goto out;
        }
        g4_sampler_accept(smp, tok);
        printf("%d ", tok);
        fflush(stdout);
        int stop = 0;
        for (int e = 0; e < cf->n_eos && !ignore_eos; e++) stop |= tok == cf->eos_ids[e];
        if (stop) { n_gen++; break; }
        if (n_gen + 1 < n_predict && g4_ctx_eval(ctx, &tok, 1, logits, 0, err)) {
            fprintf(stderr, "\nerror: %s\n", err);
            goto out;
        }
    }
    printf("\n");
    fflush(stdout);
    double t_gen = cli_now() - t2;
    if (verbose)
        fprintf(stderr, "load %.2f s | prompt %d tok, %.2f tok/s | generation %d tok, %.2f tok/s | peak RSS %.1f MiB\n",
                t_load, n_ids, n_ids / t_prompt, n_gen, n_gen > 1 ? (n_gen - 1) / t_gen : 0.0, cli_peak_rss_mb());
    rc = 0;
out:
    free(logits);
    free(ids);
    g4_sampler_free(smp);
    g4_ctx_free(ctx);
    g4_model_free(m);
    return rc;
}
