/* fuzz_config.c -- libFuzzer target: g4_hfconfig_parse over arbitrary bytes, and the same bytes as a
 * processor_config.json (g4_hfprocessor_parse).
 * Seeds: the .json files in tests/data/config.  A config it accepts must pass g4_config_validate, and
 * an image budget a processor file sets must be one the reference allows. */
#include "model/config.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[G4_ERR_LEN];
    g4_config c;
    g4_config pc;
    memset(&pc, 0, sizeof pc);
    g4_status s = g4_hfprocessor_parse((const char *)data, size, "proc.json", &pc, err);
    if (s != G4_OK ? !strstr(err, "proc.json") : pc.image_tokens && !g4_image_tokens_valid(pc.image_tokens))
        __builtin_trap();
    s = g4_hfconfig_parse((const char *)data, size, "fuzz.json", &c, err);
    if (s != G4_OK) {
        if (!strstr(err, "fuzz.json")) __builtin_trap();
        return 0;
    }
    if (g4_config_validate(&c, "fuzz.json", err) != G4_OK) __builtin_trap();
    volatile int d = g4_rope_dims_full(&c);
    (void)d;
    return 0;
}
