#!/usr/bin/env bash
# check_llamacpp_mmproj.sh -- interop check: an mmproj written by llama.cpp's own converter
# (convert_hf_to_gguf.py --mmproj, class Gemma4UnifiedVisionAudioModel) from our tiny multimodal fixture
# loads in gemma4.c beside our text GGUF and gives transformers' logits (tests/test_mm with
# G4_LLAMACPP_MMPROJ).  Usage: tools/check_llamacpp_mmproj.sh LLAMA_CPP_SRC [PYTHON] [BUILD_DIR]
# (LLAMA_CPP_SRC: a llama.cpp checkout with convert_hf_to_gguf.py; PYTHON: one with torch + numpy).
set -euo pipefail
src=${1:?llama.cpp source dir}; py=${2:-python3}; build=${3:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r tests/data/mm/tiny-mm "$tmp/model"
# the converter reads image_mean/std from the preprocessor config, which save_pretrained of a bare model lacks
echo '{"image_mean":[0,0,0],"image_std":[1,1,1],"patch_size":16,"pooling_kernel_size":3,"max_soft_tokens":280}' \
  > "$tmp/model/preprocessor_config.json"
"$py" "$src/convert_hf_to_gguf.py" "$tmp/model" --mmproj --outfile "$tmp/mmproj.gguf" --outtype f32 >/dev/null 2>&1
G4_LLAMACPP_MMPROJ="$tmp/mmproj.gguf" "$build/test_mm"
