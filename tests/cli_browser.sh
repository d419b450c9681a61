#!/usr/bin/env bash
# cli_browser.sh BIN -- the chat page in headless Chromium (tests/browser_test.py): needs Debian's chromium and
# chromium-driver and selenium==4.51.0 from PyPI; prints "SKIP: ..." and passes when they cannot be had.
# The screenshot goes to tests/tmp/cli_browser/page.png.
BIN=${1:?usage: tests/cli_browser.sh path/to/gemma4}
T=tests/tmp/cli_browser
rm -rf "$T"; mkdir -p "$T"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "SKIP: chromium / chromium-driver not installed (apt-get install chromium chromium-driver)"; exit 0
fi
VENV=${G4_SELENIUM_VENV:-$HOME/.cache/gemma4c-selenium-venv}
if ! "$VENV/bin/python" -c 'import selenium, sys; sys.exit(selenium.__version__ != "4.51.0")' 2>/dev/null; then
  rm -rf "$VENV"
  if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "selenium==4.51.0"; } >"$T/pip.log" 2>&1; then
    echo "SKIP: cannot install selenium==4.51.0 ($(tail -n 1 "$T/pip.log"))"; exit 0
  fi
fi
"$BIN" serve -m tests/data/mm/tiny-mm --port 0 2>"$T/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
PORT=
for _ in $(seq 300); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$T/server.log" | sed 's/.*://'); [ -n "$PORT" ] && break; sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL: server did not start"; cat "$T/server.log"; exit 1; }
timeout 120 "$VENV/bin/python" tests/browser_test.py "$PORT" "$T/page.png"; rc=$?
kill $pid; wait $pid; src=$?
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/server.log" && { echo "FAIL: sanitizer report"; rc=1; }
[ "$src" -eq 0 ] || { echo "FAIL: server exit $src"; rc=1; }
exit $rc
