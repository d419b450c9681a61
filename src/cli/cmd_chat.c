/* cmd_chat.c -- `gemma4 chat`: an interactive multi-turn conversation, as llama.cpp's `llama-cli -cnv`
 * or Ollama's `run` offer it.
 *
 * One line of stdin is one user turn (a line ending in "\" continues on the next); EOF ends the chat.
 * The KV cache is kept between turns: each turn evaluates only its new tokens.  The first turn is the
 * model's full chat rendering (Gemma 4: g4_chat_render with --system/--think; Gemma 3: its
 * <start_of_turn> turns, see prompt.c); every answer is closed in the cache by the end-of-turn token
 * (<turn|> / <end_of_turn>) whatever ended it (the model, -n, Ctrl-C, a full context), and each later
 * turn appends what the template writes after it:
 *   Gemma 4  "\n<|turn>user\n" TEXT "<turn|>\n<|turn>model\n" (+ "<|channel>thought\n<channel|>" unless --think)
 *   Gemma 3  "\n<start_of_turn>user\n" TEXT "<end_of_turn>\n<start_of_turn>model\n"
 * So the cache holds the template's rendering of the conversation, except that the template drops the
 * thought channel of earlier answers on re-rendering (both the empty "<|channel>thought\n<channel|>" of
 * the generation prompt when thinking is off, and real thoughts with --think) while the cache keeps
 * what the model saw, as llama-cli does; --verbose checks this after every turn (Gemma 4) against
 * g4_chat_render of the whole conversation, thought channels of earlier answers left out.  The
 * template also trims answers; the cache keeps them as generated.
 *
 * Ctrl-C while an answer streams ends that answer (it stays in the conversation); Ctrl-C at the prompt
 * quits (exit 130).  The SIGINT flag below is this program's only global.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "prompt.h"
#include "textout.h"
#include "model/ctx.h"
#include "model/model.h"
#include "text/chat.h"
#include "text/sampler.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void chat_usage(FILE *f) {
    fprintf(f,
            "usage: gemma4 chat [-m MODEL] [options]      (one line of stdin per turn, Ctrl-D to quit)\n"
            "  -m, --model PATH        GGUF file or Hugging Face directory, with a tokenizer (default: $GEMMA4_MODEL,\n"
            "                          else the bundled demo model models/gemma4-demo.gguf)\n"
            "  --system TEXT           system prompt\n"
            "  --think                 Gemma 4 thinking mode (the thought is shown dimmed; /think hides it)\n"
            "  -n, --n-predict N       at most N tokens per answer (default -1: until the end of the turn)\n"
            "  -t, --threads N         CPU threads (default 2)\n"
            "  --kv-type f32|f16       K/V cache element type (default f32; f16 halves its memory)\n"
            "  --q8-act                8-bit activations in q8_0/q4_0/q4_K/q6_K matmuls (as llama.cpp; not exact)\n"
            "  -c, --ctx-size N        context length (default 4096 or the model's, if smaller)\n"
            CLI_SAMPLER_USAGE
            "  --verbose               load time, per-turn speed and a check of the cache against the\n"
            "                          chat template (Gemma 4) on stderr\n"
            "commands: /reset /save FILE /stats /think /help /exit   (a line ending in \\ continues)\n");
}

static void chat_help(void) {
    printf("  /reset       forget the conversation (and the cache)\n"
           "  /save FILE   write the conversation as OpenAI-style JSON messages\n"
           "  /stats       toggle the speed line after each answer\n"
           "  /think       toggle showing the model's thoughts (Gemma 4, on a terminal)\n"
           "  /help        this list\n"
           "  /exit        quit (also /quit, /bye, Ctrl-D; Ctrl-C stops an answer)\n"
           "  a line ending in \\ continues on the next; start a line with a space to send text beginning with /\n");
}

typedef struct {
    g4_model *m;
    g4_tokenizer *tok;
    g4_ctx *ctx;
    g4_sampler *smp;
    float *logits;
    g4_sampler_params sp;
    cli_prompt_opts po;
    long n_predict, n_ctx;
    int gemma4;
    int eot;               /* <turn|> or <end_of_turn> */
    int ch_open, ch_close; /* <|channel>, <channel|> (-1: none) */
    int n_think_suffix;    /* tokens of "<|channel>thought\n<channel|>" ending the generation prompt */
    int show_thoughts, stats, verbose;
    g4_chat *conv;         /* the conversation as messages (for /save and the template check) */
    int *hist;             /* every id in the cache, in order */
    int n_hist, cap_hist;
    int *spans;            /* per finished answer: [start, end) in hist, model side only */
    int n_spans, cap_spans;
} chat;

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 1;
    int nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, (size_t)nc * elem);
    if (!np) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* Evaluate ids into the cache; on failure the cache is unchanged (g4_ctx_eval checks first). */
static g4_status feed(chat *c, const int *ids, int n, char *err) {
    if (!grow((void **)&c->hist, &c->cap_hist, c->n_hist + n, sizeof(int)))
        return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    g4_status st = g4_ctx_eval(c->ctx, ids, n, c->logits, 0, err);
    if (st) return st;
    for (int i = 0; i < n; i++) g4_sampler_accept(c->smp, ids[i]);
    memcpy(c->hist + c->n_hist, ids, sizeof(int) * (size_t)n);
    c->n_hist += n;
    return G4_OK;
}

/* Forget everything: new conversation (with the system prompt), empty cache, fresh sampler. */
static g4_status chat_reset(chat *c, char *err) {
    g4_chat_free(c->conv);
    c->conv = NULL;
    g4_sampler_free(c->smp);
    c->smp = g4_sampler_new(&c->sp, c->m->cfg.n_vocab);
    if (!c->smp) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    g4_sampler_set_suppress(c->smp, c->m->cfg.suppress_ids, c->m->cfg.n_suppress);
    g4_ctx_reset(c->ctx);
    c->n_hist = c->n_spans = 0;
    g4_status st = g4_chat_new(&c->conv, err);
    if (!st && c->po.system) st = g4_chat_add(c->conv, G4_CHAT_SYSTEM, c->po.system, err);
    return st;
}

/* The ids of a user turn: the full chat rendering first, then what the template appends. */
static g4_status turn_ids(const chat *c, const char *text, int **ids, int *n, char *err) {
    if (c->n_hist == 0) return cli_encode_prompt(c->m, c->tok, text, &c->po, ids, n, err);
    const char *pre = c->gemma4 ? "\n<|turn>user\n" : "\n<start_of_turn>user\n";
    const char *post = c->gemma4 ? (c->po.think ? "<turn|>\n<|turn>model\n" : "<turn|>\n<|turn>model\n<|channel>thought\n<channel|>")
                                 : "<end_of_turn>\n<start_of_turn>model\n";
    size_t len = strlen(pre) + strlen(text) + strlen(post);
    char *s = malloc(len + 1);
    if (!s) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    snprintf(s, len + 1, "%s%s%s", pre, text, post);
    g4_status st = g4_tokenizer_encode(c->tok, s, len, ids, n, 1, err);
    free(s);
    return st;
}

/* --verbose, Gemma 4: does the cache equal g4_chat_render of the conversation (with the generation
 * prompt), leaving out the thought channels of finished answers that the template drops? */
static void template_check(chat *c) {
    char err[G4_ERR_LEN], *text = NULL;
    int *ref = NULL, n_ref = 0, *act = malloc(sizeof(int) * (size_t)(c->n_hist + 1)), n_act = 0;
    size_t len;
    c->conv->add_generation_prompt = 1;
    c->conv->enable_thinking = c->po.think;
    g4_status st = g4_chat_render(c->conv, &text, &len, err);
    if (!st) st = g4_tokenizer_encode(c->tok, text, len, &ref, &n_ref, 1, err);
    if (!act) st = g4_errf(err, G4_ENOMEM, "out of memory");
    if (st) {
        fprintf(stderr, "[template check: %s]\n", err);
    } else {
        int dropped = 0;
        for (int i = 0, s = 0, in_ch = 0; i < c->n_hist; i++) {
            while (s < c->n_spans && i >= c->spans[2 * s + 1]) s++, in_ch = 0;
            int id = c->hist[i];
            if (s < c->n_spans && i >= c->spans[2 * s] && (in_ch || id == c->ch_open)) {
                in_ch = id != c->ch_close;
                dropped++;
                continue;
            }
            act[n_act++] = id;
        }
        int k = 0;
        while (k < n_act && k < n_ref && act[k] == ref[k]) k++;
        if (k == n_act && k == n_ref)
            fprintf(stderr, "[template check: the cache equals the rendered conversation (%d tokens, %d thought-channel tokens of earlier answers left out)]\n",
                    n_ref, dropped);
        else
            fprintf(stderr, "[template check: the cache differs from the rendered conversation at token %d (cache %d, template %d tokens)]\n",
                    k, n_act, n_ref);
    }
    g4_free(text);
    g4_free(ref);
    free(act);
}

enum { END_TURN, END_LIMIT, END_INTERRUPT, END_FULL, END_NOSAMPLE };

/* Sample and stream one answer, close it with the end-of-turn token, add it to the conversation.
 * Returns non-zero only on an error that leaves the cache unusable. */
static int answer(chat *c, int n_prompt, double t_prompt) {
    char err[G4_ERR_LEN];
    text_out to;
    if (text_out_init(&to, c->tok, c->gemma4, NULL, 0, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    /* text_out shows thoughts only when its tty flag is set (it drops them when piped) */
    to.tty = to.tty && c->show_thoughts;
    const g4_config *cf = &c->m->cfg;
    int start = c->n_hist - c->n_think_suffix, n_gen = 0, end = END_TURN, rc = 0;
    double t0 = cli_now();
    for (;;) {
        if (interrupted) { end = END_INTERRUPT; break; }
        if (c->n_predict >= 0 && n_gen >= c->n_predict) { end = END_LIMIT; break; }
        int next = g4_sampler_sample(c->smp, c->logits);
        if (next < 0) { end = END_NOSAMPLE; break; }
        int stop = 0;
        for (int e = 0; e < cf->n_eos; e++) stop |= next == cf->eos_ids[e];
        if (stop) break;
        if (g4_ctx_n_past(c->ctx) + 2 > c->n_ctx) { end = END_FULL; break; } /* keep room for the end of turn */
        text_out_put(&to, next);
        if (feed(c, &next, 1, err)) { fprintf(stderr, "\nerror: %s\n", err); rc = 1; goto out; }
        n_gen++;
    }
    double t_gen = cli_now() - t0;
    text_out_finish(&to);
    printf("\n");
    fflush(stdout);
    if (end == END_FULL)
        fprintf(stderr, "[context full (%ld tokens): the answer was cut; /reset to start over]\n", c->n_ctx);
    if (end == END_NOSAMPLE)
        fprintf(stderr, "error: no token can be sampled: every logit is NaN or -inf (broken weights?)\n");
    if (feed(c, &c->eot, 1, err)) { fprintf(stderr, "error: %s\n", err); rc = 1; goto out; }
    if (!grow((void **)&c->spans, &c->cap_spans, 2 * (c->n_spans + 1), sizeof(int))) goto oom;
    c->spans[2 * c->n_spans] = start;
    c->spans[2 * c->n_spans + 1] = c->n_hist - 1;
    c->n_spans++;
    /* the answer as a message: Gemma 4 split into thought and content, Gemma 3 as generated */
    g4_chat_output o = {0};
    const char *content = to.gen ? to.gen : "";
    int parsed = c->gemma4 && to.gen && !g4_chat_parse_output(to.gen, to.len, &o, err);
    if (parsed) content = o.content ? o.content : "";
    g4_status st = g4_chat_add(c->conv, G4_CHAT_ASSISTANT, content, err);
    if (st && st != G4_ENOMEM) { /* text the conversation refuses (e.g. a NUL): keep the turn, empty */
        fprintf(stderr, "error: %s\n", err);
        st = g4_chat_add(c->conv, G4_CHAT_ASSISTANT, "", err);
    }
    if (!st && parsed && o.thought) st = g4_chat_set_reasoning(c->conv, o.thought, err);
    g4_chat_output_free(&o);
    if (st) goto oom;
    if (c->stats)
        fprintf(stderr, "[prompt %d tok, %.1f tok/s | answer %d tok, %.1f tok/s | context %lld/%ld]\n", n_prompt,
                t_prompt > 0 ? n_prompt / t_prompt : 0.0, n_gen, t_gen > 0 ? n_gen / t_gen : 0.0,
                (long long)g4_ctx_n_past(c->ctx), c->n_ctx);
    goto out;
oom:
    fprintf(stderr, "error: chat: out of memory\n");
    rc = 1;
out:
    text_out_free(&to);
    return rc;
}

/* One user turn.  Returns non-zero on a fatal error. */
static int user_turn(chat *c, const char *text) {
    char err[G4_ERR_LEN];
    int *ids = NULL, n = 0;
    if (turn_ids(c, text, &ids, &n, err)) { fprintf(stderr, "error: %s\n", err); return 0; }
    long used = (long)g4_ctx_n_past(c->ctx);
    if (used + n + 2 > c->n_ctx) {
        fprintf(stderr, "[context full: this turn needs %d tokens, %ld of %ld are used; /reset to start over%s]\n", n,
                used, c->n_ctx, used ? "" : " or give a larger -c");
        g4_free(ids);
        return 0;
    }
    double t0 = cli_now();
    g4_status st = feed(c, ids, n, err);
    double t_prompt = cli_now() - t0;
    g4_free(ids);
    if (st) {
        fprintf(stderr, "error: %s\n", err);
        return g4_ctx_n_past(c->ctx) != used; /* a failed eval leaves the cache as it was */
    }
    if (g4_chat_add(c->conv, G4_CHAT_USER, text, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (c->verbose && c->gemma4) template_check(c);
    return answer(c, n, t_prompt);
}

static int save(const chat *c, const char *path) {
    static const char *roles[] = {"system", "developer", "user", "assistant", "model", "tool"};
    cJSON *root = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(root, "messages");
    int ok = root && msgs;
    for (int i = 0; ok && i < c->conv->n_msgs; i++) {
        const g4_chat_msg *m = &c->conv->msgs[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(msgs, o) && cJSON_AddStringToObject(o, "role", roles[m->role]) &&
             cJSON_AddStringToObject(o, "content", m->text ? m->text : "") &&
             (!m->reasoning || cJSON_AddStringToObject(o, "reasoning_content", m->reasoning));
    }
    ok = ok && cJSON_AddBoolToObject(root, "enable_thinking", c->po.think);
    char *json = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!json) { fprintf(stderr, "error: /save: out of memory\n"); return 0; }
    FILE *f = fopen(path, "w");
    int wrote = f && fputs(json, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f)) wrote = 0;
    cJSON_free(json);
    if (!wrote) fprintf(stderr, "error: /save: cannot write %s: %s\n", path, strerror(errno));
    else fprintf(stderr, "[saved %d messages to %s]\n", c->conv->n_msgs, path);
    return wrote;
}

/* A user turn from stdin: lines ending in "\" continue.  NULL at EOF or on Ctrl-C (see interrupted). */
static char *read_turn(int tty) {
    char *buf = NULL, *line = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (tty) {
            fputs(len ? "... " : "> ", isatty(1) ? stdout : stderr);
            fflush(isatty(1) ? stdout : stderr);
        }
        ssize_t r = getline(&line, &cap, stdin);
        if (r < 0 || interrupted) {
            free(line);
            if (buf && !interrupted && len) return buf; /* EOF after a continuation: send what we have */
            free(buf);
            return NULL;
        }
        if (r > 0 && line[r - 1] == '\n') line[--r] = 0;
        if (r > 0 && line[r - 1] == '\r') line[--r] = 0;
        int more = r > 0 && line[r - 1] == '\\';
        if (more) line[--r] = 0;
        char *nb = realloc(buf, len + (size_t)r + 2);
        if (!nb) { free(line); free(buf); return NULL; }
        buf = nb;
        memcpy(buf + len, line, (size_t)r);
        len += (size_t)r;
        buf[len] = 0;
        if (!more) { free(line); return buf; }
        buf[len++] = '\n';
        buf[len] = 0;
    }
}

static char *trim(char *s) {
    while (*s && strchr(" \t\n\r\f\v", *s)) s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\n\r\f\v", s[n - 1])) s[--n] = 0;
    return s;
}

int cmd_chat(int argc, char **argv) {
    const char *model_path = NULL;
    long threads = 2;
    int kv_f16 = 0, q8_act = 0;
    chat c = {.n_predict = -1, .show_thoughts = 1};
    g4_sampler_params_default(&c.sp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int so;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (OPT("-h", "--help")) { chat_usage(stdout); return 0; }
        else if (OPT("-m", "--model") && v) { model_path = v; i++; }
        else if (!strcmp(a, "--system") && v) { c.po.system = v; i++; }
        else if (!strcmp(a, "--think")) c.po.think = 1;
        else if (OPT("-n", "--n-predict")) { if (!cli_int(a, v, -1, 1 << 24, &c.n_predict)) return 2; i++; }
        else if (OPT("-t", "--threads")) { if (!cli_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (!strcmp(a, "--kv-type")) { if (!cli_kv_type(v, &kv_f16)) return 2; i++; }
        else if (!strcmp(a, "--q8-act")) q8_act = 1;
        else if (OPT("-c", "--ctx-size")) { if (!cli_int(a, v, 1, 1 << 24, &c.n_ctx)) return 2; i++; }
        else if ((so = cli_sampler_opt(argc, argv, &i, &c.sp)) != 0) { if (so < 0) return 2; }
        else if (!strcmp(a, "--verbose")) c.verbose = c.stats = 1;
        else { fprintf(stderr, "error: unknown or incomplete option '%s'\n", a); chat_usage(stderr); return 2; }
#undef OPT
    }
    char default_model[4096];
    if (!model_path && !(model_path = cli_default_model(default_model, sizeof default_model))) {
        fprintf(stderr, CLI_NO_MODEL);
        chat_usage(stderr);
        return 2;
    }

    char err[G4_ERR_LEN];
    int rc = 1, tty = isatty(0);
    struct sigaction sa = {0}, old;
    double t0 = cli_now();
    if (g4_model_load(&c.m, model_path, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    if (q8_act && g4_model_pack_q8(c.m, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    const g4_config *cf = &c.m->cfg;
    if (cli_load_tokenizer(c.m, &c.tok, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    if (!c.tok) { fprintf(stderr, "error: %s has no tokenizer: chat needs one\n", model_path); goto out; }
    c.gemma4 = cf->arch == G4_ARCH_GEMMA4;
    const char *eot_name = c.gemma4 ? G4_TOK_TURN_END : "<end_of_turn>";
    c.eot = g4_tok_find(c.tok, eot_name);
    if (c.eot < 0 || c.eot >= cf->n_vocab) { fprintf(stderr, "error: %s: the tokenizer has no %s token in the model's vocabulary\n", model_path, eot_name); goto out; }
    c.ch_open = g4_tok_find(c.tok, G4_TOK_CHANNEL_START);
    c.ch_close = g4_tok_find(c.tok, G4_TOK_CHANNEL_END);
    if (c.gemma4 && !c.po.think) {
        int *ids = NULL;
        const char *s = "<|channel>thought\n<channel|>";
        if (g4_tokenizer_encode(c.tok, s, strlen(s), &ids, &c.n_think_suffix, 1, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
        g4_free(ids);
    }
    if (c.n_ctx == 0) c.n_ctx = G4_MIN(4096, cf->n_ctx_train);
    g4_ctx_params cp = {.n_ctx = (int)c.n_ctx, .n_batch = 512, .n_threads = (int)threads, .kv_f16 = kv_f16, .q8_act = q8_act};
    if (g4_ctx_new(&c.ctx, c.m, &cp, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    c.logits = malloc(sizeof(float) * (size_t)cf->n_vocab);
    if (!c.logits) { fprintf(stderr, "error: out of memory\n"); goto out; }
    if (chat_reset(&c, err)) { fprintf(stderr, "error: %s\n", err); goto out; }
    if (c.verbose)
        fprintf(stderr, "[load %.2f s | context %ld | peak RSS %.1f MiB]\n", cli_now() - t0, c.n_ctx, cli_peak_rss_mb());
    if (tty) fprintf(stderr, "gemma4 chat: %s, context %ld tokens. /help lists the commands, Ctrl-D quits.\n", model_path, c.n_ctx);

    sa.sa_handler = on_sigint; /* no SA_RESTART: Ctrl-C at the prompt interrupts the read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rc = 0;
    for (;;) {
        interrupted = 0;
        char *line = read_turn(tty);
        if (!line) {
            if (interrupted) rc = 130;
            if (tty) fputc('\n', stderr);
            break;
        }
        char *cmd = line;
        if (line[0] == '/') {
            char *arg = cmd + strcspn(cmd, " \t");
            if (*arg) *arg++ = 0;
            arg = trim(arg);
            if (!strcmp(cmd, "/exit") || !strcmp(cmd, "/quit") || !strcmp(cmd, "/bye")) { free(line); break; }
            else if (!strcmp(cmd, "/help") || !strcmp(cmd, "/?")) chat_help();
            else if (!strcmp(cmd, "/reset") || !strcmp(cmd, "/clear")) {
                if (chat_reset(&c, err)) { fprintf(stderr, "error: %s\n", err); rc = 1; free(line); break; }
                fprintf(stderr, "[conversation cleared]\n");
            } else if (!strcmp(cmd, "/save")) {
                if (!*arg) fprintf(stderr, "error: /save needs a file name\n");
                else save(&c, arg);
            } else if (!strcmp(cmd, "/stats")) {
                c.stats = !c.stats;
                fprintf(stderr, "[stats %s]\n", c.stats ? "on" : "off");
            } else if (!strcmp(cmd, "/think")) {
                c.show_thoughts = !c.show_thoughts;
                fprintf(stderr, "[thoughts %s%s]\n", c.show_thoughts ? "shown" : "hidden",
                        c.gemma4 ? (c.po.think ? "" : "; thinking is off (--think)") : "; this model has no thought channel");
            } else fprintf(stderr, "error: unknown command %s (/help lists them)\n", cmd);
        } else {
            char *text = trim(line);
            if (*text && user_turn(&c, text)) { rc = 1; free(line); break; }
        }
        free(line);
    }
    sigaction(SIGINT, &old, NULL);
out:
    g4_chat_free(c.conv);
    free(c.hist);
    free(c.spans);
    free(c.logits);
    g4_sampler_free(c.smp);
    g4_ctx_free(c.ctx);
    g4_tokenizer_free(c.tok);
    g4_model_free(c.m);
    return rc;
}
