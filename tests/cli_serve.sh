#!/usr/bin/env bash
# cli_serve.sh BIN -- `gemma4 serve` end to end: start two servers on free loopback ports with the tiny
# multimodal model (A: --parallel 2 --max-body 2000000 --media-dir; B: --api-key --max-queue 0
# --read-timeout 2), wait
# for /health, run tests/server_test.py with the pinned official openai client, then stop both with
# SIGTERM.  Fails if a test fails, a server did not exit 0 on SIGTERM, or a sanitizer said anything in
# a server's log.  Prints "SKIP: ..." and passes when the openai package cannot be installed.
BIN=${1:?usage: tests/cli_serve.sh path/to/gemma4}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
T=tests/tmp/cli_serve
M=tests/data/mm/tiny-mm
rm -rf "$T"; mkdir -p "$T/media"
cp tests/data/mm/cat.png "$T/media/"

. tests/openai_venv.sh
if ! openai_venv "$T/pip.log"; then
  echo "SKIP: cannot install openai==3.57.0 into $VENV ($(tail -n 1 "$T/pip.log"))"
  exit 0
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT

# start NAME ARGS...: runs the server on port 0, sets PORT from its "listening on" line
start() {
  local name=$1; shift
  "$BIN" serve -m "$M" --port 0 "$@" 2>"$T/$name.log" &
  pids+=($!)
  PORT=
  for _ in $(seq 600); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$T/$name.log" | sed 's/.*://')
    [ -n "$PORT" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ] || ! curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then
    echo "FAIL: server $name did not start"; sed 's/^/    /' "$T/$name.log" | head -n 20; exit 1
  fi
}

start A --parallel 2 --max-body 2000000 --media-dir "$T/media"
PA=$PORT; PID_A=${pids[-1]}
start B --api-key s3cret --max-queue 0 --parallel 1 --read-timeout 2
PB=$PORT; PID_B=${pids[-1]}

"$VENV/bin/python" tests/server_test.py --port "$PA" --port-key "$PB" --bin "$BIN" --model "$M" --media-dir "$T/media"
rc=$?

for p in $PID_A $PID_B; do kill -TERM "$p" 2>/dev/null; done
for name in A B; do
  p=$([ $name = A ] && echo $PID_A || echo $PID_B)
  for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "FAIL: server $name did not stop on SIGTERM"; rc=1; continue; fi
  wait "$p"; src=$?
  [ "$src" -eq 0 ] || { echo "FAIL: server $name exited $src"; rc=1; }
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/$name.log"; then
    echo "FAIL: sanitizer report in server $name's log:"; grep -A20 -m1 -E 'Sanitizer|runtime error' "$T/$name.log"; rc=1
  fi
done
pids=()
[ $rc -eq 0 ] && echo "cli_serve: ok"
exit $rc
