/* threads.h -- a tiny fork-join thread pool for the forward pass.
 *
 * g4_pool_run(p, fn, arg) calls fn(arg, ith, nth) once for every ith in 0..nth-1,
 * in parallel, and returns when all calls are done.  The calling thread is worker 0,
 * so a pool of n threads owns n-1 helper threads (n = 1: none, fn runs inline).
 *
 * It runs once per matmul, thousands of times a second, so a dispatch is one atomic
 * increment of a generation counter: idle workers spin on it for a short while and
 * only then sleep on a condition variable, so a busy pool wakes in ~1 us and an idle
 * one burns no CPU.  Every call is a full barrier: what fn wrote in any worker is
 * visible to the caller when g4_pool_run returns, and what the caller wrote before
 * the call is visible to every worker.
 *
 * Rules: g4_pool_run must not be called concurrently on one pool (nor from inside fn);
 * different pools are independent.  No global state.
 */
#ifndef G4_THREADS_H
#define G4_THREADS_H

#include <stdint.h>

typedef struct g4_pool g4_pool;

typedef void (*g4_pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 workers including the caller; NULL if n_threads < 1, on allocation
 * failure, or if a thread cannot be created (nothing is leaked). */
g4_pool *g4_pool_new(int n_threads);
void g4_pool_free(g4_pool *p); /* NULL is fine; joins the helpers */
int g4_pool_size(const g4_pool *p);
void g4_pool_run(g4_pool *p, g4_pool_fn fn, void *arg);

/* Worker ith's share [*begin, *end) of n items: contiguous, sizes differ by at most
 * one (the first n % nth workers get one more), deterministic, and the shares of
 * ith = 0..nth-1 tile [0, n) in order.  n <= 0 gives empty ranges. */
static inline void g4_split(int64_t n, int ith, int nth, int64_t *begin, int64_t *end) {
    if (n < 0) n = 0;
    if (nth < 1) nth = 1;
    int64_t base = n / nth, rem = n % nth;
    int64_t b = (int64_t)ith * base + (ith < rem ? ith : rem);
    *begin = b;
    *end = b + base + (ith < rem ? 1 : 0);
}

#endif
