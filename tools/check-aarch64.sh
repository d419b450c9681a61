#!/usr/bin/env bash
# check-aarch64.sh [OUT_DIR] -- cross-build the core library (src/core, src/core/cpu: quant kernels,
# GEMM, threads, integer dots) for aarch64 with the NEON kernels and run test_quant, test_gemm, test_threads
# and test_qdot
# under qemu-user, from the repo root (test_quant reads tests/data/quant).  Static binaries, so
# qemu needs no arm64 sysroot.  Only core: the model/media code would need arm64 FFmpeg/cJSON.
# Needs (Debian): apt-get install gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross
# Timings under qemu mean nothing; this checks correctness and which kernels the dispatch picked.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-aarch64}
cc=${CC_AARCH64:-aarch64-linux-gnu-gcc}
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
command -v "$cc" >/dev/null || { echo "check-aarch64: $cc not found (apt-get install gcc-aarch64-linux-gnu)"; exit 2; }
[ -n "$qemu" ] || { echo "check-aarch64: qemu-aarch64 not found (apt-get install qemu-user)"; exit 2; }
mkdir -p "$out"
flags=(-std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -Iinclude -Isrc -Itests)
core=(src/core/*.c src/core/cpu/*.c)
echo "== $("$cc" --version | head -n 1)"
rc=0
for t in quant gemm threads qdot; do
  "$cc" "${flags[@]}" "${core[@]}" "tests/test_$t.c" -o "$out/test_$t" -lm -lpthread
done
# the NEON kernels must be in the binary (not only compiled to nothing)
nneon=$(aarch64-linux-gnu-nm "$out/test_quant" 2>/dev/null | grep -c ' T g4_dot_.*_neon$' || true)
echo "== NEON dot kernels linked into test_quant: $nneon (want 9)"
[ "$nneon" = 9 ] || rc=1
for t in quant gemm threads qdot; do
  echo "== qemu-aarch64 test_$t"
  log="$out/test_$t.log"
  if "$qemu" "$out/test_$t" >"$log" 2>&1; then tail -n 3 "$log"; else echo "FAIL: test_$t"; tail -n 30 "$log"; rc=1; fi
done
isa=$(sed -n 's/^quant kernels: //p' "$out/test_quant.log")
echo "== dispatch picked: quant kernels '${isa:-?}', gemm: neon 4x4 tile (G4_HAVE_NEON_KERNELS on aarch64)"
[ "$isa" = neon ] || { echo "FAIL: want quant kernels 'neon'"; rc=1; }
# qemu's default CPU has SDOT: the packed x8 kernels must have run, not been skipped
if grep -q "no SIMD x8 kernel" "$out/test_qdot.log"; then echo "FAIL: test_qdot ran no SDOT x8 kernel"; rc=1; fi
[ $rc = 0 ] && echo "check-aarch64: OK" || echo "check-aarch64: FAILED"
exit $rc
