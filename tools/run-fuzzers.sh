#!/usr/bin/env bash
# run-fuzzers.sh BUILD_DIR SECONDS -- run every fuzz_* binary for SECONDS on a scratch copy of its
# seeds; any crash fails the run (libFuzzer leaves crash-* files and exits non-zero).
set -euo pipefail
dir=$1; secs=$2; rc=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f"); short=${name#fuzz_}
  corpus=$(mktemp -d)
  for s in fuzz/seeds-$short tests/data/$short; do [ -d "$s" ] && cp -r "$s"/. "$corpus"/ 2>/dev/null || true; done
  echo "== $name: ${secs}s"
  if ! "$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$dir/$name-" "$corpus" \
       >"$dir/$name.log" 2>&1; then
    echo "FAIL: $name (see $dir/$name.log)"; tail -n 30 "$dir/$name.log"; rc=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$dir/$name.log" | tail -n 1 || true
  fi
  rm -rf "$corpus"
done
exit $rc
