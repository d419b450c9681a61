#!/usr/bin/env python3
"""bench_llamacpp_media.py -- llama.cpp's figure beside `gemma4 bench --media`: through llama-cpp-python's
mtmd, the time to embed one image (mtmd_encode_chunk) and to prefill its soft tokens into an empty context
(mtmd_helper_decode_image_chunk: llama_decode of the embeddings, non-causal), on a text GGUF + mmproj.
The image is 768x768, which llama.cpp (max 280 tokens) and transformers both leave at 16x16 = 256 patches.
Usage: /work/llamaenv/bin/python tools/bench_llamacpp_media.py MODEL.gguf MMPROJ.gguf [THREADS]
"""
import ctypes
import os
import sys
import tempfile
import time

import numpy as np
import llama_cpp
from llama_cpp import mtmd_cpp as M


def main():
    text, mmproj = sys.argv[1:3]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    llama_cpp.llama_backend_init()
    model = llama_cpp.llama_model_load_from_file(text.encode(), llama_cpp.llama_model_default_params())
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx, cp.n_batch, cp.n_ubatch, cp.n_threads, cp.n_threads_batch = 1024, 512, 512, threads, threads
    lctx = llama_cpp.llama_init_from_model(model, cp)
    mp = M.mtmd_context_params_default()
    mp.use_gpu, mp.n_threads, mp.warmup = False, threads, False
    ctx = M.mtmd_init_from_file(mmproj.encode(), model, mp)
    assert model and lctx and ctx, "llama.cpp could not load the files"
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "img.ppm")
        rng = np.random.default_rng(0)
        px = rng.integers(0, 256, size=(768, 768, 3), dtype=np.uint8)
        with open(img, "wb") as f:
            f.write(b"P6\n768 768\n255\n" + px.tobytes())
        bmp = M.mtmd_helper_bitmap_init_from_file(ctx, img.encode(), False)
    chunks = M.mtmd_input_chunks_init()
    t = M.mtmd_input_text()
    marker = M.mtmd_default_marker()
    t.text, t.text_len, t.add_special, t.parse_special = marker, len(marker), False, True
    assert M.mtmd_tokenize(ctx, chunks, ctypes.byref(t), (M.mtmd_bitmap_p_ctypes * 1)(bmp), 1) == 0
    for i in range(M.mtmd_input_chunks_size(chunks)):
        ch = M.mtmd_input_chunks_get(chunks, i)
        if M.mtmd_input_chunk_get_type(ch) != 1:
            continue
        n = M.mtmd_input_chunk_get_n_tokens(ch)
        t0 = time.time()
        assert M.mtmd_encode_chunk(ctx, ch) == 0
        t1 = time.time()
        new_past = llama_cpp.llama_pos(0)
        embd = M.mtmd_get_output_embd(ctx)
        assert M.mtmd_helper_decode_image_chunk(ctx, lctx, ch, embd, 0, 0, 512, ctypes.byref(new_past), ctypes.cast(None, M.mtmd_helper_post_decode_callback), None) == 0
        t2 = time.time()
        print(f"| image (llama.cpp mtmd) | {n} soft tokens | embed {1e3 * (t1 - t0):.1f} ms | "
              f"prefill {1e3 * (t2 - t1):.1f} ms ({n / (t2 - t1):.1f} t/s) |")


if __name__ == "__main__":
    main()
