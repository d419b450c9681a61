/* membw.h -- the machine's memory read bandwidth as our thread pool sees it: the ceiling for
 * batch-1 decoding, which reads every weight once per token (`gemma4 bench --membw`). */
#ifndef G4_MEMBW_H
#define G4_MEMBW_H

#include <stddef.h>

#include "common.h"

/* Read a buffer of `bytes` (>= 64 MiB so caches don't count; touched once first) with n_threads
 * threads, each its own contiguous slice, reps times; *gbps = the best pass in GB/s (1e9 bytes/s). */
g4_status g4_membw_read(int n_threads, size_t bytes, int reps, double *gbps, char *err);

#endif
