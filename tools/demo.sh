#!/usr/bin/env bash
# demo.sh BUILD_DIR -- the main job on the bundled default model: the demo model (models/gemma4-demo.gguf, a
# 15M-parameter Gemma 4 of the 12B's exact architecture, trained by tools/train_demo.py on a toy world)
# answers the bundled examples in models/examples: a picture question, a spoken-word transcription, a short
# video question, and a question that needs a tool.  The pixels and the waveform go straight into the
# decoder, as in the 12B.  No -m is given: gemma4 run uses the bundled model and says so.
set -euo pipefail
b=${1:-build}
cd "$(dirname "$0")/.."
unset GEMMA4_MODEL
"$b"/gemma4 info models/gemma4-demo.gguf | sed -n '/^model:/,/^memory:/{/^memory:/!p}' || true
echo
first=1
for name in picture speech video weather; do
  mapfile -t args <models/examples/$name.args
  q=${args[-1]}
  input=$( [ "${args[0]}" = "--tools" ] && echo "tools: ${args[1]}" || echo "${args[1]}" )
  echo "== $name ($input)"
  echo "   question: $q"
  if [ $first = 1 ]; then
    ans=$("$b"/gemma4 run --greedy -n 32 "${args[@]}" | sed '/^$/d')   # the note about the bundled model shows once
    first=0
  else
    ans=$("$b"/gemma4 run --greedy -n 32 "${args[@]}" 2>/dev/null | sed '/^$/d')
  fi
  echo "   gemma4:   $ans"
  echo "   right:    $(cat models/examples/$name.truth)"
done
echo
echo "Try your own: $b/gemma4 run --image FILE -p 'How many dots are there?'   (or --audio, --video, --tools; serve for the API)"
