#!/usr/bin/env python3
"""check_in_llamacpp.py -- do GGUF files written by our `gemma4 convert` load and run in llama.cpp?

Interop check "ours -> llama.cpp" (issue 2; the other direction is tests/test_llamacpp_gguf.c).
For each tiny fixture (tests/data/model/tiny-a, tiny-c) and each type (f32, q8_0):
  1. `gemma4 convert` the HF directory to GGUF (our writer, src/model/convert.c);
  2. load it with llama.cpp through llama-cpp-python's low-level C API (no tokenizer needed: our writer
     marks tokenizer.ggml.model = "none" and writes gemma4.vocab_size), CPU only, f32 KV cache (--kv f16 for
     llama.cpp's default), no flash attention, one thread;
  3. prefill the fixture's prompt with logits for every position, then decode the reference's greedy tokens
     one at a time (teacher forcing, as tests/test_forward.c does);
  4. compare llama.cpp's logits with transformers' fp32 logits (expected.bin): max |diff| / max |logit| per
     row, worst of the prefill and of the decode rows; argmax agreement with transformers' greedy tokens;
  5. free-running greedy generation: llama.cpp's tokens vs transformers' and vs `gemma4 run --greedy`;
  6. where tests/data/llamacpp/ holds the same model converted by llama.cpp's own converter
     (tools/make_llamacpp_fixtures.py: tiny-c f32, tiny-a q8_0), run that too: llama.cpp's logits on our
     file must be bit-identical to those on its own conversion.  For q8_0 also report the error against
     transformers on the dequantized weights (tests/data/llamacpp/tiny-a-q8_0/expected.bin).
Pass: every file loads, (6) holds, and the f32 files agree with transformers within --tol with the same
greedy tokens.  llama.cpp's CPU GELU goes through an fp16 lookup table, which alone makes it differ from
transformers by ~3e-3 of max|logit| on these models, so --tol defaults to 2e-2 (our engine: < 1e-4).

This is a tools script, not a ctest: CI has no llama-cpp-python.  Setup (pinned, a source build):
  python3 -m venv /work/llamaenv && /work/llamaenv/bin/pip install numpy llama-cpp-python==0.3.36
Usage (from the repo root, with the CLI built, e.g. cmake -B build-interop && make -C build-interop gemma4):
  /work/llamaenv/bin/python tools/check_in_llamacpp.py --gemma4 build-interop/gemma4 [--kv f32|f16] [--keep DIR]
Prints one JSON line per file; exit status 0 when all pass.  Measured results: docs/interop.md.
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import llama_cpp as L

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = ["tiny-a", "tiny-c"]
TYPES = ["f32", "q8_0"]
GGML_TYPE = {"f32": 0, "f16": 1}

_log_lines = []


@L.llama_log_callback
def _log_cb(level, text, user_data):
    _log_lines.append(text.decode("utf-8", "replace"))


def load_fixture(name):
    d = os.path.join(ROOT, "tests", "data", "model", name)
    with open(os.path.join(d, "expected.json")) as f:
        meta = json.load(f)
    V = meta["n_vocab"]
    ref = np.fromfile(os.path.join(d, "expected.bin"), dtype="<f4").reshape(-1, V)
    assert ref.shape[0] == len(meta["prompt"]) + len(meta["greedy"])
    return d, meta, ref


class LlamaModel:
    """A llama.cpp model + context on the CPU; raises with llama.cpp's log when loading fails."""

    def __init__(self, path, n_ctx, kv):
        _log_lines.clear()
        mp = L.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise RuntimeError("llama.cpp refused %s:\n%s" % (path, "".join(_log_lines[-30:])))
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = cp.n_ubatch = n_ctx
        cp.n_threads = cp.n_threads_batch = 1
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cp.type_k = cp.type_v = GGML_TYPE[kv]
        cp.no_perf = True
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            L.llama_model_free(self.model)
            raise RuntimeError("llama.cpp: no context for %s:\n%s" % (path, "".join(_log_lines[-30:])))
        self.pos = 0

    def eval(self, ids, all_logits):
        """Evaluates ids at the next positions; returns [len(ids) or 1, n_vocab] logits."""
        n = len(ids)
        b = L.llama_batch_init(n, 0, 1)
        try:
            for i, t in enumerate(ids):
                b.token[i] = t
                b.pos[i] = self.pos + i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = 1 if (all_logits or i == n - 1) else 0
            b.n_tokens = n
            rc = L.llama_decode(self.ctx, b)
            if rc != 0:
                raise RuntimeError("llama_decode returned %d:\n%s" % (rc, "".join(_log_lines[-20:])))
        finally:
            L.llama_batch_free(b)
        self.pos += n
        rows = range(n) if all_logits else [n - 1]
        out = np.empty((len(rows), self.n_vocab), dtype=np.float32)
        for r, i in enumerate(rows):
            p = L.llama_get_logits_ith(self.ctx, i)
            out[r] = np.ctypeslib.as_array(ctypes.cast(p, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))
        return out

    def reset(self):
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
        self.pos = 0

    def close(self):
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)


def rel_err(a, ref):
    """max |a - ref| / max |ref| per row"""
    return np.abs(a - ref).max(axis=1) / np.maximum(np.abs(ref).max(axis=1), 1e-30)


def our_greedy(gemma4, path, prompt, n):
    out = subprocess.run([gemma4, "run", "-m", path, "--ids", ",".join(map(str, prompt)), "-n", str(n), "--greedy",
                          "--ignore-eos", "-t", "1"], check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def teacher_forced(path, prompt, greedy, V, kv):
    """llama.cpp's logits: prefill (every position), then the reference's greedy tokens one by one;
    and its own free-running greedy tokens."""
    m = LlamaModel(path, n_ctx=256, kv=kv)
    try:
        assert m.n_vocab == V, "llama.cpp sees %d tokens, want %d" % (m.n_vocab, V)
        lg = np.concatenate([m.eval(prompt, True)] + [m.eval([t], False) for t in greedy], 0)
        m.reset()
        toks, x = [], m.eval(prompt, False)[0]
        for _ in range(len(greedy)):
            toks.append(int(x.argmax()))
            x = m.eval([toks[-1]], False)[0]
    finally:
        m.close()
    return lg, toks


def check(gemma4, name, typ, tmp, kv, tol):
    d, meta, ref = load_fixture(name)
    prompt, greedy = meta["prompt"], meta["greedy"]
    P, V = len(prompt), meta["n_vocab"]
    path = os.path.join(tmp, "%s-%s.gguf" % (name, typ))
    subprocess.run([gemma4, "convert", d, path, "--type", typ], check=True, capture_output=True)
    lg, toks = teacher_forced(path, prompt, greedy, V, kv)
    e = rel_err(lg, ref)
    top1 = float(np.mean(lg[P - 1:P - 1 + len(greedy)].argmax(1) == np.array(greedy)))
    ours = our_greedy(gemma4, path, prompt, len(greedy))
    r = dict(model=name, type=typ, kv=kv, prefill_rel_err=float(e[:P].max()), decode_rel_err=float(e[P:].max()),
             teacher_forced_top1=top1, greedy_llamacpp_eq_transformers=toks == greedy,
             greedy_llamacpp_eq_ours=toks == ours,
             first_divergence=next((i for i, (a, b) in enumerate(zip(toks, greedy)) if a != b), None))
    # the same model converted by llama.cpp's own converter (tools/make_llamacpp_fixtures.py), if committed
    theirs = os.path.join(ROOT, "tests", "data", "llamacpp", "%s-%s.gguf" % (name, typ))
    if os.path.exists(theirs):
        lg2, toks2 = teacher_forced(theirs, prompt, greedy, V, kv)
        r["logits_bitwise_eq_llamacpp_converted"] = bool(np.array_equal(lg, lg2)) and toks == toks2
    # quantized: transformers on the dequantized weights of llama.cpp's conversion (same bytes as ours)
    dq = os.path.join(ROOT, "tests", "data", "llamacpp", "%s-%s" % (name, typ), "expected.bin")
    if typ != "f32" and os.path.exists(dq):
        with open(os.path.join(os.path.dirname(dq), "expected.json")) as f:
            qm = json.load(f)
        if qm["prompt"] == prompt and qm["greedy"] == greedy:  # same teacher-forced tokens
            e2 = rel_err(lg, np.fromfile(dq, dtype="<f4").reshape(-1, V))
            r["vs_transformers_dequantized"] = [float(e2[:P].max()), float(e2[P:].max())]
    # must hold: the file loads, runs like llama.cpp's own conversion, and (f32) agrees with transformers
    # within tol (llama.cpp's own arithmetic, not the file, sets that error: see docs/interop.md)
    ok = r.get("logits_bitwise_eq_llamacpp_converted", True)
    if typ == "f32":
        ok = ok and r["prefill_rel_err"] < tol and r["decode_rel_err"] < tol and top1 == 1.0 and \
            r["greedy_llamacpp_eq_transformers"] and r["greedy_llamacpp_eq_ours"]
    return r, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gemma4", default=os.path.join(ROOT, "build-interop", "gemma4"), help="our CLI binary")
    ap.add_argument("--kv", choices=["f32", "f16"], default="f32", help="llama.cpp KV cache type")
    ap.add_argument("--tol", type=float, default=2e-2,
                    help="max relative logit error of f32 files vs transformers (llama.cpp's GELU table: ~6e-3)")
    ap.add_argument("--keep", help="write the GGUFs here instead of a temp dir")
    a = ap.parse_args()
    L.llama_log_set(_log_cb, ctypes.c_void_p())
    L.llama_backend_init()
    print("llama-cpp-python", L.__version__, file=sys.stderr)
    all_ok = True
    with tempfile.TemporaryDirectory() as tmp:
        out = a.keep or tmp
        os.makedirs(out, exist_ok=True)
        for name in FIXTURES:
            for typ in TYPES:
                try:
                    r, ok = check(a.gemma4, name, typ, out, a.kv, a.tol)
                except Exception as ex:  # report and go on with the next file
                    r, ok = dict(model=name, type=typ, error=str(ex)), False
                all_ok &= ok
                print(json.dumps(r))
    L.llama_backend_free()
    print("all ok" if all_ok else "FAILED", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
