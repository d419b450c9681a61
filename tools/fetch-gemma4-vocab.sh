#!/usr/bin/env bash
# fetch-gemma4-vocab.sh -- the real Gemma 4 vocabulary for the tokenizer test: llama.cpp's
# models/ggml-vocab-gemma-4.gguf with its test inputs (.inp) and HF tokenizer ids (.out), taken from the PyPI
# sdist of llama-cpp-python (pinned) into ~/.cache/gemma4c-vocab.  Prints the folder.  Not fatal on failure:
# the test then skips, saying so.
set -uo pipefail
dir=${G4_VOCAB_DIR:-$HOME/.cache/gemma4c-vocab}
if [ ! -s "$dir/ggml-vocab-gemma-4.gguf.out" ]; then
  venv=${G4_PYENV:-$HOME/.cache/gemma4c-venv}
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >/dev/null 2>&1 || { echo "fetch-gemma4-vocab: no python3 venv" >&2; exit 1; }
  tmp=$(mktemp -d)
  "$venv/bin/pip" download -q --no-binary :all: --no-deps llama-cpp-python==0.3.36 -d "$tmp" >&2 ||
    { echo "fetch-gemma4-vocab: pip download failed" >&2; rm -rf "$tmp"; exit 1; }
  mkdir -p "$dir"
  tar xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp" --wildcards '*/models/ggml-vocab-gemma-4.gguf*' &&
    cp "$tmp"/llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-gemma-4.gguf* "$dir"/
  rm -rf "$tmp"
fi
[ -s "$dir/ggml-vocab-gemma-4.gguf.out" ] && echo "$dir"
