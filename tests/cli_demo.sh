#!/usr/bin/env bash
# cli_demo.sh BIN -- the bundled demo model (models/gemma4-demo.gguf, trained by tools/train_demo.py) end to
# end: for every case in tests/data/demo/cases (the README's four examples, held-out-style pictures, speech,
# videos and text, a tool call through --tools, a tool result through --raw) `gemma4 run --greedy` must print
# exactly what PyTorch's greedy generate() gave on the same weights (the checkpoint rounded as the Q8_0 file
# is; tools/make_demo_examples.py).  Then: no -m means the bundled model; the model's own image budget (70
# soft tokens) is the default; a bad tool declaration is a clear error.  Run from the repo root.
# shellcheck disable=SC2015  # `cond && ok || bad` is safe: ok always succeeds
BIN=${1:?usage: tests/cli_demo.sh path/to/gemma4}
T=tests/tmp/cli_demo
. tests/harness.sh  # ok, bad, run, sanitizer_clean, expect_err, expect_ok
MODEL=models/gemma4-demo.gguf
[ -s "$MODEL" ] || { echo "FAIL: $MODEL missing"; exit 1; }
unset GEMMA4_MODEL

n=0
for a in tests/data/demo/cases/*.args; do
  base=${a%.args}; name=$(basename "$base")
  mapfile -t args <"$a"
  if [ -f "$base.stdin" ]; then
    timeout 120 "$BIN" run -m "$MODEL" --greedy -n 32 "${args[@]}" <"$base.stdin" >"$T/out" 2>"$T/err"; rc=$?
  else
    run run -m "$MODEL" --greedy -n 32 "${args[@]}"
  fi
  got=$(sed -e '/^$/d' "$T/out")   # a tool call is printed on its own line after an empty one
  want=$(cat "$base.want")
  if [ "$rc" -ne 0 ]; then bad "$name: exit $rc"
  elif ! sanitizer_clean; then bad "$name: sanitizer report"
  elif [ "$got" != "$want" ]; then bad "$name: gemma4 run printed '$got', PyTorch (same weights) '$want'"
  else ok; fi
  n=$((n + 1))
done
[ "$n" -ge 12 ] && ok || bad "only $n demo cases found"

# no -m: the bundled model, and a note saying so
mapfile -t args <models/examples/picture.args
run run --greedy -n 8 "${args[@]}"
[ "$rc" -eq 0 ] && grep -q "using the bundled demo model .*gemma4-demo.gguf" "$T/err" && ok ||
  bad "run without -m: exit $rc, or no note naming the bundled model"
[ "$(sed '/^$/d' "$T/out")" = "$(cat tests/data/demo/cases/00-picture.want)" ] && ok || bad "run without -m: answer differs"

# the image budget comes from the model (70), unless --image-tokens says otherwise
count() { run run --verbose-prompt -n 1 "$@" --image models/examples/picture.png -p "Count the dots."
          sed -n 's/^prompt ids (\([0-9]*\)).*/\1/p' "$T/err"; }
n_default=$(count); n70=$(count --image-tokens 70); n280=$(count --image-tokens 280)
[ -n "$n_default" ] && [ "$n_default" = "$n70" ] && [ "$n280" -gt "$n70" ] && ok ||
  bad "image budget: default prompt $n_default ids, with --image-tokens 70 $n70, with 280 $n280"

# a tool declaration without a function: a clear error
printf '[{"type":"function"}]' >"$T/tools.json"
expect_err "run --tools without function" "function" run -m "$MODEL" --tools "$T/tools.json" -p hi

# the same text cases through `gemma4 serve` (no -m: the bundled model) and the official openai client
. tests/openai_venv.sh
if openai_venv "$T/pip.log"; then
  "$BIN" serve --port 0 --parallel 2 2>"$T/serve.log" &
  spid=$!
  PORT=
  for _ in $(seq 300); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$T/serve.log" | sed 's/.*://')
    [ -n "$PORT" ] && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$PORT" ]; then
    timeout 300 "$VENV/bin/python" tests/demo_server_test.py "$PORT" tests/data/demo/cases.json >"$T/server.out" 2>&1 && ok ||
      { bad "serve: the demo cases through the openai client"; sed 's/^/    /' "$T/server.out" | tail -n 20; }
    grep -q "using the bundled demo model" "$T/serve.log" && ok || bad "serve without -m: no note naming the bundled model"
  else
    bad "serve without -m did not start: $(tail -n 3 "$T/serve.log")"
  fi
  kill -TERM $spid 2>/dev/null; wait $spid
  grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/serve.log" && bad "serve: sanitizer report" || ok
else
  echo "SKIP: openai==3.57.0 cannot be installed ($(tail -n 1 "$T/pip.log" 2>/dev/null)): the server part of the demo test"
fi

echo "cli_demo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
