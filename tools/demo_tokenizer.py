#!/usr/bin/env python3
"""demo_tokenizer.py -- a small BPE tokenizer in the Gemma 4 format for the bundled demo model.

Why: the demo model needs a vocabulary a few thousand entries small (the real one has 262,144 rows,
far too big for a model of a few MB) that the C engine loads through the same code path as the real
tokenizer.json: BPE with merges and byte fallback (<0x00>..<0xFF>), spaces as "▁" (a Replace
normalizer, no prefix space), a Replace/ByteFallback/Fuse decoder, and the Gemma 4 special tokens.

Layout: ids 0..107 are those of the real Gemma 4 vocabulary (<pad> 0, <eos> 1, <bos> 2, <unk> 3, <mask> 4,
[multimodal] 5, <|tool> 46 ... <|"|> 52, <|think|> 98, <|channel> 100, <channel|> 101, <|turn> 105,
<turn|> 106, "\n" 107; the other ids below 108 are <unusedN> fillers), so the end ids 1, 106, 50 and the
chat-format ids are the real model's.  The seven multimodal tokens, whose real ids (255999...258884) do
not fit, follow at 108..114 and are remapped through config.json (MM_IDS below).  Then the 256 byte
tokens, then the BPE pieces learned by HF `tokenizers` on the demo corpus (tools/demo_data.py).
No BOS is added by the tokenizer (the chat template writes <bos>), as with the real IT tokenizer.

Usage: python tools/demo_tokenizer.py OUT.json [--vocab 1024] [--seed 0]
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402

# real Gemma 4 ids of the named tokens below 108 (read from llama.cpp's ggml-vocab-gemma-4.gguf)
LOW = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 4: "<mask>", 5: "[multimodal]", 46: "<|tool>", 47: "<tool|>",
       48: "<|tool_call>", 49: "<tool_call|>", 50: "<|tool_response>", 51: "<tool_response|>", 52: '<|"|>',
       98: "<|think|>", 100: "<|channel>", 101: "<channel|>", 105: "<|turn>", 106: "<turn|>", 107: "\n"}
MM = ["<|image>", "<|audio>", "<|image|>", "<|audio|>", "<image|>", "<audio|>", "<|video|>"]
MM_BASE = 108
# config.json keys of the multimodal ids (Gemma4UnifiedConfig)
MM_IDS = dict(boi_token_id=108, boa_token_id=109, image_token_id=110, audio_token_id=111, eoi_token_id=112,
              eoa_token_index=113, video_token_id=114)
SPECIAL_IDS = {"pad": 0, "eos": 1, "bos": 2, "unk": 3, "turn_end": 106, "tool_response": 50}
NOT_SPECIAL = {"[multimodal]", "\n"}  # plain added tokens, as in the real vocabulary


def fixed_prefix():
    """The ids before the byte tokens: real Gemma 4 low ids, <unusedN> fillers, the multimodal tokens."""
    toks, k = [], 0
    for i in range(MM_BASE):
        if i in LOW:
            toks.append(LOW[i])
        else:
            toks.append("<unused%d>" % k)
            k += 1
    return toks + MM


def train_pieces(lines, n_pieces):
    """BPE pieces and merges learned from lines (special tokens cut out first)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tk.normalizer = normalizers.Replace(" ", "▁")
    tk.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")  # as the real file; a no-op after "▁"
    tr = trainers.BpeTrainer(vocab_size=n_pieces, min_frequency=2, special_tokens=[], show_progress=False,
                             limit_alphabet=200)
    cut = re.compile("|".join(re.escape(t) for t in sorted(set(LOW.values()) | set(MM), key=len, reverse=True)))
    pieces = [p for line in lines for p in cut.split(line) if p]
    tk.train_from_iterator(pieces, tr)
    m = json.loads(tk.to_str())["model"]
    return [t for t, _ in sorted(m["vocab"].items(), key=lambda kv: kv[1])], m["merges"]


def build(n_vocab=1024, seed=0):
    """The tokenizer.json dict with n_vocab entries at most."""
    prefix = fixed_prefix() + ["<0x%02X>" % b for b in range(256)]
    pieces, merges = train_pieces(demo_data.corpus(seed), max(n_vocab - len(prefix), 64))
    vocab = {t: i for i, t in enumerate(prefix)}
    for t in pieces:
        if t not in vocab:
            vocab[t] = len(vocab)
    merges = [m for m in merges if "".join(m if isinstance(m, list) else m.split(" ")) in vocab]
    added = [dict(id=vocab[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False,
                  special=t not in NOT_SPECIAL) for t in prefix[:MM_BASE + len(MM)] if not t.startswith("<unused")]
    added += [dict(id=vocab[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False,
                   special=False) for t in prefix[:MM_BASE] if t.startswith("<unused")]
    added.sort(key=lambda a: a["id"])
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                          "invert": False},
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def hf_tokenizer(path):
    """transformers' fast tokenizer over the file, with the names the Gemma 4 processor looks up."""
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast(tokenizer_file=path, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                   unk_token="<unk>", extra_special_tokens={
                                       "image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
                                       "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    tj = build(a.vocab, a.seed)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    from tokenizers import Tokenizer
    tk = Tokenizer.from_file(a.out)
    s = '<bos><|turn>user\nWhat is 7 + 12?<turn|>\n<|turn>model\n<|tool_call>call:get_weather{city:<|"|>Oslo<|"|>}'
    ids = tk.encode(s, add_special_tokens=False).ids
    print("vocab", tk.get_vocab_size(), "example", len(ids), "ids:", ids, file=sys.stderr)
    assert tk.decode(ids, skip_special_tokens=False) == s, tk.decode(ids, skip_special_tokens=False)


if __name__ == "__main__":
    main()
