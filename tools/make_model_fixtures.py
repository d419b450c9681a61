#!/usr/bin/env python3
"""make_model_fixtures.py -- tiny random Gemma 4 (gemma4_unified) checkpoints and transformers' logits.

For each config below: build Gemma4UnifiedForConditionalGeneration with a 12B-shaped text config
(5 sliding : 1 full layers, 16:8:1 head ratio, full-layer head dim 2x, no v_proj on full layers, layer_scalar
!= 1, random norm weights), save it with save_pretrained (real tensor names and layout) under
tests/data/model/<name>/, then record transformers' fp32 logits:
  - prefill of a prompt 3x longer than the sliding window: logits at every position,
  - 64 greedy decode steps with the KV cache: logits at every step and the chosen tokens.
Variants "-bf16"/"-f16" save the same model rounded to that dtype; their expected logits come from an fp32 run
on the rounded weights (what our engine computes: f32 math on bf16/f16 weights).

Output per model: config.json, model.safetensors, expected.json (prompt, greedy tokens, shapes, margins),
expected.bin (float32 little-endian: prefill [T, V] then decode [n_decode, V]).
Usage: python tools/make_model_fixtures.py  (pinned versions: tools/requirements.txt)
"""
import copy
import json
import os
import sys

import numpy as np
import torch
from transformers.models.gemma4_unified import (Gemma4UnifiedConfig, Gemma4UnifiedForConditionalGeneration,
                                                Gemma4UnifiedTextConfig)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "model")
N_DECODE = 64

CONFIGS = [
    # name, seed, text config kwargs, dtypes to save
    ("tiny-a", 1, dict(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=12,
                       num_attention_heads=16, num_key_value_heads=8, num_global_key_value_heads=1,
                       head_dim=16, global_head_dim=32, sliding_window=8), ["f32", "bf16", "f16"]),
    ("tiny-b", 2, dict(vocab_size=384, hidden_size=48, intermediate_size=80, num_hidden_layers=13,
                       num_attention_heads=16, num_key_value_heads=8, num_global_key_value_heads=1,
                       head_dim=8, global_head_dim=16, sliding_window=5), ["f32"]),
    # k_eq_v off (v_proj everywhere), 2 kv heads on full layers via num_key_value_heads, other thetas
    ("tiny-c", 3, dict(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=6,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=8, global_head_dim=16,
                       sliding_window=4, attention_k_eq_v=False,
                       rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 500.0},
                                        "full_attention": {"rope_type": "proportional",
                                                           "partial_rotary_factor": 0.5, "rope_theta": 20000.0}}),
     ["f32"]),
]


def build(seed, kw):
    torch.manual_seed(seed)
    base = dict(attention_k_eq_v=True, final_logit_softcapping=30.0, max_position_embeddings=4096)
    base.update(kw)
    tc = Gemma4UnifiedTextConfig(**base)
    cfg = Gemma4UnifiedConfig(text_config=tc)
    model = Gemma4UnifiedForConditionalGeneration(cfg).eval()
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(torch.rand(p.shape, generator=g) * 1.5 + 0.5)  # random in [0.5, 2): far from 1
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p.shape[-1] ** 0.5))
        for name, b in model.named_buffers():
            if name.endswith("layer_scalar"):
                b.copy_(torch.rand(b.shape, generator=g) * 0.8 + 0.6)
    return model, tc


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
    for name, seed, kw, dtypes in CONFIGS:
        model, tc = build(seed, kw)
        rng = np.random.default_rng(seed)
        T = 3 * tc.sliding_window + 7
        prompt = [2] + [int(x) for x in rng.integers(3, tc.vocab_size, size=T - 1)]
        for dt in dtypes:
            tdt = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dt]
            d = os.path.join(OUT, name if dt == "f32" else f"{name}-{dt}")
            os.makedirs(d, exist_ok=True)
            m = copy.deepcopy(model).to(tdt)
            m.save_pretrained(d, safe_serialization=True)
            for extra in ("generation_config.json",):
                p = os.path.join(d, extra)
                if os.path.exists(p):
                    os.remove(p)
            # reference: transformers loading the saved directory, fp32 math on the (rounded) weights
            # (converting the in-memory model would also round the non-persistent RoPE inv_freq buffers)
            ref = Gemma4UnifiedForConditionalGeneration.from_pretrained(d, dtype=torch.float32).eval()
            logits, toks = run_reference(ref, prompt)
            ref64 = Gemma4UnifiedForConditionalGeneration.from_pretrained(d, dtype=torch.float64).eval()
            with torch.no_grad():
                l64 = ref64(input_ids=torch.tensor([prompt])).logits[0].numpy()
            fp32_noise = float(np.abs(l64 - logits[:len(prompt)]).max() / np.abs(l64).max())
            logits.astype("<f4").tofile(os.path.join(d, "expected.bin"))
            meta = dict(prompt=prompt, greedy=toks, n_prefill=len(prompt), n_decode=N_DECODE,
                        n_vocab=tc.vocab_size, dtype=dt, min_top2_margin=margins(logits),
                        max_abs_logit=float(np.abs(logits).max()), fp32_vs_fp64_prefill=fp32_noise,
                        versions=dict(torch=torch.__version__, transformers=__import__("transformers").__version__))
            with open(os.path.join(d, "expected.json"), "w") as f:
                json.dump(meta, f, indent=1)
            print(name, dt, "T", len(prompt), "fp32 noise", fp32_noise, "margin", meta["min_top2_margin"], "max|logit|",
                  meta["max_abs_logit"], "greedy", toks[:12], file=sys.stderr)


if __name__ == "__main__":
    main()
