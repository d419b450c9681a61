/* fuzz_config.c -- libFuzzer target: g4_hfconfig_parse over arbitrary bytes.
 * Seeds: the .json files in tests/data/config.  A config it accepts must pass g4_config_validate. */
#include "model/config.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[G4_ERR_LEN];
    g4_config c;
    g4_status s = g4_hfconfig_parse((const char *)data, size, "fuzz.json", &c, err);
    if (s != G4_OK) {
        if (!strstr(err, "fuzz.json")) __builtin_trap();
        return 0;
    }
    if (g4_config_validate(&c, "fuzz.json", err) != G4_OK) __builtin_trap();
    volatile int d = g4_rope_dims_full(&c);
    (void)d;
    return 0;
}
