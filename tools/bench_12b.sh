#!/usr/bin/env bash
# bench_12b.sh GEMMA4_BIN OUT_LOG [TYPES...] -- the docs/benchmarks.md run: gemma4.c and llama.cpp on the same
# random-weight 12B-shape GGUFs (tools/make_random_12b.py), pp512 and tg128, 2 threads, one engine at a time.
# Needs /work/bench/g4-12b-<type>.gguf and a venv with llama-cpp-python==0.3.36 at $LLAMA_PY.
set -u
bin=$1; log=$2; shift 2
types=${*:-q4_0 q8_0}
dir=${BENCH_DIR:-/work/bench}; py=${LLAMA_PY:-/work/llamaenv/bin/python}; reps=${REPS:-1}
{
  echo "== $(date -u) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  for t in $types; do
    f=$dir/g4-12b-$t.gguf
    echo "-- gemma4.c $t"; "$bin" bench -m "$f" -p 512 -n 128 -t 2 -r "$reps"
    echo "-- llama.cpp $t"; "$py" tools/bench_llamacpp.py "$f" -p 512 -n 128 -t 2 -r "$reps" 2>/dev/null
  done
  echo "== done $(date -u)"
} >>"$log" 2>&1
