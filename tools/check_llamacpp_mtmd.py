#!/usr/bin/env python3
"""check_llamacpp_mtmd.py -- interop check: llama.cpp's own multimodal code (mtmd, via llama-cpp-python)
loads the text GGUF and the mmproj that `gemma4 convert --mmproj` writes, and its image embeddings equal
transformers' for the same pixels.

llama.cpp resizes images its own way (bilinear "smart resize" to 40..280 tokens, spec §2.3), so the image
here is 768x768: a multiple of 48 that both it and transformers' processor (budget 280 -> 256 patches)
leave at its size, which makes both engines embed identical patches.  The reference embeddings come from
transformers (Gemma4UnifiedModel.get_image_features on the processor's pixel values); gemma4.c equals
them (tests/test_mm.c).
Usage (a venv with llama-cpp-python >= 0.3.36 and one with torch/transformers):
  LLAMA_PY=/work/llamaenv/bin/python tools/check_llamacpp_mtmd.py build/gemma4
"""
import ctypes
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
MODEL = os.path.join(ROOT, "tests", "data", "mm", "tiny-mm")

LLAMA_SIDE = r'''
import ctypes, sys, numpy as np
import llama_cpp
from llama_cpp import mtmd_cpp as M
text, mmproj, img, out = sys.argv[1:5]
llama_cpp.llama_backend_init()
mp = llama_cpp.llama_model_default_params()
model = llama_cpp.llama_model_load_from_file(text.encode(), mp)
assert model, "llama.cpp cannot load the text GGUF"
cp = M.mtmd_context_params_default()
cp.use_gpu = False
cp.n_threads = 2
cp.warmup = False
ctx = M.mtmd_init_from_file(mmproj.encode(), model, cp)
assert ctx, "llama.cpp cannot load the mmproj"
bmp = M.mtmd_helper_bitmap_init_from_file(ctx, img.encode(), False)
assert bmp, "bitmap"
chunks = M.mtmd_input_chunks_init()
t = M.mtmd_input_text()
prompt = M.mtmd_default_marker()
t.text, t.text_len, t.add_special, t.parse_special = prompt, len(prompt), False, True
arr = (M.mtmd_bitmap_p_ctypes * 1)(bmp)
assert M.mtmd_tokenize(ctx, chunks, ctypes.byref(t), arr, 1) == 0, "tokenize"
n_embd = llama_cpp.llama_model_n_embd(model)
for i in range(M.mtmd_input_chunks_size(chunks)):
    ch = M.mtmd_input_chunks_get(chunks, i)
    if M.mtmd_input_chunk_get_type(ch) != 1:   # MTMD_INPUT_CHUNK_TYPE_IMAGE
        continue
    n = M.mtmd_input_chunk_get_n_tokens(ch)
    assert M.mtmd_encode_chunk(ctx, ch) == 0, "encode"
    e = M.mtmd_get_output_embd(ctx)
    np.ctypeslib.as_array(e, shape=(n * n_embd,)).astype("<f4").tofile(out)
    print(n, n_embd, "non-causal decode:", M.mtmd_decode_use_non_causal(ctx, ch))
'''


def main():
    gemma4 = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "gemma4")
    llama_py = os.environ.get("LLAMA_PY", "/work/llamaenv/bin/python")
    import numpy as np
    import torch
    from PIL import Image
    from transformers.models.gemma4_unified import Gemma4UnifiedForConditionalGeneration
    from transformers.models.gemma4_unified.image_processing_gemma4_unified import Gemma4UnifiedImageProcessor
    with tempfile.TemporaryDirectory() as d:
        text, mmproj, img, out = (os.path.join(d, n) for n in ("text.gguf", "mmproj.gguf", "img.png", "embd.f32"))
        subprocess.run([gemma4, "convert", MODEL, text, "--type", "f32", "--mmproj", mmproj], check=True)
        y, x = np.mgrid[0:768, 0:768]
        px = np.stack([x * 255 // 767, y * 255 // 767, ((x // 37 + y // 53) % 3) * 100], -1).astype(np.uint8)
        Image.fromarray(px, "RGB").save(img)
        r = subprocess.run([llama_py, "-c", LLAMA_SIDE, text, mmproj, img, out], capture_output=True, text=True)
        if r.returncode:
            print(r.stdout, r.stderr[-3000:])
            sys.exit("llama.cpp side failed")
        n, n_embd = (int(v) for v in r.stdout.split()[:2])
        ours = np.fromfile(out, dtype="<f4").reshape(n, n_embd)
        ip = Gemma4UnifiedImageProcessor()
        pix = ip(ip.fetch_images([img]), return_tensors="pt")
        model = Gemma4UnifiedForConditionalGeneration.from_pretrained(MODEL, dtype=torch.float32).eval()
        with torch.no_grad():
            ref = model.model.get_image_features(pix["pixel_values"], pix["image_position_ids"]).pooler_output[0].numpy()
        print("llama.cpp mtmd:", r.stdout.strip())
        print("tokens: llama.cpp", n, "transformers", ref.shape[0])
        if ref.shape == ours.shape:
            err = np.abs(ours - ref).max() / np.abs(ref).max()
            print(f"image embeddings from our mmproj in llama.cpp vs transformers: max rel err {err:.2e}")
            sys.exit(0 if err < 1e-4 else 1)
        sys.exit(1)


if __name__ == "__main__":
    main()
