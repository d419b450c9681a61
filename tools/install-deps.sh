#!/usr/bin/env bash
# install-deps.sh -- install the Debian packages gemma4.c needs to build and test, if missing.
# Build: gcc, make, cmake, cJSON.  Tests: clang + compiler-rt for the fuzz targets, python3 + venv to
# pip-install the real Gemma 3 270M weights (tools/fetch-gemma3.sh).  Media: FFmpeg's libraries, and
# libjpeg-turbo/libpng/libwebp (the decoders the reference uses for stills).
set -euo pipefail
need=()
for p in gcc make cmake pkg-config libcjson-dev clang libclang-rt-dev python3 python3-venv \
         libavformat-dev libavcodec-dev libswresample-dev libswscale-dev libavutil-dev \
         libjpeg62-turbo-dev libpng-dev libwebp-dev libmicrohttpd-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
