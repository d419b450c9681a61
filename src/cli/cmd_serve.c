/* cmd_serve.c -- `gemma4 serve`: load the model into the engine (src/server/engine.h), start the
 * HTTP server with the OpenAI-compatible API (src/server/api.h), log one line per request on
 * stderr, and shut down cleanly on SIGINT/SIGTERM: stop accepting, end the streams, wait for the
 * handlers, free everything.
 *
 * The signals are blocked before any thread starts (every thread inherits the mask) and the main
 * thread takes them with sigwait, so no handler runs on an arbitrary thread.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "server/api.h"

static void serve_usage(FILE *f) {
    fprintf(f,
            "usage: gemma4 serve [-m MODEL] [options]\n"
            "  -m, --model PATH        GGUF file or Hugging Face directory (default: $GEMMA4_MODEL, else the bundled\n"
            "                          demo model models/gemma4-demo.gguf)\n"
            "  --mmproj FILE           llama.cpp mmproj file with the vision/audio embedders\n"
            "  --host ADDR             address to bind (default 127.0.0.1; 0.0.0.0 = every interface)\n"
            "  --port N                port (default 8080; 0 = any free port, printed at start)\n"
            "  --api-key KEY           require 'Authorization: Bearer KEY' (also read from $GEMMA4_API_KEY)\n"
            "  --parallel N            sequences decoded together, each with its own KV cache (default 1)\n"
            "  -c, --ctx N             context positions per sequence (default 4096 or the model's)\n"
            "  -t, --threads N         CPU threads (default 2)\n"
            "  --kv-type f32|f16       K/V cache element type (default f32; f16 halves its memory)\n"
            "  --q8-act                8-bit activations in q8_0/q4_0/q4_K/q6_K matmuls (as llama.cpp; not exact)\n"
            "  --max-queue N           requests waiting for a sequence before 503 (default 16)\n"
            "  --media-dir DIR         allow image/audio/video parts to name local files under DIR\n"
            "  --max-body BYTES        largest request body (default 33554432 = 32 MiB)\n"
            "  --read-timeout S        seconds a request may take to arrive, headers and body (default 30)\n");
}

static void log_line(void *ud, const char *line) {
    (void)ud;
    fprintf(stderr, "%s\n", line);
}

int cmd_serve(int argc, char **argv) {
    const char *model = NULL, *mmproj = NULL, *host = "127.0.0.1", *api_key = getenv("GEMMA4_API_KEY"),
               *media_dir = NULL;
    long port = 8080, parallel = 1, n_ctx = 0, threads = 2, max_queue = 16, max_body = 32L << 20, read_timeout = 30;
    int kv_f16 = 0, q8_act = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(s, l) (!strcmp(a, s) || !strcmp(a, l))
        if (OPT("-h", "--help")) { serve_usage(stdout); return 0; }
        else if (OPT("-m", "--model") && v) model = v, i++;
        else if (!strcmp(a, "--mmproj") && v) mmproj = v, i++;
        else if (!strcmp(a, "--host") && v) host = v, i++;
        else if (!strcmp(a, "--api-key") && v) api_key = v, i++;
        else if (!strcmp(a, "--media-dir") && v) media_dir = v, i++;
        else if (!strcmp(a, "--port")) { if (!cli_int(a, v, 0, 65535, &port)) return 2; i++; }
        else if (!strcmp(a, "--parallel")) { if (!cli_int(a, v, 1, 256, &parallel)) return 2; i++; }
        else if (OPT("-c", "--ctx")) { if (!cli_int(a, v, 1, 1 << 24, &n_ctx)) return 2; i++; }
        else if (OPT("-t", "--threads")) { if (!cli_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (!strcmp(a, "--kv-type")) { if (!cli_kv_type(v, &kv_f16)) return 2; i++; }
        else if (!strcmp(a, "--q8-act")) q8_act = 1;
        else if (!strcmp(a, "--max-queue")) { if (!cli_int(a, v, 0, 1 << 20, &max_queue)) return 2; i++; }
        else if (!strcmp(a, "--max-body")) { if (!cli_int(a, v, 1024, 1L << 31, &max_body)) return 2; i++; }
        else if (!strcmp(a, "--read-timeout")) { if (!cli_int(a, v, 1, 86400, &read_timeout)) return 2; i++; }
        else { fprintf(stderr, "error: unknown or incomplete option '%s'\n", a); serve_usage(stderr); return 2; }
#undef OPT
    }
    char default_model[4096];
    if (!model && !(model = cli_default_model(default_model, sizeof default_model))) {
        fprintf(stderr, CLI_NO_MODEL);
        serve_usage(stderr);
        return 2;
    }
    char dir[PATH_MAX];
    if (media_dir && !realpath(media_dir, dir)) { fprintf(stderr, "error: --media-dir %s: no such directory\n", media_dir); return 2; }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that leaves is an error return, not a signal */

    char err[G4_ERR_LEN];
    double t0 = cli_now();
    g4_engine *e = NULL;
    g4_engine_params ep = {.model_path = model, .mmproj_path = mmproj, .n_parallel = (int)parallel,
                           .n_ctx = (int)n_ctx, .n_threads = (int)threads, .max_queue = (int)max_queue,
                           .kv_f16 = kv_f16, .q8_act = q8_act};
    if (g4_engine_new(&e, &ep, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    char path[PATH_MAX], *id; /* the model's name: its file or directory name */
    snprintf(path, sizeof path, "%s", model);
    for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--) path[n - 1] = 0;
    id = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    g4_api api = {.engine = e, .model_id = id, .media_dir = media_dir ? dir : NULL, .max_media = (size_t)max_body,
                  .created = (long)time(NULL)};
    int n_routes;
    const g4_http_route *routes = g4_api_routes(&n_routes);
    g4_http_params hp = {.host = host, .port = (int)port, .api_key = api_key, .max_body = (size_t)max_body,
                         .routes = routes, .n_routes = n_routes, .ud = &api, .log = log_line,
                         .read_timeout = (int)read_timeout};
    g4_http *h = NULL;
    if (g4_http_start(&h, &hp, err)) {
        fprintf(stderr, "error: %s\n", err);
        g4_engine_free(e);
        return 1;
    }
    fprintf(stderr, "gemma4 serve: %s loaded in %.1f s, %ld slot(s) x %d positions; listening on http://%s%s%s:%d%s\n",
            id, cli_now() - t0, parallel, g4_engine_n_ctx(e), strchr(host, ':') ? "[" : "", host,
            strchr(host, ':') ? "]" : "", g4_http_port(h), api_key && *api_key ? " (API key required)" : "");
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "gemma4 serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    g4_http_stop(h);
    g4_engine_free(e);
    return 0;
}
