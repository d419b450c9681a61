/* cmd_run.c -- `gemma4 run`: prefill a prompt, then sample and stream tokens until a stop id, a stop
 * string or -n.
 *
 * A text prompt (-p, or stdin when piped) is wrapped in the model's chat format unless --raw, and the
 * answer streams as text: Gemma 4's thought channel is shown dimmed on a terminal (and dropped when
 * piped) and tool calls are printed as JSON.  --ids gives the prompt as token ids and streams ids.
 * --verbose prints load time, prompt/generation tokens/s, peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "media.h"
#include "prompt.h"
#include "textout.h"
#include "text/chat.h"
#include <unistd.h>
#include <cjson/cJSON.h>

#include "model/ctx.h"
#include "model/model.h"
#include "text/sampler.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: gemma4 run [-m MODEL] (-p TEXT | --ids 2,105,... | < prompt.txt) [options]\n"
            "  -m, --model PATH        GGUF file or Hugging Face directory (default: $GEMMA4_MODEL, else the bundled\n"
            "                          demo model models/gemma4-demo.gguf)\n"
            CLI_MEDIA_USAGE
            "  -p, --prompt TEXT       prompt text, in the model's chat format (read from stdin when piped)\n"
            "  --raw                   no chat format: <bos> + the text as given\n"
            "  --system TEXT           system prompt\n"
            "  --tools FILE            tool declarations: a JSON array of OpenAI tools ({\"type\":\"function\",\n"
            "                          \"function\":{name,description,parameters}}); calls print as [tool call]\n"
            "  --think                 Gemma 4 thinking mode (the thought is shown dimmed)\n"
            "  --stop TEXT             stop when the output contains TEXT (repeatable, up to 8)\n"
            "  --ids LIST              prompt as comma-separated token ids (output as ids)\n"
            "  -n, --n-predict N       tokens to generate (default 64)\n"
            "  -t, --threads N         CPU threads (default 2)\n"
            "  --kv-type f32|f16       K/V cache element type (default f32; f16 halves its memory)\n"
            "  --q8-act                8-bit activations in q8_0/q4_0/q4_K/q6_K matmuls (as llama.cpp; not exact)\n"
            "  -c, --ctx-size N        context length (default 4096 or the model's, if smaller)\n"
            CLI_SAMPLER_USAGE
            "  --ignore-eos            don't stop at the model's end-of-turn ids\n"
            "  --verbose               timings and peak RSS on stderr\n"
            "  --verbose-prompt        print the prompt's token ids on stderr\n"
            "  --logits-out FILE       write the logits after the prompt (f32) to FILE (for reference checks)\n");
}

int cmd_run(int argc, char **argv) {
    const char *model_path = NULL, *prompt = NULL, *ids_arg = NULL, *mmproj = NULL, *tools_path = NULL;
    cJSON *tools = NULL;
    cli_media md = {0};
    g4_mm_item *items = NULL;
    int n_items = 0, max_block = 0;
    long n_predict = 64, threads = 2, n_ctx = 0;
    int kv_f16 = 0, q8_act = 0;
    int verbose = 0, ignore_eos = 0, verbose_prompt = 0;
    const char *logits_out = NULL;
    cli_prompt_opts po = {0};
    const char *stops[8];
    int n_stops = 0;
    g4_sampler_params sp;
    g4_sampler_params_default(&sp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int so;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (OPT("-h", "--help")) { run_usage(stdout); return 0; }
        else if (OPT("-m", "--model") && v) { model_path = v; i++; }
        else if (OPT("-p", "--prompt") && v) { prompt = v; i++; }
        else if (!strcmp(a, "--ids") && v) { ids_arg = v; i++; }
        else if (!strcmp(a, "--system") && v) { po.system = v; i++; }
        else if (!strcmp(a, "--tools") && v) { tools_path = v; i++; }
        else if (!strcmp(a, "--raw")) po.raw = 1;
        else if (!strcmp(a, "--think")) po.think = 1;
        else if (!strcmp(a, "--stop") && v) {
            if (n_stops == 8 || !*v) { fprintf(stderr, "error: --stop: at most 8 non-empty strings\n"); return 2; }
            stops[n_stops++] = v;
            i++;
        }
        else if (OPT("-n", "--n-predict")) { if (!cli_int(a, v, 0, 1 << 24, &n_predict)) return 2; i++; }
        else if (OPT("-t", "--threads")) { if (!cli_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (!strcmp(a, "--kv-type")) { if (!cli_kv_type(v, &kv_f16)) return 2; i++; }
        else if (!strcmp(a, "--q8-act")) q8_act = 1;
        else if (OPT("-c", "--ctx-size")) { if (!cli_int(a, v, 1, 1 << 24, &n_ctx)) return 2; i++; }
        else if ((so = cli_sampler_opt(argc, argv, &i, &sp)) != 0) { if (so < 0) return 2; }
        else if ((so = cli_media_opt(argc, argv, &i, &md)) != 0) { if (so < 0) return 2; }
        else if (!strcmp(a, "--mmproj") && v) { mmproj = v; i++; }
        else if (!strcmp(a, "--ignore-eos")) ignore_eos = 1;
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else if (!strcmp(a, "--verbose-prompt")) verbose_prompt = 1;
        else if (!strcmp(a, "--logits-out") && v) { logits_out = v; i++; }
        else { fprintf(stderr, "error: unknown or incomplete option '%s'\n", a); run_usage(stderr); return 2; }
#undef OPT
    }
    char default_model[4096];
    if (!model_path && !(model_path = cli_default_model(default_model, sizeof default_model))) {
        fprintf(stderr, CLI_NO_MODEL);
        run_usage(stderr);
        return 2;
    }
    if (prompt && ids_arg) { fprintf(stderr, "error: give either -p TEXT or --ids, not both\n"); return 2; }
    if (md.n && ids_arg) { fprintf(stderr, "error: --image/--audio/--video need a text prompt (-p), not --ids\n"); return 2; }
    if (md.n && !prompt && isatty(0)) prompt = ""; /* media alone: an empty user text */
    char *stdin_text = NULL;
    if (!prompt && !ids_arg) {
        if (isatty(0)) { fprintf(stderr, "error: no prompt given (-p TEXT, --ids, or text on stdin)\n"); return 2; }
        stdin_text = cli_read_all(stdin, 16 << 20);
        if (!stdin_text) { fprintf(stderr, "error: no prompt given (-p TEXT, --ids) and none could be read from stdin (empty, unreadable or over 16 MiB)\n"); return 2; }
        prompt = stdin_text;
    }
    if (tools_path) {
        if (ids_arg) { fprintf(stderr, "error: --tools needs a text prompt (-p), not --ids\n"); free(stdin_text); return 2; }
        if (!(tools = cli_read_tools(tools_path))) { free(stdin_text); return 2; }
        po.tools = tools;
    }
    int *ids = NULL;
    int n_ids = 0;
    if (ids_arg && (n_ids = cli_parse_ids(ids_arg, &ids)) < 0) return 2;
    char err[G4_ERR_LEN];
    double t0 = cli_now();
    g4_model *m = NULL;
    g4_ctx *ctx = NULL;
    g4_sampler *smp = NULL;
    g4_tokenizer *tok = NULL;
    text_out to = {0};
    float *logits = NULL;
    int rc = 1;
    if (g4_model_load_mm(&m, model_path, mmproj, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    if (q8_act && g4_model_pack_q8(m, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    const g4_config *cf = &m->cfg;
    for (int i = 0; i < md.n; i++) {
        const int want_vision = md.in[i].kind != G4_MM_AUDIO, want_audio = md.in[i].kind == G4_MM_AUDIO || md.video_audio;
        if ((want_vision && !m->w.has_vision) || (want_audio && md.in[i].kind != G4_MM_VIDEO && !m->w.has_audio) ||
            (md.in[i].kind == G4_MM_VIDEO && md.video_audio && !m->w.has_audio)) {
            fprintf(stderr, "error: %s: the model has no %s embedder%s\n", md.in[i].path, want_vision && !m->w.has_vision ? "vision" : "audio",
                    m->gguf && !mmproj ? " (a llama.cpp GGUF keeps it in a separate mmproj file: --mmproj FILE)" : "");
            goto out;
        }
    }
    if (md.n) {
        double tm = cli_now();
        if (cli_media_load(&md, g4_config_image_tokens(cf), &items, &n_items, &max_block, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
        if (verbose) fprintf(stderr, "media: %d input(s) decoded and patched in %.2f s\n", n_items, cli_now() - tm);
        po.items = items;
        po.n_items = n_items;
    }
    if (cli_load_tokenizer(m, &tok, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    double t_load = cli_now() - t0;
    if (prompt) {
        if (!tok) { fprintf(stderr, "error: %s has no tokenizer: give the prompt as --ids\n", model_path); goto out; }
        if (cli_encode_prompt(m, tok, prompt, &po, &ids, &n_ids, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
        if (text_out_init(&to, tok, cf->arch == G4_ARCH_GEMMA4 && !po.raw, stops, n_stops, err)) {
            fprintf(stderr, "error: %s\n", err);
            goto out;
        }
    }
    if (n_ctx == 0) n_ctx = G4_MIN(4096, cf->n_ctx_train);
    if (n_ids + n_predict > n_ctx) {
        fprintf(stderr, "error: prompt (%d) + -n (%ld) exceeds the context size %ld (use -c)\n", n_ids, n_predict, n_ctx);
        goto out;
    }
    /* an image or video frame must fit one batch: its soft tokens attend to each other */
    g4_ctx_params cp = {.n_ctx = (int)n_ctx, .n_batch = G4_MIN((int)n_ctx, G4_MAX(512, max_block)), .n_threads = (int)threads,
                        .kv_f16 = kv_f16, .q8_act = q8_act};
    if (g4_ctx_new(&ctx, m, &cp, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    smp = g4_sampler_new(&sp, cf->n_vocab);
    logits = malloc(sizeof(float) * (size_t)cf->n_vocab);
    if (!smp || !logits) { fprintf(stderr, "error: out of memory\n"); goto out; }
    g4_sampler_set_suppress(smp, cf->suppress_ids, cf->n_suppress);
    for (int i = 0; i < n_ids; i++) g4_sampler_accept(smp, ids[i]);

    double t1 = cli_now();
    if (n_items ? g4_mm_eval(ctx, ids, n_ids, items, n_items, logits, err) : g4_ctx_eval(ctx, ids, n_ids, logits, 0, err)) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    double t_prompt = cli_now() - t1;
    if (verbose_prompt) {
        fprintf(stderr, "prompt ids (%d):", n_ids);
        for (int i = 0; i < n_ids; i++) fprintf(stderr, "%s%d", i ? "," : " ", ids[i]);
        fprintf(stderr, "\n");
    }
    if (logits_out) {
        FILE *lf = fopen(logits_out, "wb");
        int bad = !lf;
        if (lf) {
            bad = fwrite(logits, sizeof(float), (size_t)cf->n_vocab, lf) != (size_t)cf->n_vocab;
            bad |= fclose(lf) != 0;
        }
        if (bad) { fprintf(stderr, "error: %s: cannot write the logits\n", logits_out); goto out; }
    }
    double t2 = cli_now();
    int n_gen = 0;
    for (; n_gen < n_predict; n_gen++) {
        int next = g4_sampler_sample(smp, logits);
        if (next < 0) {
            fprintf(stderr, "%serror: no token can be sampled: every logit is NaN or -inf (broken weights?)\n",
                    n_gen ? "\n" : "");
            goto out;
        }
        g4_sampler_accept(smp, next);
        int stop = 0;
        for (int e = 0; e < cf->n_eos && !ignore_eos; e++) stop |= next == cf->eos_ids[e];
        if (stop) { n_gen++; break; }
        if (to.tok) {
            if (text_out_put(&to, next)) { n_gen++; break; } /* a stop string */
        } else {
            printf("%d ", next);
            fflush(stdout);
        }
        if (n_gen + 1 < n_predict && g4_ctx_eval(ctx, &next, 1, logits, 0, err)) {
            fprintf(stderr, "\nerror: %s\n", err);
            goto out;
        }
    }
    if (to.tok) text_out_finish(&to);
    printf("\n");
    fflush(stdout);
    double t_gen = cli_now() - t2;
    if (verbose)
        fprintf(stderr, "load %.2f s | prompt %d tok, %.2f tok/s | generation %d tok, %.2f tok/s | peak RSS %.1f MiB\n",
                t_load, n_ids, n_ids / t_prompt, n_gen, n_gen > 1 ? (n_gen - 1) / t_gen : 0.0, cli_peak_rss_mb());
    rc = 0;
out:
    text_out_free(&to);
    g4_tokenizer_free(tok);
    cJSON_Delete(tools);
    free(stdin_text);
    free(logits);
    free(ids);
    g4_sampler_free(smp);
    g4_ctx_free(ctx);
    g4_model_free(m);
    cli_media_free(items, n_items);
    return rc;
}
