#!/usr/bin/env python3
"""bench_llamacpp.py -- llama.cpp's pp/tg speed on a GGUF, through PyPI's llama-cpp-python.

Measures what `gemma4 bench` measures, the llama-bench way: pp N = one decode call of N tokens
into an empty KV cache (n_batch = n_ubatch = N), tg N = N single-token decode calls from an empty
cache; each repeated -r times after a short warm-up; prints tokens/s and the process's peak RSS.
Usage: python tools/bench_llamacpp.py MODEL.gguf [-p 512] [-n 128] [-t 2] [-r 3]
(pinned: llama-cpp-python==0.3.36, built from source by pip with its default CMake flags)
"""
import argparse
import random
import resource
import statistics
import time

import llama_cpp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("-r", type=int, default=3)
    a = ap.parse_args()
    t0 = time.time()
    llm = llama_cpp.Llama(a.model, n_ctx=max(a.p, a.n) + 16, n_batch=max(a.p, 1), n_ubatch=max(a.p, 1),
                          n_threads=a.t, n_threads_batch=a.t, logits_all=False, verbose=False, use_mmap=True)
    print(f"llama.cpp (llama-cpp-python {llama_cpp.__version__}) loaded in {time.time() - t0:.1f}s, "
          f"system info: {llama_cpp.llama_print_system_info().decode()}")
    vocab = llm.n_vocab()
    rng = random.Random(0)
    for name, npr, ngen in (("pp", a.p, 0), ("tg", 0, a.n)):
        if npr + ngen == 0:
            continue
        rates = []
        for rep in range(a.r + 1):
            llm.reset()
            toks = [rng.randrange(vocab) for _ in range(max(npr, ngen))]
            p_n, g_n = (min(npr, 8), min(ngen, 2)) if rep == 0 else (npr, ngen)  # short warm-up
            t = time.time()
            if p_n:
                llm.eval(toks[:p_n])
            for i in range(g_n):
                llm.eval([toks[i]])
            dt = time.time() - t
            if rep:  # first run is the warm-up
                rates.append((npr + ngen) / dt)
        sd = statistics.pstdev(rates) if len(rates) > 1 else 0.0
        print(f"| llama.cpp | {a.model} | {a.t} | {name}{npr + ngen} | {statistics.mean(rates):.2f} ± {sd:.2f} |")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
