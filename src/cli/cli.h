/* cli.h -- the gemma4 command's subcommands and their small shared helpers. */
#ifndef G4_CLI_H
#define G4_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "gemma4.h"

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);

double cli_now(void);             /* monotonic seconds */
double cli_peak_rss_mb(void);     /* peak resident set size of this process, MiB */
/* Parse a non-negative int / float option value; prints an error and returns 0 on failure. */
int cli_int(const char *opt, const char *s, long lo, long hi, long *out);
/* --kv-type f32|f16 -> *f16 (0/1); 0 with an error message on anything else */
int cli_kv_type(const char *s, int *f16);
int cli_float(const char *opt, const char *s, double lo, double hi, double *out);
/* All of f as a NUL-terminated string (malloc'd), NULL on error, over max bytes, or when empty. */
char *cli_read_all(FILE *f, size_t max);
/* The sampling options shared by run and chat (--temp --top-k --top-p --min-p --seed
 * --repeat-penalty --repeat-last-n --presence-penalty --frequency-penalty --greedy): if argv[*i]
 * is one, store it in sp, step *i past its value and return 1; 0 if it is not one; -1 after
 * printing an error for a bad value. */
int cli_sampler_opt(int argc, char **argv, int *i, g4_sampler_params *sp);
#define CLI_SAMPLER_USAGE                                                               \
    "  --temp X --top-k N --top-p X --min-p X --seed N\n"                                \
    "  --repeat-penalty X --repeat-last-n N --presence-penalty X --frequency-penalty X\n" \
    "  --greedy                same as --temp 0\n"
/* The model used when no -m is given: $GEMMA4_MODEL, else the bundled demo model (models/gemma4-demo.gguf
 * beside the build or install directory, or in the source tree the binary was built from), written to buf;
 * says which on stderr.  NULL if there is none. */
const char *cli_default_model(char *buf, size_t n);
#define CLI_NO_MODEL "error: no model given (-m PATH), and the bundled demo model models/gemma4-demo.gguf was not found\n"
/* A --tools file: a JSON array of tool declarations (cJSON_Delete it); NULL after printing an error. */
struct cJSON *cli_read_tools(const char *path);
/* "2,105,3" -> ids (malloc'd); returns count, or -1 with an error printed */
int cli_parse_ids(const char *s, int **out);

#endif
