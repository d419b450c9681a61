#!/usr/bin/env python3
"""make_random_12b.py -- a GGUF of the real Gemma 4 12B shape with random weights, for benchmarks.

The real weights can't be downloaded here, but speed and memory depend only on shapes and types.
Writes llama.cpp's `gemma4` layout (shared/spec/gemma4-12b.md §7) with random but valid blocks:
  --type q4_0 (~6.7 GB), q8_0 (~12.7 GB), q4_k_m (Q4_K matrices, Q6_K for ffn_down/attn_v/token_embd).
A placeholder SentencePiece-style vocabulary (tokenizer.ggml.model = "llama") lets llama.cpp load it.
Streams tensor by tensor, so memory stays small.  Do not commit the output.
--mmproj FILE also writes a random llama.cpp-style mmproj (f16, projectors gemma4uv + gemma4ua) of the real
embedder shapes (6912 -> D patch dense, [2, 1120, D] positions, D -> D and 640 -> D projections) for
`gemma4 bench --media`.
Usage: python tools/make_random_12b.py OUT.gguf --type q4_0 [--layers 48] [--mmproj MMPROJ.gguf]
"""
import argparse

import numpy as np
import gguf

SHAPES = {  # d_model, d_ff, heads, vocab, head dim sliding/full, kv heads sliding/full, window
    "12b": (3840, 15360, 16, 262144, 256, 512, 8, 1, 1024),
    # a small model whose rows are all multiples of 256 (K-quant super-blocks), for tests
    "tiny": (256, 512, 16, 512, 16, 32, 8, 1, 4),
}

BLOCK = {  # elements per block, bytes per block, offsets of f16 scale fields
    "q4_0": (32, 18, [0]), "q8_0": (32, 34, [0]),
    "q4_k": (256, 144, [0, 2]), "q6_k": (256, 210, [208]),
}
GT = {"q4_0": gguf.GGMLQuantizationType.Q4_0, "q8_0": gguf.GGMLQuantizationType.Q8_0,
      "q4_k": gguf.GGMLQuantizationType.Q4_K, "q6_k": gguf.GGMLQuantizationType.Q6_K}


def random_blocks(rng, qtype, n_elems, scale):
    be, bb, scale_offs = BLOCK[qtype]
    nb = n_elems // be
    raw = np.frombuffer(rng.bytes(nb * bb), dtype=np.uint8).reshape(nb, bb).copy()
    d = (rng.random(nb, dtype=np.float32) * scale + scale * 0.1).astype(np.float16).view(np.uint8).reshape(nb, 2)
    for off in scale_offs:
        raw[:, off:off + 2] = d
    if qtype == "q4_k":
        raw[:, 4:16] &= 0x3F  # keep 6-bit scales/mins modest
    return raw.reshape(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--type", default="q4_0", choices=["q4_0", "q8_0", "q4_k_m"])
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shape", default="12b", choices=sorted(SHAPES))
    ap.add_argument("--mmproj", help="also write a random mmproj of the real embedder shapes here")
    a = ap.parse_args()
    global D, FF, NH, V, HD_SWA, HD_FULL, KV_SWA, KV_FULL
    D, FF, NH, V, HD_SWA, HD_FULL, KV_SWA, KV_FULL, WINDOW = SHAPES[a.shape]
    rng = np.random.default_rng(a.seed)
    L = a.layers
    full = [(i + 1) % 6 == 0 or i == L - 1 for i in range(L)]

    def qt(name):
        if a.type != "q4_k_m":
            return a.type
        return "q6_k" if any(s in name for s in ("ffn_down", "attn_v", "token_embd")) else "q4_k"

    tensors = []  # (name, ggml ne list, kind)
    tensors.append(("token_embd.weight", [D, V], "mat"))
    tensors.append(("output_norm.weight", [D], "norm"))
    tensors.append(("rope_freqs.weight", [HD_FULL // 2], "rope"))
    for i in range(L):
        hd, kv = (HD_FULL, KV_FULL) if full[i] else (HD_SWA, KV_SWA)
        p = f"blk.{i}."
        tensors += [(p + "attn_norm.weight", [D], "norm"), (p + "attn_q.weight", [D, NH * hd], "mat"),
                    (p + "attn_k.weight", [D, kv * hd], "mat")]
        if not full[i]:
            tensors.append((p + "attn_v.weight", [D, kv * hd], "mat"))
        tensors += [(p + "attn_output.weight", [NH * hd, D], "mat"), (p + "attn_q_norm.weight", [hd], "norm"),
                    (p + "attn_k_norm.weight", [hd], "norm"), (p + "post_attention_norm.weight", [D], "norm"),
                    (p + "ffn_norm.weight", [D], "norm"), (p + "ffn_gate.weight", [D, FF], "mat"),
                    (p + "ffn_up.weight", [D, FF], "mat"), (p + "ffn_down.weight", [FF, D], "mat"),
                    (p + "post_ffw_norm.weight", [D], "norm"), (p + "layer_output_scale.weight", [1], "scale")]

    w = gguf.GGUFWriter(a.out, "gemma4")
    w.add_name(f"gemma4-{a.shape}-random-{a.type}")
    w.add_context_length(262144)
    w.add_embedding_length(D)
    w.add_block_count(L)
    w.add_feed_forward_length(FF)
    w.add_head_count(NH)
    w.add_head_count_kv([KV_FULL if f else KV_SWA for f in full])
    w.add_key_length(HD_FULL)
    w.add_value_length(HD_FULL)
    w.add_uint32("gemma4.attention.key_length_swa", HD_SWA)
    w.add_uint32("gemma4.attention.value_length_swa", HD_SWA)
    w.add_rope_dimension_count(HD_FULL)
    w.add_uint32("gemma4.rope.dimension_count_swa", HD_SWA)
    w.add_rope_freq_base(1e6)
    w.add_float32("gemma4.rope.freq_base_swa", 1e4)
    w.add_sliding_window(WINDOW)
    w.add_array("gemma4.attention.sliding_window_pattern", [not f for f in full])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_float32("gemma4.final_logit_softcapping", 30.0)
    w.add_uint32("gemma4.attention.shared_kv_layers", 0)
    w.add_uint32("gemma4.embedding_length_per_layer_input", 0)
    w.add_tokenizer_model("llama")
    toks = [f"<t{i}>" for i in range(V)]
    types = [3] * 4 + [1] * (V - 4)
    # the multimodal markers at their real ids, as control tokens: llama.cpp's mtmd looks them up by text
    for i, t in ((255999, "<|image>"), (256000, "<|audio>"), (258880, "<|image|>"), (258881, "<|audio|>"),
                 (258882, "<image|>"), (258883, "<audio|>"), (258884, "<|video|>")):
        if i < V:
            toks[i], types[i] = t, 3
    w.add_token_list(toks)
    w.add_token_scores([0.0] * V)
    w.add_token_types(types)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)

    for name, ne, kind in tensors:
        n = int(np.prod(ne))
        if kind == "mat":
            t = qt(name)
            be, bb, _ = BLOCK[t]
            byte_shape = [ne[1], ne[0] // be * bb]  # gguf-py takes uint8 data as [rows, bytes per row]
            w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), n // be * bb, raw_dtype=GT[t])
        else:
            w.add_tensor_info(name, list(reversed(ne)), np.dtype(np.float32), n * 4, raw_dtype=gguf.GGMLQuantizationType.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, ne, kind in tensors:
        n = int(np.prod(ne))
        if kind == "mat":
            data = random_blocks(rng, qt(name), n, 0.02 if "token_embd" not in name else 0.05)
        elif kind == "norm":
            data = (rng.random(n, dtype=np.float32) + 0.5)
            if a.shape == "tiny" and "attn_norm" in name:
                data *= 4  # decisive logits in the tiny model
        elif kind == "rope":
            rot = HD_FULL // 8  # partial_rotary_factor 0.25: a quarter of the dims rotate
            data = np.array([1.0] * rot + [1e30] * (n - rot), dtype=np.float32)
        else:
            data = np.array([0.9], dtype=np.float32)
        w.write_tensor_data(data)
    w.close()
    if a.mmproj:
        write_mmproj(a.mmproj, rng)


def write_mmproj(path, rng):
    """Random embedders in llama.cpp's mmproj layout (shared/spec/gemma4-12b.md §7), f16 matrices."""
    P, POS, A = 6912, 1120, 640
    w = gguf.GGUFWriter(path, "clip")
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.has_audio_encoder", True)
    w.add_string("clip.vision.projector_type", "gemma4uv")
    w.add_string("clip.audio.projector_type", "gemma4ua")
    for k, v in (("clip.vision.patch_size", 16), ("clip.vision.embedding_length", D), ("clip.vision.projection_dim", D),
                 ("clip.vision.image_size", 224), ("clip.vision.feed_forward_length", 0), ("clip.vision.block_count", 0),
                 ("clip.vision.attention.head_count", 0), ("clip.audio.embedding_length", A),
                 ("clip.audio.num_mel_bins", A), ("clip.audio.projection_dim", D), ("clip.audio.feed_forward_length", 0),
                 ("clip.audio.block_count", 0), ("clip.audio.attention.head_count", 0)):
        w.add_uint32(k, v)  # (llama.cpp's clip loader wants the layer keys even for an encoder-free projector)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    w.add_float32("clip.audio.attention.layer_norm_epsilon", 1e-6)
    w.add_array("clip.vision.image_mean", [0.0, 0.0, 0.0])
    w.add_array("clip.vision.image_std", [1.0, 1.0, 1.0])
    f16 = lambda *shape: (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)
    f32 = lambda n: (rng.random(n, dtype=np.float32) + 0.5)
    w.add_tensor("v.patch_norm.1.weight", f32(P))
    w.add_tensor("v.patch_norm.1.bias", f32(P) - 1)
    w.add_tensor("v.patch_embd.weight", f16(D, P))
    w.add_tensor("v.patch_embd.bias", f32(D) - 1)
    w.add_tensor("v.patch_norm.2.weight", f32(D))
    w.add_tensor("v.patch_norm.2.bias", f32(D) - 1)
    w.add_tensor("v.position_embd.weight", f16(2, POS, D))
    w.add_tensor("v.patch_norm.3.weight", f32(D))
    w.add_tensor("v.patch_norm.3.bias", f32(D) - 1)
    w.add_tensor("mm.input_projection.weight", f16(D, D))
    w.add_tensor("mm.a.input_projection.weight", f16(D, A))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
