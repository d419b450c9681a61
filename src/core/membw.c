/* membw.c -- read bandwidth with the thread pool (see membw.h).  Each thread folds its slice
 * into four independent 64-bit XORs: two loads a cycle per core outrun any DRAM, so the loop
 * measures memory, not arithmetic; each thread stores its fold in the job, which the pool call
 * publishes, so the reads can't be optimised away. */
#include "membw.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "threads.h"

typedef struct {
    const uint64_t *buf;
    int64_t n; /* words */
    uint64_t fold[256];
} read_job;

static void read_worker(void *arg, int ith, int nth) {
    read_job *j = arg;
    int64_t a, b;
    g4_split(j->n, ith, nth, &a, &b);
    uint64_t x0 = 0, x1 = 0, x2 = 0, x3 = 0;
    int64_t i = a;
    for (; i + 4 <= b; i += 4) x0 ^= j->buf[i], x1 ^= j->buf[i + 1], x2 ^= j->buf[i + 2], x3 ^= j->buf[i + 3];
    for (; i < b; i++) x0 ^= j->buf[i];
    j->fold[ith & 255] ^= x0 ^ x1 ^ x2 ^ x3;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

g4_status g4_membw_read(int n_threads, size_t bytes, int reps, double *gbps, char *err) {
    *gbps = 0;
    if (n_threads < 1 || n_threads > 256 || reps < 1 || bytes < ((size_t)64 << 20))
        return g4_errf(err, G4_EINVAL, "membw: want 1..256 threads, reps >= 1 and at least 64 MiB");
    uint64_t *buf = g4_malloc(bytes);
    if (!buf) return g4_errf(err, G4_ENOMEM, "membw: cannot allocate %zu MiB", bytes >> 20);
    g4_pool *pool = g4_pool_new(n_threads);
    if (!pool) { g4_free(buf); return g4_errf(err, G4_ENOMEM, "membw: cannot start %d threads", n_threads); }
    memset(buf, 0x5a, bytes); /* fault every page in before timing */
    read_job j = {.buf = buf, .n = (int64_t)(bytes / 8)};
    for (int r = 0; r < reps; r++) {
        const double t0 = now_s();
        g4_pool_run(pool, read_worker, &j);
        const double g = (double)bytes / (now_s() - t0) / 1e9;
        if (g > *gbps) *gbps = g;
    }
    g4_pool_free(pool);
    g4_free(buf);
    return G4_OK;
}
