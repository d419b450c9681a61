#!/usr/bin/env python3
"""make_llamacpp_fixtures.py -- GGUF files written by llama.cpp's own converter, for tests/test_llamacpp_gguf.c.

Interop check "llama.cpp -> ours" (issue 2).  llama.cpp's convert_hf_to_gguf.py (with its conversion/ package
and gguf-py) ships inside the PyPI sdist of llama-cpp-python; this script fetches that sdist with pip, unpacks
the converter into a temp dir (nothing of it is committed), and runs it on copies of the tiny transformers
checkpoints in tests/data/model/:

    tiny-c --outtype f32   -> tests/data/llamacpp/tiny-c-f32.gguf   (reference: tests/data/model/tiny-c)
    tiny-c --outtype bf16  -> tests/data/llamacpp/tiny-c-bf16.gguf  (reference: tests/data/llamacpp/tiny-c-bf16/)
    tiny-a --outtype q8_0  -> tests/data/llamacpp/tiny-a-q8_0.gguf  (reference: tests/data/llamacpp/tiny-a-q8_0/)

The copies get what the converter needs and the fixtures lack:
  - a tokenizer: Gemma4Model.set_vocab reads tokenizer.json through gguf.LlamaHfVocab (a BPE model with
    byte_fallback and a Sequence decoder, loaded with transformers' AutoTokenizer) and gguf.SpecialVocab, and
    llama.cpp's "gemma4" tokenizer refuses a file without merges.  We build a minimal Gemma-style one with HF
    `tokenizers`: <pad> <eos> <bos> <unk> <mask> at ids 0..4 (GemmaTokenizer adds <mask> if absent), "▁",
    a..z, then two-character tokens with their merges, exactly vocab_size entries;
  - "moe_intermediate_size": null in text_config: Gemma4Model.set_gguf_parameters calls
    find_hparam(["expert_intermediate_size", "moe_intermediate_size"]) without optional=True, which raises
    on a gemma4_unified config saved by transformers 5.23 (it has neither key).
Neither changes a weight.

References (the oracle is transformers, never our engine):
  - f32: the converter copies the weights unchanged (checked here bit for bit against the safetensors), so
    the fixture's own expected.bin applies;
  - bf16 / q8_0: the GGUF's tensors are read back and dequantized with the pinned gguf package, loaded into
    the transformers model in place of the originals, and transformers' fp32 logits are recorded exactly like
    tools/make_model_fixtures.py does (prefill of the fixture's prompt + 64 greedy decode steps):
    <name>/expected.json + expected.bin.

Usage: /work/pyenv/bin/python tools/make_llamacpp_fixtures.py [--src DIR_WITH_convert_hf_to_gguf.py]
  (pinned: llama-cpp-python==0.3.36 sdist, tokenizers 0.23.3, transformers 5.23.0, torch 2.15.0, gguf 0.19.0)
"""
import argparse
import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import torch
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize
from safetensors.numpy import load_file
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import N_DECODE, margins, run_reference  # noqa: E402
from transformers.models.gemma4_unified import Gemma4UnifiedForConditionalGeneration  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = os.path.join(ROOT, "tests", "data", "model")
OUT = os.path.join(ROOT, "tests", "data", "llamacpp")
SDIST = "llama-cpp-python==0.3.36"
FIXTURES = [("tiny-c", "f32"), ("tiny-c", "bf16"), ("tiny-a", "q8_0")]

# GGUF (llama.cpp) tensor name -> HF name inside model.language_model.layers.N
LAYER = {
    "attn_norm.weight": "input_layernorm.weight", "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight", "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight", "attn_q_norm.weight": "self_attn.q_norm.weight",
    "attn_k_norm.weight": "self_attn.k_norm.weight", "post_attention_norm.weight": "post_attention_layernorm.weight",
    "ffn_norm.weight": "pre_feedforward_layernorm.weight", "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
    "post_ffw_norm.weight": "post_feedforward_layernorm.weight", "layer_output_scale.weight": "layer_scalar",
}
PFX = "model.language_model."


def hf_name(gguf_name):
    if gguf_name == "token_embd.weight":
        return PFX + "embed_tokens.weight"
    if gguf_name == "output_norm.weight":
        return PFX + "norm.weight"
    if gguf_name.startswith("blk."):
        _, n, rest = gguf_name.split(".", 2)
        return PFX + "layers.%s.%s" % (n, LAYER[rest])
    return None


def fetch_converter(tmp):
    """pip-downloads the llama-cpp-python sdist and unpacks llama.cpp's converter; returns its directory."""
    dl = os.path.join(tmp, "dl")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", dl, SDIST],
                   check=True)
    (tgz,) = glob.glob(os.path.join(dl, "llama_cpp_python-*.tar.gz"))
    want = ("/vendor/llama.cpp/convert_hf_to_gguf.py", "/vendor/llama.cpp/conversion/", "/vendor/llama.cpp/gguf-py/")
    with tarfile.open(tgz) as tf:
        members = [m for m in tf.getmembers() if any(w in m.name for w in want)]
        tf.extractall(os.path.join(tmp, "src"), members=members, filter="data")
    (conv,) = glob.glob(os.path.join(tmp, "src", "*", "vendor", "llama.cpp", "convert_hf_to_gguf.py"))
    return os.path.dirname(conv)


def write_tokenizer(d, n_vocab):
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    vocab = {t: i for i, t in enumerate(specials)}
    chars = ["\u2581"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    for ch in chars:
        vocab[ch] = len(vocab)
    merges = []
    for x in chars:
        for y in chars[1:]:
            if len(vocab) < n_vocab:
                vocab[x + y] = len(vocab)
                merges.append((x, y))
    assert len(vocab) == n_vocab, "vocab_size %d too large for the toy tokenizer" % n_vocab
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GemmaTokenizer", "bos_token": "<bos>", "eos_token": "<eos>",
                   "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>", "add_bos_token": True,
                   "add_eos_token": False}, f, indent=1)


def prepare_copy(name, tmp):
    src, d = os.path.join(MODELS, name), os.path.join(tmp, "hf", name)
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(src, "model.safetensors"), d)
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    cfg["text_config"].setdefault("moe_intermediate_size", None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    write_tokenizer(d, cfg["text_config"]["vocab_size"])
    return d


def convert(conv_dir, hf_dir, outtype, out):
    env = dict(os.environ, PYTHONPATH=os.path.join(conv_dir, "gguf-py"))
    subprocess.run([sys.executable, os.path.join(conv_dir, "convert_hf_to_gguf.py"), hf_dir, "--outtype", outtype,
                    "--outfile", out], check=True, env=env, cwd=conv_dir)


def read_gguf_weights(path):
    """HF name -> float32 array (dequantized with the pinned gguf package), plus rope_freqs."""
    r = GGUFReader(path)
    w, rope = {}, None
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape.tolist())]  # numpy order: [ne1, ne0]
        if t.tensor_type in (GGMLQuantizationType.F32,):
            a = np.array(t.data, dtype=np.float32).reshape(shape)
        else:
            a = dequantize(np.array(t.data), t.tensor_type).astype(np.float32).reshape(shape)
        if t.name == "rope_freqs.weight":
            rope = a
            continue
        n = hf_name(t.name)
        assert n is not None, "unexpected tensor %s in %s" % (t.name, path)
        w[n] = a
    return w, rope, {t.name: t.tensor_type.name for t in r.tensors}


def check_against_hf(name, w, exact):
    st = load_file(os.path.join(MODELS, name, "model.safetensors"))
    assert set(w) == set(st), "tensor sets differ: %s" % (set(w) ^ set(st))
    worst = 0.0
    for n, a in w.items():
        b = st[n].astype(np.float32).reshape(a.shape)
        if exact or a.ndim == 1 or a.shape[0] == 1:  # vectors stay f32 in every outtype
            assert np.array_equal(a, b), "%s: %s differs from the safetensors" % (name, n)
        else:
            worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    return worst


def make_reference(name, w, out_dir, gguf_path):
    """transformers' fp32 logits with the GGUF's (dequantized) weights in place of the originals."""
    src = os.path.join(MODELS, name)
    with open(os.path.join(src, "expected.json")) as f:
        base = json.load(f)
    model = Gemma4UnifiedForConditionalGeneration.from_pretrained(src, dtype=torch.float32).eval()
    state = dict(model.named_parameters())
    state.update(dict(model.named_buffers()))
    with torch.no_grad():
        for n, a in w.items():
            state[n].copy_(torch.from_numpy(a).reshape(state[n].shape))
    prompt = base["prompt"]
    logits, toks = run_reference(model, prompt)
    os.makedirs(out_dir, exist_ok=True)
    logits.astype("<f4").tofile(os.path.join(out_dir, "expected.bin"))
    meta = dict(prompt=prompt, greedy=toks, n_prefill=len(prompt), n_decode=N_DECODE, n_vocab=base["n_vocab"],
                gguf=os.path.relpath(gguf_path, ROOT),
                weights="dequantized from the GGUF with gguf " + importlib.metadata.version("gguf"),
                min_top2_margin=margins(logits), max_abs_logit=float(np.abs(logits).max()),
                versions=dict(torch=torch.__version__, transformers=__import__("transformers").__version__,
                              converter=SDIST))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", help="a llama.cpp checkout holding convert_hf_to_gguf.py (default: fetch the sdist)")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        conv = os.path.abspath(a.src) if a.src else fetch_converter(tmp)
        for name, outtype in FIXTURES:
            hf = prepare_copy(name, tmp)
            path = os.path.join(OUT, "%s-%s.gguf" % (name, outtype))
            convert(conv, hf, outtype, path)
            w, rope, types = read_gguf_weights(path)
            exact = outtype == "f32"
            q = check_against_hf(name, w, exact)
            msg = "%s: %d tensors (%s), rope_freqs %s" % (
                os.path.relpath(path, ROOT), len(types), ", ".join(sorted(set(types.values()))),
                None if rope is None else rope.tolist())
            if exact:
                print(msg + "; weights bit-identical to the safetensors -> reference tests/data/model/" + name,
                      file=sys.stderr)
            else:
                meta = make_reference(name, w, os.path.join(OUT, "%s-%s" % (name, outtype)), path)
                print(msg + "; max rel weight rounding %.2e; greedy %s" % (q, meta["greedy"][:12]), file=sys.stderr)


if __name__ == "__main__":
    main()
