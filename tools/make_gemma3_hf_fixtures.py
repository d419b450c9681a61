#!/usr/bin/env python3
"""make_gemma3_hf_fixtures.py -- a tiny random Gemma 3 text checkpoint (HF layout) and transformers' logits.

Builds Gemma3ForCausalLM (model_type gemma3_text) with a small config that exercises what differs from Gemma 4:
(1 + w) norms with random w around 0, query_pre_attn_scalar != head_dim (attention scale), two rope thetas,
linear rope scaling (factor 2) on full layers, a sliding window shorter than the prompt, a sliding last layer
(as in Gemma 3 1B/4B/27B), no V norm and no layer scalar.  Saves it with save_pretrained under tests/data/model/g3-tiny/ and records, in the same format as
tools/make_model_fixtures.py (so tests/test_forward.c picks it up):
  - prefill of a prompt 3x longer than the sliding window: logits at every position,
  - 64 greedy decode steps with the KV cache: logits at every step and the chosen tokens.
Output: config.json, model.safetensors, expected.json, expected.bin (float32 LE: prefill [T, V], decode [64, V]).
Usage: python tools/make_gemma3_hf_fixtures.py  (pinned versions: tools/requirements.txt)
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "model", "g3-tiny")
N_DECODE = 64
SEED = 7


def build():
    torch.manual_seed(SEED)
    S, F = "sliding_attention", "full_attention"
    cfg = Gemma3TextConfig(vocab_size=256, hidden_size=48, intermediate_size=64, num_hidden_layers=6,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
                           sliding_window=4, layer_types=[S, F, S, S, F, S], max_position_embeddings=4096,
                           rope_theta=1e6, rope_local_base_freq=1e4,
                           rope_scaling={"rope_type": "linear", "factor": 2.0},
                           final_logit_softcapping=None, attn_logit_softcapping=None)
    model = Gemma3ForCausalLM(cfg).eval()
    g = torch.Generator().manual_seed(SEED + 100)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(torch.rand(p.shape, generator=g) * 1.5 - 0.5)  # w in [-0.5, 1): used as 1 + w
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p.shape[-1] ** 0.5))
    return model, cfg


def run_reference(model, prompt):
    logits_all = []
    with torch.no_grad():
        out = model(input_ids=torch.tensor([prompt]), use_cache=True)
        logits_all.append(out.logits[0].float().numpy())
        past = out.past_key_values
        tok = int(out.logits[0, -1].argmax())
        toks = []
        for _ in range(N_DECODE):
            toks.append(tok)
            out = model(input_ids=torch.tensor([[tok]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits_all.append(out.logits[0].float().numpy())
            tok = int(out.logits[0, -1].argmax())
    return np.concatenate(logits_all, 0), toks


def margins(logits):
    s = np.sort(logits, axis=-1)
    return float(np.min(s[:, -1] - s[:, -2]))


def main():
    model, cfg = build()
    rng = np.random.default_rng(SEED)
    T = 3 * cfg.sliding_window + 7
    prompt = [2] + [int(x) for x in rng.integers(3, cfg.vocab_size, size=T - 1)]
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    p = os.path.join(OUT, "generation_config.json")
    if os.path.exists(p):
        os.remove(p)
    # reference: transformers loading the saved directory (what our engine reads), fp32
    ref = Gemma3ForCausalLM.from_pretrained(OUT, dtype=torch.float32).eval()
    rp = ref.config.rope_parameters
    assert rp["full_attention"]["rope_type"] == "linear" and rp["full_attention"]["factor"] == 2.0, rp
    logits, toks = run_reference(ref, prompt)
    ref64 = Gemma3ForCausalLM.from_pretrained(OUT, dtype=torch.float64).eval()
    with torch.no_grad():
        l64 = ref64(input_ids=torch.tensor([prompt])).logits[0].numpy()
    fp32_noise = float(np.abs(l64 - logits[:len(prompt)]).max() / np.abs(l64).max())
    logits.astype("<f4").tofile(os.path.join(OUT, "expected.bin"))
    meta = dict(prompt=prompt, greedy=toks, n_prefill=len(prompt), n_decode=N_DECODE, n_vocab=cfg.vocab_size,
                dtype="f32", min_top2_margin=margins(logits), max_abs_logit=float(np.abs(logits).max()),
                fp32_vs_fp64_prefill=fp32_noise,
                versions=dict(torch=torch.__version__, transformers=__import__("transformers").__version__))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("g3-tiny T", len(prompt), "fp32 noise", fp32_noise, "margin", meta["min_top2_margin"], "max|logit|",
          meta["max_abs_logit"], "greedy", toks[:12], file=sys.stderr)


if __name__ == "__main__":
    main()
