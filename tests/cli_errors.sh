#!/usr/bin/env bash
# cli_errors.sh BIN -- the gemma4 command on bad input: a non-zero exit that is not a signal, and
# exactly one 'error: ...' line on stderr naming the problem; no sanitizer reports, no hangs.
# Then the good paths: --help, convert, info, and a greedy run whose ids must equal transformers'
# greedy tokens for tiny-c (tests/data/model/tiny-c/expected.json).  Run from the repo root.
# shellcheck disable=SC2015,SC2001  # `cond && ok || bad` is safe: ok always succeeds
BIN=${1:?usage: tests/cli_errors.sh path/to/gemma4}
T=tests/tmp/cli_errors
. tests/harness.sh  # ok, bad, run, sanitizer_clean, expect_err, expect_ok

SRC=tests/data/model/tiny-c
GOOD=$T/good.gguf

# ---- good paths (they also make the files the error cases need) ----
expect_ok "run --help" run --help
grep -q 'usage: gemma4 run' "$T/out" && ok || bad "run --help: no usage on stdout"
expect_ok "--help" --help
expect_ok "convert" convert "$SRC" "$GOOD" --type f32
[ -s "$GOOD" ] && ok || bad "convert: $GOOD not written"
expect_ok "info" info "$GOOD"
grep -q 'gemma4' "$T/out" && ok || bad "info: output lacks 'gemma4'"
expect_ok "info HF dir" info "$SRC"
grep -q 'model: gemma4' "$T/out" && ok || bad "info HF dir: output lacks 'model: gemma4'"
json=$(tr -d ' \n' <"$SRC/expected.json")
prompt=$(sed 's/.*"prompt":\[\([0-9,]*\)\].*/\1/' <<<"$json")
want=$(sed 's/.*"greedy":\[\([0-9,]*\)\].*/\1/' <<<"$json" | cut -d, -f1-8 | tr , ' ')
expect_ok "run greedy" run -m "$GOOD" --ids "$prompt" --greedy -n 8 --ignore-eos
got=$(tr -s ' \n' ' ' <"$T/out" | sed 's/^ //; s/ $//')
[ "$(wc -w <<<"$got")" -eq 8 ] && ok || bad "run greedy: printed '$got' (want 8 ids)"
[ "$got" = "$want" ] && ok || bad "run greedy: ids '$got', transformers' greedy '$want'"
expect_ok "run greedy HF dir" run -m "$SRC" --ids "$prompt" --greedy -n 8 --ignore-eos
got=$(tr -s ' \n' ' ' <"$T/out" | sed 's/^ //; s/ $//')
[ "$got" = "$want" ] && ok || bad "run greedy HF dir: ids '$got', want '$want'"

# ---- bad input ----
head -c 1000 "$GOOD" >"$T/trunc.gguf"
head -c $(( $(stat -c %s "$GOOD") - 100 )) "$GOOD" >"$T/trunc_data.gguf"
printf 'hello, I am not a model\n' >"$T/text.txt"
mkdir -p "$T/nocfg"
: >"$T/empty.gguf"

expect_err "no args" "command" 
expect_err "unknown command" "unknown command 'frobnicate'" frobnicate
export GEMMA4_MODEL=$T/missing.gguf  # no -m: the model comes from $GEMMA4_MODEL (else the bundled demo model)
expect_err "run without -m, GEMMA4_MODEL missing" "$T/missing.gguf" run --ids 1,2
grep -q "note: no -m given: using GEMMA4_MODEL=$T/missing.gguf" "$T/err" && ok || bad "run without -m: no note saying which model"
unset GEMMA4_MODEL
printf '[1,2' >"$T/tools-bad.json"
expect_err "run --tools invalid JSON" "invalid JSON" run -m "$GOOD" --tools "$T/tools-bad.json" -p hi
printf '{"type":"function"}' >"$T/tools-obj.json"
expect_err "run --tools not an array" "JSON array" run -m "$GOOD" --tools "$T/tools-obj.json" -p hi
expect_err "run --tools missing file" "$T/no-tools.json" run -m "$GOOD" --tools "$T/no-tools.json" -p hi
expect_err "run --tools with --ids" "--ids" run -m "$GOOD" --tools "$T/tools-obj.json" --ids 1,2
expect_err "run -m without value" "-m" run --ids 1 -m
expect_err "run without prompt" "--ids" run -m "$GOOD"
expect_err "run -p (no tokenizer)" "tokenizer" run -m "$GOOD" -p hello
expect_err "run missing file" "$T/missing.gguf" run -m "$T/missing.gguf" --ids 1
expect_err "run dir without config.json" "config.json" run -m "$T/nocfg" --ids 1
expect_err "run truncated header" "$T/trunc.gguf" run -m "$T/trunc.gguf" --ids 1
expect_err "run truncated data" "$T/trunc_data.gguf" run -m "$T/trunc_data.gguf" --ids 1
expect_err "run text file" "not a GGUF" run -m "$T/text.txt" --ids 1
expect_err "run empty file" "empty" run -m "$T/empty.gguf" --ids 1
expect_err "--ids 1,x" "--ids" run -m "$GOOD" --ids 1,x
expect_err "--ids empty" "--ids" run -m "$GOOD" --ids ""
expect_err "--ids -5" "--ids" run -m "$GOOD" --ids -5
expect_err "--ids 99999999999" "--ids" run -m "$GOOD" --ids 99999999999
expect_err "--ids 1,,2" "--ids" run -m "$GOOD" --ids 1,,2
expect_err "--ids >= vocab" "out of range" run -m "$GOOD" --ids 2,256
expect_err "-n -1" "-n" run -m "$GOOD" --ids 1 -n -1
expect_err "-n junk" "-n" run -m "$GOOD" --ids 1 -n 5x
expect_err "-t 0" "-t" run -m "$GOOD" --ids 1 -t 0
expect_err "--temp abc" "--temp" run -m "$GOOD" --ids 1 --temp abc
expect_err "--temp nan" "--temp" run -m "$GOOD" --ids 1 --temp nan
expect_err "--top-p 2" "--top-p" run -m "$GOOD" --ids 1 --top-p 2
expect_err "-c 1 longer prompt" "context" run -m "$GOOD" --ids 1,2,3 -c 1 -n 0
expect_err "-c beyond training" "context" run -m "$GOOD" --ids 1 -c 100000 -n 1
expect_err "unknown option" "--bogus" run -m "$GOOD" --ids 1 --bogus
expect_err "info missing file" "$T/missing.gguf" info "$T/missing.gguf"
expect_err "info truncated" "$T/trunc.gguf" info "$T/trunc.gguf"
expect_err "info no args" "info" info
expect_err "convert unknown type" "q9_9" convert "$SRC" "$T/x.gguf" --type q9_9
expect_err "convert unwritable" "/nonexistent/x.gguf" convert "$SRC" /nonexistent/x.gguf
expect_err "convert missing input" "$T/missing" convert "$T/missing" "$T/x.gguf"
expect_err "convert one arg" "convert" convert "$SRC"
expect_err "quantize 2 args" "quantize" quantize "$GOOD" "$T/q.gguf"
expect_err "quantize unknown type" "q3" quantize "$GOOD" "$T/q.gguf" q3
expect_err "bench without -m" "-m" bench
expect_err "bench -p junk" "-p" bench -m "$GOOD" -p x
expect_err "bench --membw -t 0" "-t" bench --membw -t 0
expect_err "run --kv-type q8" "--kv-type" run -m "$GOOD" --ids 2 --kv-type q8
# --membw: a positive bandwidth, and with -m the decode ceiling beside tg
expect_ok "bench --membw" bench --membw -t 1
grep -qE '^memory read bandwidth: [0-9]+\.[0-9] GB/s' "$T/out" && ! grep -q '^memory read bandwidth: 0\.0 ' "$T/out" \
  && ok || bad "bench --membw output: $(cat "$T/out")"
expect_ok "bench -m --membw" bench -m "$GOOD" --membw -p 4 -n 4 -t 1 -r 1
grep -qE '^\(ceiling at [0-9.]+ GB/s: [0-9.]+ t/s; tg reached [0-9]+ % of it\)' "$T/out" && ok || bad "bench ceiling line: $(cat "$T/out")"
# hand-made GGUFs without tensors: an mmproj-like file, and a uint64 key above 2^63 (info must list both)
printf 'GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x14\0\0\0\0\0\0\0general.architecture\x08\0\0\0\x04\0\0\0\0\0\0\0clip' >"$T/mmproj.gguf"
printf 'GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0big\x0a\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff' >"$T/u64.gguf"
expect_err "run on mmproj" "--mmproj" run -m "$T/mmproj.gguf" --ids 1
expect_ok "info mmproj" info "$T/mmproj.gguf"
grep -q '"clip"' "$T/out" && ok || bad "info mmproj: output lacks \"clip\""
expect_err "run without architecture" "general.architecture" run -m "$T/u64.gguf" --ids 1
expect_ok "info u64 key" info "$T/u64.gguf"
grep -q 'big  *(uint64 above 2^63)' "$T/out" && ok || bad "info u64 key: $(grep big "$T/out")"
# tiny-c with its embedding overwritten by NaNs (0xff bytes): loads, but no logit is a number
mkdir -p "$T/nan_hf"
cp "$SRC/config.json" "$SRC/model.safetensors" "$T/nan_hf/"
st=$T/nan_hf/model.safetensors
hl=$(od -An -t u8 -N8 "$st" | tr -d ' ')
offs=$(head -c $((8 + hl)) "$st" | tail -c "$hl" | grep -o '"model\.language_model\.embed_tokens\.weight": *{[^}]*}' |
       sed 's/.*"data_offsets": *\[ *\([0-9]*\) *, *\([0-9]*\) *\].*/\1 \2/')
read -r e0 e1 <<<"$offs"
if [ -n "$e1" ] && [ "$e1" -gt "$e0" ]; then
  head -c $((e1 - e0)) /dev/zero | tr '\0' '\377' | dd of="$st" bs=1 seek=$((8 + hl + e0)) conv=notrunc status=none
  ok
  expect_err "run NaN weights" "NaN" run -m "$T/nan_hf" --ids 2,5 -n 3
else bad "cannot find the embedding in $st (offsets '$offs')"; fi
[ ! -e /nonexistent/x.gguf.tmp ] && [ ! -e "$T/x.gguf" ] && ok || bad "failed converts left files behind"

echo "cli_errors: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
