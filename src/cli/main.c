/* main.c -- `gemma4 COMMAND ...`: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct { const char *name; int (*fn)(int, char **); const char *help; } commands[] = {
    {"run", cmd_run, "generate from a prompt (token ids until the tokenizer lands)"},
    {"chat", cmd_chat, "interactive multi-turn chat (the cache is kept between turns)"},
    {"info", cmd_info, "show a model file's architecture, tensors and memory needs"},
    {"convert", cmd_convert, "Hugging Face directory -> GGUF"},
    {"quantize", cmd_quantize, "GGUF/HF -> GGUF of another weight type"},
    {"bench", cmd_bench, "prompt and generation speed, peak RSS"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server with a chat page"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: gemma4 COMMAND [options]   (gemma4 COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "error: no command given\n"); usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
