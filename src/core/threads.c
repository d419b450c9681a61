/* threads.c -- the fork-join pool of threads.h.
 *
 * Dispatch: the caller stores fn/arg, sets `pending` to the number of helpers and
 * bumps the generation counter `gen` (release).  A helper that sees a new `gen`
 * (acquire) runs fn and decrements `pending`; the caller runs worker 0 itself and
 * then waits for `pending` to reach 0 (acquire), so each call is a full barrier.
 * Because the caller waits for every helper before the next call, a helper can
 * never skip a generation.
 *
 * Waiting: both sides first spin (with a CPU pause hint, and a sched_yield now and
 * then so an oversubscribed machine still makes progress), then sleep on a condition
 * variable.  A sleeper announces itself (sleepers++ / caller_waiting = 1) and then
 * re-checks the condition; the waker changes the condition and then checks for
 * sleepers.  Both are seq_cst, so at least one side sees the other (no lost wakeup),
 * and the waker only pays for the mutex + broadcast when someone actually sleeps.
 */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "common.h"

#ifndef G4_SPIN_ITERS
#define G4_SPIN_ITERS 20000 /* ~0.2-1 ms of pause instructions before sleeping */
#endif
#ifndef G4_SPIN_YIELD
#define G4_SPIN_YIELD 128   /* sched_yield every this many spins */
#endif

typedef struct {
    g4_pool *pool;
    int ith;
} g4_worker;

struct g4_pool {
    int n;                   /* workers including the caller */
    int n_started;           /* helper threads actually running */
    pthread_t *threads;      /* n - 1 helpers */
    g4_worker *workers;      /* their arguments */
    pthread_mutex_t mu;      /* only for the sleeping slow paths */
    pthread_cond_t wake;     /* helpers sleep here waiting for a new gen */
    pthread_cond_t done;     /* the caller sleeps here waiting for pending == 0 */
    g4_pool_fn fn;           /* current job: written before gen++, read after */
    void *arg;
    char pad0[64];
    atomic_uint gen;         /* dispatch generation (helpers poll it) */
    atomic_int stop;         /* set once by g4_pool_free */
    atomic_int sleepers;     /* helpers inside the slow path */
    char pad1[64];
    atomic_int pending;      /* helpers still running this generation */
    atomic_int caller_waiting;
    char pad2[64];
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/* Wait until gen != seen; returns the new generation. */
static unsigned wait_new_gen(g4_pool *p, unsigned seen) {
    unsigned g;
    for (int i = 1; i <= G4_SPIN_ITERS; i++) {
        g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen) return g;
        if (i % G4_SPIN_YIELD == 0) sched_yield();
        else cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((g = atomic_load(&p->gen)) == seen) pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *varg) {
    g4_worker *w = varg;
    g4_pool *p = w->pool;
    unsigned seen = 0; /* gen starts at 0 and is only bumped after all helpers exist */
    for (;;) {
        seen = wait_new_gen(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        p->fn(p->arg, w->ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

/* Bump gen and wake any sleeping helper. */
static void publish(g4_pool *p) {
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

static void stop_and_join(g4_pool *p) {
    atomic_store(&p->stop, 1);
    publish(p);
    /* A helper may have been asleep before `sleepers` was read: publish's
     * broadcast covers it, since it re-checks gen under the mutex. */
    for (int i = 0; i < p->n_started; i++) pthread_join(p->threads[i], NULL);
    p->n_started = 0;
}

g4_pool *g4_pool_new(int n_threads) {
    if (n_threads < 1) return NULL;
    g4_pool *p = g4_calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->n = n_threads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->caller_waiting, 0);
    int have_mu = 0, have_wake = 0, have_done = 0;
    if (pthread_mutex_init(&p->mu, NULL) != 0) goto fail;
    have_mu = 1;
    if (pthread_cond_init(&p->wake, NULL) != 0) goto fail;
    have_wake = 1;
    if (pthread_cond_init(&p->done, NULL) != 0) goto fail;
    have_done = 1;
    if (n_threads > 1) {
        p->threads = g4_calloc((size_t)n_threads - 1, sizeof(*p->threads));
        p->workers = g4_calloc((size_t)n_threads - 1, sizeof(*p->workers));
        if (!p->threads || !p->workers) goto fail;
        for (int i = 0; i < n_threads - 1; i++) {
            p->workers[i].pool = p;
            p->workers[i].ith = i + 1;
            if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0) goto fail;
            p->n_started++;
        }
    }
    return p;
fail:
    stop_and_join(p);
    if (have_done) pthread_cond_destroy(&p->done);
    if (have_wake) pthread_cond_destroy(&p->wake);
    if (have_mu) pthread_mutex_destroy(&p->mu);
    g4_free(p->threads);
    g4_free(p->workers);
    g4_free(p);
    return NULL;
}

void g4_pool_free(g4_pool *p) {
    if (!p) return;
    stop_and_join(p);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    g4_free(p->threads);
    g4_free(p->workers);
    g4_free(p);
}

int g4_pool_size(const g4_pool *p) { return p ? p->n : 0; }

void g4_pool_run(g4_pool *p, g4_pool_fn fn, void *arg) {
    G4_ASSERT(p && fn);
    if (p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    publish(p); /* seq_cst RMW: orders the stores above before any helper's read */
    fn(arg, 0, p->n);
    for (int i = 1; i <= G4_SPIN_ITERS; i++) {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
        if (i % G4_SPIN_YIELD == 0) sched_yield();
        else cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waiting, 1);
    while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_waiting, 0);
    pthread_mutex_unlock(&p->mu);
}
