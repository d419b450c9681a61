#!/usr/bin/env bash
# cli_media.sh BIN -- `gemma4 run` with bad media and bad media options: a non-zero exit that is not a
# signal, one 'error: ...' line naming the problem, nothing on stdout, no sanitizer report; then a few
# good runs (image, audio, video, --video-audio, --audio-chunk) that must exit 0.  Run from the repo root.
BIN=${1:?usage: tests/cli_media.sh path/to/gemma4}
T=tests/tmp/cli_media
M=tests/data/mm/tiny-mm
. tests/harness.sh  # ok, bad, run, sanitizer_clean, expect_err, expect_ok

# bad files
head -c 3000 tests/data/mm/cat.png > "$T/trunc.png"
: > "$T/empty.png"
head -c 4096 /dev/urandom > "$T/random.jpg"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\xc3\x50\0\0\xc3\x50\x08\x02\0\0\0\x6f\x4e\x07\x2a' > "$T/huge.png"  # 50000 x 50000
head -c 20000 tests/data/mm/clip.mp4 > "$T/trunc.mp4"
python3 - "$T/long.wav" <<'PY' 2>/dev/null || cp tests/data/mm/speech.wav "$T/long.wav"
import struct, sys
n = 16000 * 31  # 31 s of silence at 16 kHz, 16-bit mono
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + 2 * n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16))
    f.write(b"data" + struct.pack("<I", 2 * n) + b"\0" * (2 * n))
PY

expect_err "truncated PNG"      "trunc.png"          run -m $M --image "$T/trunc.png" -p x -n 1
expect_err "empty image"        "empty.png"          run -m $M --image "$T/empty.png" -p x -n 1
expect_err "random bytes"       "random.jpg"         run -m $M --image "$T/random.jpg" -p x -n 1
expect_err "50000x50000 PNG"    "huge.png"           run -m $M --image "$T/huge.png" -p x -n 1
expect_err "missing image"      "no such file"       run -m $M --image "$T/nope.png" -p x -n 1
expect_err "audio as image"     "speech.wav"         run -m $M --image tests/data/mm/speech.wav -p x -n 1
expect_err "image as audio"     "no audio stream"    run -m $M --audio tests/data/mm/cat.png -p x -n 1
expect_err "audio as video"     "no video stream"    run -m $M --video tests/data/mm/speech.wav -p x -n 1
expect_err "truncated video"    "trunc.mp4"          run -m $M --video "$T/trunc.mp4" -p x -n 1
expect_err "31 s of audio"      "--audio-chunk"      run -m $M --audio "$T/long.wav" -p x -n 1
expect_err "unsupported codec"  "unsupported_codec"  run -m $M --audio tests/data/media/av/unsupported_codec.wav -p x -n 1
expect_err "corrupt audio"      "corrupt"            run -m $M --audio tests/data/media/av/corrupt.bin -p x -n 1
expect_err "text-only model"    "no vision embedder" run -m tests/data/model/tiny-a --image tests/data/mm/cat.png -p x -n 1
expect_err "text-only, audio"   "no audio embedder"  run -m tests/data/model/tiny-a --audio tests/data/mm/speech.wav -p x -n 1
expect_err "too many markers"   "marker"             run -m $M --image tests/data/mm/cat.png -p '<image><image>' -n 1
expect_err "media with --ids"   "--ids"              run -m $M --image tests/data/mm/cat.png --ids 2,3 -n 1
expect_err "bad --image-tokens" "--image-tokens"     run -m $M --image tests/data/mm/cat.png --image-tokens 100 -p x
expect_err "bad --fps"          "--fps"              run -m $M --video tests/data/mm/clip.mp4 --fps 0 -p x
expect_err "--image w/o file"   "--image"            run -m $M -p x --image
"$BIN" convert $M "$T/text.gguf" --mmproj "$T/mmproj.gguf" >/dev/null 2>&1
expect_err "mmproj as -m"       "--mmproj"           run -m "$T/mmproj.gguf" -p x -n 1
expect_err "model as --mmproj"  "projector"          run -m "$T/text.gguf" --mmproj "$T/text.gguf" -p x -n 1
expect_err "no embedders"       "--mmproj FILE"      run -m "$T/text.gguf" --image tests/data/mm/cat.png -p x -n 1
expect_err "block > context"    "context"            run -m $M --image tests/data/mm/cat.png --image-tokens 1120 -c 512 -p x -n 1

# good runs
expect_ok "image"               run -m $M --image tests/data/mm/cat.png -p "What?" -n 2 --greedy
expect_ok "text GGUF + mmproj"  run -m "$T/text.gguf" --mmproj "$T/mmproj.gguf" --image tests/data/mm/alpha.png -p x -n 2
expect_ok "audio marker"        run -m $M --audio tests/data/mm/speech.mp3 -p "Say <audio> again" -n 2
expect_ok "video + its sound"   run -m $M --video tests/data/mm/clip.mp4 --video-audio --max-frames 4 -p x -n 2
expect_ok "video --fps"         run -m $M --video tests/data/mm/clip.mp4 --fps 1 -p x -n 2
expect_ok "31 s, chunked"       run -m $M --audio "$T/long.wav" --audio-chunk -p x -n 1 -c 1024
expect_ok "raw + media"         run -m $M --raw --image tests/data/mm/tiny20.png --image-tokens 70 -p "<image> x" -n 1

echo "cli_media: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
