/* common.h -- status codes, error strings and the allocator every module uses.
 *
 * The library never prints and never exits: a function that can fail returns a
 * g4_status and writes "<what>: <problem> (got X, want Y)" into the caller's
 * err buffer (G4_ERR_LEN bytes is always enough).  All heap memory goes through
 * g4_malloc & co so tests can make allocation N fail (g4_alloc_fail_at) and check
 * that every error path cleans up.  That counter is the one test hook in the
 * library; it is atomic and has no effect unless a test arms it.
 */
#ifndef G4_COMMON_H
#define G4_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gemma4.h" /* g4_status, G4_ERR_LEN: the public API shares them */

/* snprintf into err (if err != NULL); returns the status given, for one-line returns:
 *   return g4_errf(err, G4_EFORMAT, "%s: bad magic", path);                         */
g4_status g4_errf(char *err, g4_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void *g4_malloc(size_t n);
void *g4_calloc(size_t count, size_t size);
void *g4_realloc(void *p, size_t n);
void  g4_free(void *p);
char *g4_strdup(const char *s);
char *g4_strndup(const char *s, size_t n);

/* Test hook: make the n-th allocation from now fail (0 = the next one); -1 disarms.
 * Returns the number of allocations made since the last call (to size a sweep). */
long g4_alloc_fail_at(long n);

/* Invariant check: prints file:line and aborts.  For programming errors only. */
#define G4_ASSERT(x)                                                             \
    do {                                                                         \
        if (!(x)) {                                                              \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #x); \
            abort();                                                             \
        }                                                                        \
    } while (0)

#define G4_MIN(a, b) ((a) < (b) ? (a) : (b))
#define G4_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
