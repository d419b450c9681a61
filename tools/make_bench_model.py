#!/usr/bin/env python3
"""make_bench_model.py -- a mid-size random Gemma 4 checkpoint (Hugging Face layout, BF16) for server load
benchmarks: big enough that decoding reads its weights from memory (not cache), small enough for a 2-core
machine.  Text only; the tokenizer and chat template are the tiny multimodal fixture's (512 tokens).
Standard library only: BF16 values are random bits with a fixed small exponent (|w| in [2^-8, 2^-7)).
Not a test fixture and not committed: the numbers it gives are for docs/benchmarks.md.
Usage: python3 tools/make_bench_model.py OUT_DIR [--hidden 1024] [--ffn 4096] [--layers 6]
"""
import argparse
import json
import os
import shutil
import struct

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=1024)
ap.add_argument("--ffn", type=int, default=4096)
ap.add_argument("--layers", type=int, default=6)
args = ap.parse_args()
SRC = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "mm", "tiny-mm")
H, F, L = args.hidden, args.ffn, args.layers
HEADS, HD, KV, HD_FULL, KV_FULL = 8, 128, 4, 256, 1

cfg = json.load(open(os.path.join(SRC, "config.json")))
for k in ("vision_config", "audio_config"):
    cfg.pop(k, None)
tc = cfg["text_config"]
types = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(L)]
tc.update(hidden_size=H, intermediate_size=F, num_hidden_layers=L, num_attention_heads=HEADS, head_dim=HD,
          num_key_value_heads=KV, layer_types=types, sliding_window=512, dtype="bfloat16",
          per_layer_config={"%02d" % i: {"head_dim": HD_FULL, "num_key_value_heads": KV_FULL}
                            for i, t in enumerate(types) if t == "full_attention"})
cfg["dtype"] = "bfloat16"
os.makedirs(args.out, exist_ok=True)
json.dump(cfg, open(os.path.join(args.out, "config.json"), "w"), indent=2)
for f in os.listdir(SRC):
    if f.startswith("tokenizer") or f.endswith(".jinja") or f in ("chat_template.json", "generation_config.json"):
        shutil.copy(os.path.join(SRC, f), args.out)

tensors = [("model.language_model.embed_tokens.weight", [tc["vocab_size"], H], "BF16")]
for i, t in enumerate(types):
    hd, kv = (HD_FULL, KV_FULL) if t == "full_attention" else (HD, KV)
    p = "model.language_model.layers.%d." % i
    tensors += [(p + n, [H], "F32") for n in ("input_layernorm.weight", "post_attention_layernorm.weight",
                                             "pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight")]
    tensors += [(p + "layer_scalar", [1], "F32"), (p + "self_attn.q_norm.weight", [hd], "F32"),
                (p + "self_attn.k_norm.weight", [hd], "F32"),
                (p + "self_attn.q_proj.weight", [HEADS * hd, H], "BF16"), (p + "self_attn.k_proj.weight", [kv * hd, H], "BF16"),
                (p + "self_attn.o_proj.weight", [H, HEADS * hd], "BF16"), (p + "mlp.gate_proj.weight", [F, H], "BF16"),
                (p + "mlp.up_proj.weight", [F, H], "BF16"), (p + "mlp.down_proj.weight", [H, F], "BF16")]
    if t != "full_attention":
        tensors.append((p + "self_attn.v_proj.weight", [kv * hd, H], "BF16"))
tensors.append(("model.language_model.norm.weight", [H], "F32"))

header, off = {}, 0
for name, shape, dt in tensors:
    n = 1
    for d in shape:
        n *= d
    size = n * (2 if dt == "BF16" else 4)
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + size]}
    off += size
hb = json.dumps(header).encode()
hb += b" " * (-len(hb) % 8)
# the high byte of a BF16: sign bit random, exponent 0x77/0x78 -> |w| ~ 2^-8
hi = bytes((b & 0x80) | 0x3B for b in range(256))
with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb)
    for name, shape, dt in tensors:
        n = 1
        for d in shape:
            n *= d
        if dt == "F32":
            v = 1.0
            f.write(struct.pack("<%df" % n, *([v] * n)))
        else:
            b = bytearray(os.urandom(2 * n))
            b[1::2] = bytes(b[1::2]).translate(hi)
            f.write(b)
print("%s: %.1f M parameters, %.0f MB" % (args.out, off / 2e6, off / 1e6))
