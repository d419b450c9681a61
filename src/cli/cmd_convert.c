/* cmd_convert.c -- `gemma4 convert HF_DIR OUT.gguf [--type T] [--mmproj MMPROJ.gguf]` and
 * `gemma4 quantize IN OUT TYPE`.  The vision/audio embedders go into OUT, or with --mmproj into a
 * separate llama.cpp-style mmproj file (f16 unless --type is f32/bf16). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/quant.h"
#include "model/convert.h"
#include "model/model.h"

static int write_as(const char *in, const char *out, const char *type_name, const char *mmproj) {
    int type = g4_type_from_name(type_name);
    const g4_type_info *ti = type >= 0 ? g4_type_get(type) : NULL;
    if (!ti || !ti->from_f32) {
        fprintf(stderr, "error: cannot write type '%s' (choose f32, f16, bf16, q8_0, q4_0)\n", type_name);
        return 2;
    }
    char err[G4_ERR_LEN];
    g4_model *m;
    double t0 = cli_now();
    if (g4_model_load(&m, in, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (mmproj && !m->w.has_vision && !m->w.has_audio) {
        fprintf(stderr, "error: %s: --mmproj: the model has no vision or audio embedder\n", in);
        g4_model_free(m);
        return 1;
    }
    g4_status st = g4_model_write_gguf_ex(m, out, type, mmproj == NULL, err);
    if (!st && mmproj) st = g4_model_write_mmproj(m, mmproj, type, err);
    g4_model_free(m);
    if (st) { fprintf(stderr, "error: %s\n", err); return 1; }
    fprintf(stderr, "wrote %s%s%s (%s) in %.1f s\n", out, mmproj ? " and " : "", mmproj ? mmproj : "", ti->name,
            cli_now() - t0);
    return 0;
}

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *type = "f32", *mmproj = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: gemma4 convert HF_DIR OUT.gguf [--type f32|f16|bf16|q8_0|q4_0] [--mmproj MMPROJ.gguf]\n");
            return 0;
        } else if (!strcmp(argv[i], "--type") && i + 1 < argc) type = argv[++i];
        else if (!strcmp(argv[i], "--mmproj") && i + 1 < argc) mmproj = argv[++i];
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else { fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]); return 2; }
    }
    if (!in || !out) { fprintf(stderr, "error: convert wants an input and an output path\nusage: gemma4 convert HF_DIR OUT.gguf [--type f32|f16|bf16|q8_0|q4_0]\n"); return 2; }
    return write_as(in, out, type, mmproj);
}

int cmd_quantize(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: gemma4 quantize IN(.gguf|HF_DIR) OUT.gguf TYPE   (TYPE: f32 f16 bf16 q8_0 q4_0)\n");
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "error: quantize wants 3 arguments (got %d)\nusage: gemma4 quantize IN OUT.gguf TYPE\n", argc - 1);
        return 2;
    }
    return write_as(argv[1], argv[2], argv[3], NULL);
}
