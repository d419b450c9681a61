#!/usr/bin/env bash
# fetch-media.sh -- install the Debian packages whose files the media tests read in place:
#   python3-skimage  real photos (skimage/data/{astronaut,chelsea,coffee}.png)    tests/test_image.c
#   opencv-doc       real photos (examples/data/{baboon,HappyFish,aero1}.jpg)      tests/test_image.c
#   alsa-utils, espeak-ng, ffmpeg   speech/audio/video material for the audio and video tests
# Nothing is copied into the repository; a test skips (with a visible SKIP line) what is not installed.
# Offline or without sudo this only warns: the tests still build and pass without these files.
set -uo pipefail
need=()
for p in python3-skimage opencv-doc alsa-utils espeak-ng ffmpeg; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "fetch-media: all present"
  exit 0
fi
echo "fetch-media: installing ${need[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! $SUDO apt-get update -qq || \
   ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "fetch-media: WARNING: could not install ${need[*]} (offline?); the media tests will skip what needs them" >&2
fi
exit 0
