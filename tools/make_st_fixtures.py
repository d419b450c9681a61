#!/usr/bin/env python3
"""make_st_fixtures.py -- write the fixtures of tests/test_safetensors.c and tests/test_config.c.

safetensors (tests/data/safetensors/): small files written by the `safetensors` package itself
(F32/F16/BF16, a 0-d, 3-d and 4-d tensor, an empty tensor, metadata), a two-shard set with its
model.safetensors.index.json, one file per unsupported dtype, and *.expected text files with
each tensor's dtype, shape (outermost first, as safetensors lists it) and values as float32,
decoded by torch.  Format, one tensor per line:
    tensor <name> <dtype> <file> <ndim> <dims...> <nvals> <values...>

config (tests/data/config/): config.json files written by transformers (save_pretrained, or a
hand-written hub-style dict that transformers then loads), and for each <case>.expected the
values transformers itself reads back: the text config's fields, per-layer-type head dims and
kv heads via per_layer_config[type], the number of rotated dims of a full layer counted from
the rotary embedding's inv_freq, and bos/eos/pad as GenerationConfig.from_model_config sees
them.  Format: "<key> <value...>" per line.

Run from the repo root: /work/pyenv/bin/python tools/make_st_fixtures.py
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ST_DIR = os.path.join(ROOT, "tests", "data", "safetensors")
CFG_DIR = os.path.join(ROOT, "tests", "data", "config")

DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def fmt(v):
    return repr(float(v))  # float32 values are exact in a Python float


def expected_lines(tensors, fname):
    out = []
    for name in sorted(tensors):
        t = tensors[name]
        vals = t.to(torch.float32).reshape(-1).tolist()
        shape = list(t.shape)
        out.append(" ".join(["tensor", name, DTYPE_NAME[t.dtype], fname, str(len(shape))]
                            + [str(d) for d in shape] + [str(len(vals))] + [fmt(v) for v in vals]))
    return out


def make_safetensors():
    if os.path.isdir(ST_DIR):
        shutil.rmtree(ST_DIR)
    os.makedirs(os.path.join(ST_DIR, "single"))
    os.makedirs(os.path.join(ST_DIR, "sharded"))
    g = torch.Generator().manual_seed(1234)

    def rnd(shape, dtype):
        return (torch.randn(shape, generator=g) * 3).to(dtype)

    single = {
        "model.w_f32": rnd((3, 5), torch.float32),
        "model.w_f16": rnd((4, 2), torch.float16),
        "model.w_bf16_3d": rnd((2, 3, 4), torch.bfloat16),
        "model.t4d": rnd((2, 1, 3, 2), torch.float16),
        "model.scalar": torch.tensor(3.25, dtype=torch.float32),
        "model.vec_bf16": rnd((7,), torch.bfloat16),
        "model.empty": torch.zeros((0, 3), dtype=torch.float32),
        "model.layers.0.odd_f16": rnd((3,), torch.float16),  # 6 bytes: later tensors unaligned
    }
    save_file(single, os.path.join(ST_DIR, "single", "model.safetensors"),
              metadata={"format": "pt"})  # one key: Rust HashMap order would vary
    with open(os.path.join(ST_DIR, "single.expected"), "w") as f:
        f.write("\n".join(expected_lines(single, "model.safetensors")) + "\n")

    shard1 = {
        "model.embed.weight": rnd((6, 4), torch.bfloat16),
        "model.layers.0.norm.weight": rnd((4,), torch.float32),
    }
    shard2 = {
        "model.layers.1.norm.weight": rnd((4,), torch.float32),
        "model.layers.1.proj.weight": rnd((2, 4), torch.float16),
        "model.layers.1.scalar": rnd((1,), torch.bfloat16),
    }
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map = {}
    total = 0
    for tens, fname in zip((shard1, shard2), names):
        save_file(tens, os.path.join(ST_DIR, "sharded", fname), metadata={"format": "pt"})
        for k, v in tens.items():
            weight_map[k] = fname
            total += v.numel() * v.element_size()
    with open(os.path.join(ST_DIR, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f,
                  indent=2)
    with open(os.path.join(ST_DIR, "sharded.expected"), "w") as f:
        f.write("\n".join(expected_lines(shard1, names[0]) + expected_lines(shard2, names[1])) + "\n")

    # One file per dtype we refuse: the C test expects G4_EUNSUPPORTED naming the dtype.
    bad = {"i64": torch.int64, "f64": torch.float64, "u8": torch.uint8, "bool": torch.bool,
           "i32": torch.int32, "f8_e4m3": torch.float8_e4m3fn}
    for tag, dt in bad.items():
        save_file({"bad.tensor": torch.zeros((2, 2), dtype=dt)}, os.path.join(ST_DIR, f"dtype_{tag}.safetensors"))


# ---------------------------------------------------------------- config.json fixtures

def cfg_classes():
    from transformers.models.gemma4 import configuration_gemma4 as g4
    from transformers.models.gemma4_unified import configuration_gemma4_unified as g4u
    return g4, g4u


def load_config(path):
    """Load config.json exactly as transformers would, by its model_type."""
    g4, g4u = cfg_classes()
    with open(path) as f:
        d = json.load(f)
    cls = {"gemma4_unified": g4u.Gemma4UnifiedConfig, "gemma4": g4.Gemma4Config,
           "gemma4_unified_text": g4u.Gemma4UnifiedTextConfig, "gemma4_text": g4.Gemma4TextConfig}
    mt = d.get("model_type")
    if mt is None:
        mt = "gemma4_unified" if "text_config" in d else "gemma4_unified_text"
    return cls[mt].from_dict(d)


def rotary_for(tc):
    from transformers.models.gemma4.modeling_gemma4 import Gemma4TextRotaryEmbedding
    from transformers.models.gemma4_unified.modeling_gemma4_unified import Gemma4UnifiedTextRotaryEmbedding
    cls = Gemma4TextRotaryEmbedding if tc.model_type == "gemma4_text" else Gemma4UnifiedTextRotaryEmbedding
    return cls(tc)


def expected_for(path):
    from transformers import GenerationConfig
    cfg = load_config(path)
    tc = cfg.get_text_config(decoder=True)
    lt = list(tc.layer_types)
    full = [1 if t == "full_attention" else 0 for t in lt]
    e = []

    def put(k, *v):
        e.append(" ".join([k] + [str(x) for x in v]))

    put("n_vocab", tc.vocab_size)
    put("d_model", tc.hidden_size)
    put("n_layer", tc.num_hidden_layers)
    put("n_head", tc.num_attention_heads)
    put("d_ff", tc.intermediate_size)
    sl = tc.per_layer_config["sliding_attention"]
    fl = tc.per_layer_config["full_attention"]
    put("n_kv_swa", sl.num_key_value_heads)
    put("n_kv_full", fl.num_key_value_heads)
    put("d_head_swa", sl.head_dim)
    put("d_head_full", fl.head_dim)
    # also check every layer against its type (the C side requires uniform layer types)
    for i in range(tc.num_hidden_layers):
        lc = tc.per_layer_config[i]
        ref = fl if full[i] else sl
        assert (lc.head_dim, lc.num_key_value_heads) == (ref.head_dim, ref.num_key_value_heads)
    put("swa", tc.sliding_window)
    put("is_full", *full)
    put("k_eq_v", int(bool(tc.attention_k_eq_v)))
    rp = tc.rope_parameters
    put("rope_theta_swa", fmt(rp["sliding_attention"]["rope_theta"]))
    put("rope_theta_full", fmt(rp["full_attention"]["rope_theta"]))
    rot = rotary_for(tc)
    inv_full = rot.full_attention_inv_freq
    inv_swa = rot.sliding_attention_inv_freq
    put("rope_dims_full", 2 * int((inv_full != 0).sum()))
    put("rope_dims_swa", 2 * int((inv_swa != 0).sum()))
    put("rms_eps", fmt(tc.rms_norm_eps))
    put("final_softcap", fmt(tc.final_logit_softcapping or 0.0))
    put("n_ctx_train", tc.max_position_embeddings)
    gen = GenerationConfig.from_model_config(cfg)
    put("bos_id", gen.bos_token_id if gen.bos_token_id is not None else "default")
    put("pad_id", gen.pad_token_id if gen.pad_token_id is not None else "default")
    eos = gen.eos_token_id
    if isinstance(eos, int):
        eos = [eos]
    put("eos_ids", *(eos if eos else ["default"]))
    return "\n".join(e) + "\n"


def save_cfg(cfg, case):
    tmp = os.path.join(CFG_DIR, "_tmp")
    cfg.save_pretrained(tmp)
    shutil.move(os.path.join(tmp, "config.json"), os.path.join(CFG_DIR, case + ".json"))
    shutil.rmtree(tmp)


def write_json(d, case):
    with open(os.path.join(CFG_DIR, case + ".json"), "w") as f:
        json.dump(d, f, indent=2)


def make_configs():
    g4, g4u = cfg_classes()
    if os.path.isdir(CFG_DIR):
        shutil.rmtree(CFG_DIR)
    os.makedirs(CFG_DIR)

    # 1. a small model with the 12B's structure, written by save_pretrained (per_layer_config form)
    small = dict(vocab_size=512, hidden_size=64, intermediate_size=256, num_hidden_layers=12,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=16, global_head_dim=32,
                 num_global_key_value_heads=1, attention_k_eq_v=True, final_logit_softcapping=30.0,
                 sliding_window=16, max_position_embeddings=4096, eos_token_id=[1, 106])
    save_cfg(g4u.Gemma4UnifiedConfig(text_config=g4u.Gemma4UnifiedTextConfig(**small)), "small12")
    # 2. every default
    save_cfg(g4u.Gemma4UnifiedConfig(), "defaults")
    # 3. the 12B (shared/spec/gemma4-12b.md 1.1: HF-CONV _VARIANTS["gemma-4-12b"])
    b12 = dict(vocab_size=262144, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48,
               num_attention_heads=16, num_key_value_heads=8, head_dim=256, global_head_dim=512,
               num_global_key_value_heads=1, attention_k_eq_v=True, final_logit_softcapping=30.0,
               sliding_window=1024, max_position_embeddings=262144, rms_norm_eps=1e-6,
               use_bidirectional_attention="vision", eos_token_id=[1, 106])
    save_cfg(g4u.Gemma4UnifiedConfig(text_config=g4u.Gemma4UnifiedTextConfig(**b12),
                                     vision_config=g4u.Gemma4UnifiedVisionConfig(),
                                     audio_config=g4u.Gemma4UnifiedAudioConfig()), "gemma4_12b")
    # 4. the 12B as older transformers wrote it: global_head_dim / num_global_key_value_heads keys,
    #    no per_layer_config; eos list also at the top level
    text = dict(b12, model_type="gemma4_unified_text", hidden_activation="gelu_pytorch_tanh",
                rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                 "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25,
                                                    "rope_theta": 1000000.0}},
                eos_token_id=1)
    write_json({"architectures": ["Gemma4UnifiedForConditionalGeneration"], "model_type": "gemma4_unified",
                "eos_token_id": [1, 106], "text_config": text, "vision_config": None, "audio_config": None,
                "tie_word_embeddings": True}, "gemma4_12b_legacy")
    # 5. the composite with nothing but its type
    write_json({"model_type": "gemma4_unified"}, "minimal_unified")
    # 6. a sparse bare text config: 7 layers -> full at 5 and (forced) 6
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 7, "hidden_size": 128,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 1000},
               "sparse_text")
    # 7. no model_type, no fields at all: Gemma4UnifiedTextConfig defaults
    write_json({}, "empty")
    # 8. a bare text config written by save_pretrained
    tc = g4u.Gemma4UnifiedTextConfig(vocab_size=300, hidden_size=48, intermediate_size=96, num_hidden_layers=6,
                                     num_attention_heads=6, num_key_value_heads=3, head_dim=8, global_head_dim=16,
                                     sliding_window=8, final_logit_softcapping=15.0, bos_token_id=5,
                                     eos_token_id=7, pad_token_id=9)
    save_cfg(tc, "bare_text")
    # 9. explicit layer_types ending in a sliding layer (forced full, and given global_head_dim)
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 5, "hidden_size": 64,
                "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "global_head_dim": 32,
                "layer_types": ["full_attention", "sliding_attention", "full_attention", "sliding_attention",
                                "sliding_attention"]}, "layer_types")
    # 9b. a legacy "attention" entry is full attention but misses the global_head_dim override in
    #     transformers; with global_head_dim == head_dim that does not matter
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 4, "hidden_size": 64,
                "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32, "global_head_dim": 32,
                "layer_types": ["sliding_attention", "attention", "sliding_attention", "attention"]},
               "layer_types_legacy")
    # 10. the older gemma4 family (its own defaults: window 512, 131072 positions) without PLE
    g4tc = g4.Gemma4TextConfig(vocab_size=400, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                               num_attention_heads=2, num_key_value_heads=1, head_dim=16, global_head_dim=16,
                               hidden_size_per_layer_input=0)
    save_cfg(g4.Gemma4Config(text_config=g4tc), "old_gemma4")
    # 11. num_global_key_value_heads without attention_k_eq_v is ignored by transformers
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 6, "hidden_size": 64,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "global_head_dim": 32,
                "num_global_key_value_heads": 1, "attention_k_eq_v": False}, "kv_no_override")
    # 12. rope: full layers "default" (partial factor ignored), sliding "proportional" with factor 1
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 6, "hidden_size": 64,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "global_head_dim": 32,
                "rope_parameters": {
                    "sliding_attention": {"rope_type": "proportional", "partial_rotary_factor": 1.0,
                                          "rope_theta": 5000},
                    "full_attention": {"rope_type": "default", "partial_rotary_factor": 0.5,
                                       "rope_theta": 500000.0}}}, "rope_variants")
    # 13. per_layer_config null: global_head_dim is then ignored
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 6, "hidden_size": 64,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "global_head_dim": 64,
                "per_layer_config": None}, "plc_null")
    # 14. per_layer_config with keys in mixed forms ("5" and "11"), one redundant override, and an
    #     explicit override of the sliding value on a sliding layer
    write_json({"model_type": "gemma4_unified_text", "num_hidden_layers": 12, "hidden_size": 64,
                "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "attention_k_eq_v": True,
                "per_layer_config": {"5": {"head_dim": 32, "num_key_value_heads": 1},
                                     "11": {"head_dim": 32, "num_key_value_heads": 1},
                                     "0": {"head_dim": 16}}}, "plc_custom")
    # 15. partial factor 0.5 and other thetas, eos/bos/pad ints, softcap as an int
    write_json({"model_type": "gemma4_unified", "text_config": {
        "num_hidden_layers": 6, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 4,
        "head_dim": 16, "global_head_dim": 64, "final_logit_softcapping": 50.0, "rms_norm_eps": 1e-5,
        "bos_token_id": 3, "eos_token_id": 4, "pad_token_id": None, "vocab_size": 100,
        "rope_parameters": {"sliding_attention": {"rope_theta": 20000.0},
                            "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.5,
                                               "rope_theta": 2e6}}}}, "misc")

    for fn in sorted(os.listdir(CFG_DIR)):
        if fn.endswith(".json"):
            case = fn[:-5]
            with open(os.path.join(CFG_DIR, case + ".expected"), "w") as f:
                f.write(expected_for(os.path.join(CFG_DIR, fn)))
            print("config", case)


if __name__ == "__main__":
    what = sys.argv[1:] or ["st", "config"]
    if "st" in what:
        make_safetensors()
    if "config" in what:
        make_configs()
