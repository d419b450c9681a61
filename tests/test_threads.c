/* test_threads.c -- the thread pool: g4_split tiles ranges, parallel sums equal a
 * serial sum, every worker runs exactly once per call, calls are barriers, 100k
 * back-to-back calls finish, pools are independent, and bad sizes are refused.
 * (The oracle here is plain serial arithmetic: nothing about it depends on the pool.) */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/common.h"
#include "core/threads.h"

#define MAXT 8

typedef struct {
    const int64_t *x;
    int64_t n;
    int64_t part[MAXT]; /* one slot per worker */
    int calls[MAXT];
    int bad_nth;
} sum_job;

static void sum_fn(void *arg, int ith, int nth) {
    sum_job *j = arg;
    int64_t b, e, s = 0;
    if (nth < 1 || nth > MAXT || ith < 0 || ith >= nth) { j->bad_nth = 1; return; }
    g4_split(j->n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) s += j->x[i];
    j->part[ith] = s;
    j->calls[ith]++;
}

static void test_split(void) {
    int nths[] = {1, 2, 3, 5, 8, 13};
    for (size_t t = 0; t < sizeof(nths) / sizeof(nths[0]); t++) {
        int nth = nths[t];
        for (int64_t n = 0; n < 100; n++) {
            int64_t expect_begin = 0, minsz = INT64_MAX, maxsz = 0;
            int ok = 1;
            for (int ith = 0; ith < nth; ith++) {
                int64_t b, e;
                g4_split(n, ith, nth, &b, &e);
                if (b != expect_begin || e < b) ok = 0;
                minsz = G4_MIN(minsz, e - b);
                maxsz = G4_MAX(maxsz, e - b);
                expect_begin = e;
            }
            CHECKF(ok && expect_begin == n && maxsz - minsz <= 1, "n=%lld nth=%d", (long long)n, nth);
        }
    }
    int64_t b, e;
    g4_split(10, 0, 3, &b, &e); /* 4,3,3 */
    CHECK(b == 0 && e == 4);
    g4_split(10, 2, 3, &b, &e);
    CHECK(b == 7 && e == 10);
    g4_split(-5, 1, 2, &b, &e);
    CHECK(b == 0 && e == 0);
    g4_split(INT64_C(1) << 40, 7, 8, &b, &e);
    CHECK(b == (INT64_C(1) << 40) / 8 * 7 && e == INT64_C(1) << 40);
}

static void test_sums(void) {
    enum { NMAX = 10007 };
    static int64_t x[NMAX];
    for (int i = 0; i < NMAX; i++) x[i] = (int64_t)(i * 2654435761u % 1000003u) - 500000;
    int nths[] = {1, 2, 3, 8};
    int64_t ns[] = {0, 1, 2, 3, 7, 8, 9, 100, 1001, 4096, NMAX};
    for (size_t t = 0; t < 4; t++) {
        g4_pool *p = g4_pool_new(nths[t]);
        CHECK(p != NULL);
        if (!p) continue;
        CHECK(g4_pool_size(p) == nths[t]);
        for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
            sum_job j;
            memset(&j, 0, sizeof(j));
            j.x = x;
            j.n = ns[k];
            g4_pool_run(p, sum_fn, &j);
            int64_t serial = 0, par = 0;
            for (int64_t i = 0; i < ns[k]; i++) serial += x[i];
            int calls_ok = 1;
            for (int i = 0; i < MAXT; i++) {
                par += j.part[i];
                if (j.calls[i] != (i < nths[t] ? 1 : 0)) calls_ok = 0;
            }
            CHECKF(par == serial, "nth=%d n=%lld: %lld vs %lld", nths[t], (long long)ns[k],
                   (long long)par, (long long)serial);
            CHECKF(calls_ok && !j.bad_nth, "nth=%d n=%lld: each worker once", nths[t], (long long)ns[k]);
        }
        g4_pool_free(p);
    }
}

/* Barrier check: each call increments a per-worker counter; after call c every
 * counter must be exactly c (a worker that ran late or twice shows up here). */
typedef struct {
    int count[MAXT];
    int64_t seen_sum[MAXT];
} bar_job;

static void bar_fn(void *arg, int ith, int nth) {
    bar_job *j = arg;
    int64_t s = 0;
    for (int i = 0; i < nth; i++) s += j->count[i]; /* reads others' counters: all equal now */
    j->seen_sum[ith] = s;
}

static void bump_fn(void *arg, int ith, int nth) {
    (void)nth;
    ((bar_job *)arg)->count[ith]++;
}

static void test_rapid(int nth, int calls) {
    g4_pool *p = g4_pool_new(nth);
    CHECK(p != NULL);
    if (!p) return;
    bar_job j;
    memset(&j, 0, sizeof(j));
    int ok = 1;
    for (int c = 1; c <= calls; c++) {
        g4_pool_run(p, bump_fn, &j);
        if (c % 1000 == 0) {
            g4_pool_run(p, bar_fn, &j);
            for (int i = 0; i < nth; i++)
                if (j.count[i] != c || j.seen_sum[i] != (int64_t)c * nth) ok = 0;
        }
    }
    for (int i = 0; i < nth; i++)
        if (j.count[i] != calls) ok = 0;
    CHECKF(ok, "nth=%d: %d rapid calls, every worker ran every call", nth, calls);
    g4_pool_free(p);
}

/* Two pools driven alternately from one thread stay independent. */
static void test_two_pools(void) {
    g4_pool *a = g4_pool_new(3), *b = g4_pool_new(2);
    CHECK(a && b);
    if (a && b) {
        bar_job ja, jb;
        memset(&ja, 0, sizeof(ja));
        memset(&jb, 0, sizeof(jb));
        for (int c = 0; c < 1000; c++) {
            g4_pool_run(a, bump_fn, &ja);
            g4_pool_run(b, bump_fn, &jb);
            g4_pool_run(b, bump_fn, &jb);
        }
        CHECK(ja.count[0] == 1000 && ja.count[1] == 1000 && ja.count[2] == 1000 && ja.count[3] == 0);
        CHECK(jb.count[0] == 2000 && jb.count[1] == 2000 && jb.count[2] == 0);
    }
    g4_pool_free(a);
    g4_pool_free(b);
}

static void test_bad_and_alloc(void) {
    CHECK(g4_pool_new(0) == NULL);
    CHECK(g4_pool_new(-3) == NULL);
    CHECK(g4_pool_size(NULL) == 0);
    g4_pool_free(NULL);
    /* Allocation-failure sweep: every failing allocation gives NULL, no leak (ASan). */
    g4_alloc_fail_at(-1);
    g4_pool *p = g4_pool_new(4);
    long n_alloc = g4_alloc_fail_at(-1);
    g4_pool_free(p);
    CHECK(n_alloc >= 1);
    for (long k = 0; k < n_alloc; k++) {
        g4_alloc_fail_at(k);
        g4_pool *q = g4_pool_new(4);
        g4_alloc_fail_at(-1);
        CHECKF(q == NULL, "alloc %ld failing must fail g4_pool_new", k);
        g4_pool_free(q);
    }
}

/* A pool that idles long enough for its helpers to fall asleep must still wake up. */
static void test_sleep_wake(void) {
    g4_pool *p = g4_pool_new(3);
    CHECK(p != NULL);
    if (!p) return;
    bar_job j;
    memset(&j, 0, sizeof(j));
    for (int c = 0; c < 5; c++) {
        struct timespec ts = {0, 20 * 1000 * 1000}; /* 20 ms: well past the spin phase */
        nanosleep(&ts, NULL);
        g4_pool_run(p, bump_fn, &j);
    }
    CHECK(j.count[0] == 5 && j.count[1] == 5 && j.count[2] == 5);
    g4_pool_free(p);
}

int main(void) {
    test_split();
    test_sums();
    test_two_pools();
    test_sleep_wake();
    test_bad_and_alloc();
    test_rapid(1, 100000);
    test_rapid(2, 100000);
    test_rapid(3, 100000);
    test_rapid(8, 100000);
    return check_done("threads");
}
