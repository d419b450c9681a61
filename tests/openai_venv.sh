# openai_venv.sh -- sourced by the server tests: openai_venv LOG sets VENV to a venv with the pinned official
# openai client (made on first use under ~/.cache, or $G4_OPENAI_VENV) and returns non-zero, with pip's last
# line in LOG, when it cannot be installed.
openai_venv() {
  VENV=${G4_OPENAI_VENV:-$HOME/.cache/gemma4c-openai-venv}
  "$VENV/bin/python" -c 'import openai, sys; sys.exit(openai.__version__ != "3.57.0")' 2>/dev/null && return 0
  rm -rf "$VENV"
  { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "openai==3.57.0"; } >"$1" 2>&1
}
