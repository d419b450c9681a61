#!/usr/bin/env bash
# fetch-browser.sh -- install Debian's chromium + chromium-driver for the chat-page test (tests/cli_browser.sh).
# Offline or without sudo this only warns; the test then prints SKIP.
set -uo pipefail
need=()
for p in chromium chromium-driver; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! $SUDO apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; then
  echo "fetch-browser: WARNING: could not install ${need[*]}; tests/cli_browser.sh will skip" >&2
fi
exit 0
