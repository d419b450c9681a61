/* common.c -- error formatting and the fault-injecting allocator (see common.h). */
#include "common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

static atomic_long alloc_countdown = -1; /* test hook: fail when it reaches 0 */
static atomic_long alloc_count = 0;

const char *g4_status_str(g4_status s) {
    switch (s) {
    case G4_OK: return "ok";
    case G4_EIO: return "I/O error";
    case G4_EFORMAT: return "bad format";
    case G4_ENOMEM: return "out of memory";
    case G4_EINVAL: return "invalid argument";
    case G4_EUNSUPPORTED: return "not supported yet";
    case G4_EBUSY: return "busy";
    }
    return "unknown error";
}

g4_status g4_errf(char *err, g4_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, G4_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return st;
}

long g4_alloc_fail_at(long n) {
    long made = atomic_exchange(&alloc_count, 0);
    atomic_store(&alloc_countdown, n);
    return made;
}

static int alloc_should_fail(void) {
    atomic_fetch_add(&alloc_count, 1);
    if (atomic_load(&alloc_countdown) < 0) return 0;
    return atomic_fetch_sub(&alloc_countdown, 1) == 0;
}

void *g4_malloc(size_t n) {
    if (alloc_should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *g4_calloc(size_t count, size_t size) {
    if (alloc_should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *g4_realloc(void *p, size_t n) {
    if (alloc_should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void g4_free(void *p) { free(p); }

char *g4_strndup(const char *s, size_t n) {
    char *d = g4_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *g4_strdup(const char *s) { return g4_strndup(s, strlen(s)); }
