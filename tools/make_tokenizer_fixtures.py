#!/usr/bin/env python3
"""make_tokenizer_fixtures.py -- small tokenizer fixtures with expected ids from the real libraries.

Writes tests/data/tokenizer/:
  small.json          a Gemma-format tokenizer.json (Replace " "->"▁" normalizer, Split pre-tokenizer,
                      BPE + byte_fallback + fuse_unk, Replace/ByteFallback/Fuse decoder, Gemma 4 special
                      tokens and Gemma-style added tokens), its BPE trained here by HF `tokenizers` on a
                      small built-in corpus.
  small-variants.json the variants: top-level keys (or "model.KEY") to replace in small.json, and the
                      n_vocab HF reports for each (get_vocab_size(with_added_tokens=True)).
  small-cases.jsonl   per case: the tokenizer variant (the base file with some top-level keys replaced),
                      the text, the ids HF `tokenizers` 0.23.3 gives with special tokens parsed
                      (`ids`) and with encode_special_tokens=True (`ids_nospecial`), and HF decode of
                      `ids` with skip_special_tokens False/True.  Also decode-only cases (given ids).
  small-gemma4.gguf   the same vocab as GGUF metadata (tokenizer.ggml.model "gemma4"); the test checks
                      it against the base variant's ids.
  small-spm.gguf      a SentencePiece BPE model trained here with `sentencepiece`, as GGUF metadata
                      (tokenizer.ggml.model "llama"), and small-spm-cases.jsonl: its ids from
                      sentencepiece itself (the oracle for our llama.cpp-style SPM path).
With --unicode-table it instead prints the \\w range table used by src/text/tok_unicode.c.

Run with the project venv (tokenizers 0.23.3, gguf 0.19.0):
  /work/pyenv/bin/python tools/make_tokenizer_fixtures.py
sentencepiece is not in that venv; the SPM part runs when `sentencepiece` imports (or give
--spm-python PATH to a python that has it) and is skipped otherwise, leaving the old files.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "tokenizer")

CORPUS = """\
The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away into the forest.
A tokenizer turns text into numbers, and a decoder turns the numbers back into text.
def main(argv):
    for i in range(10):
        print("hello, world", i)
    return 0

int main(void) { return printf("%d\\n", 42) > 0 ? 0 : 1; }
Le renard brun saute par-dessus le chien paresseux. Ça coûte 12,50 € à Zürich, naïve café.
Der schnelle braune Fuchs springt über den faulen Hund. Grüße aus München!
Быстрая коричневая лиса прыгает через ленивую собаку.
The model answers in English, Deutsch, français and русский.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 3.14159 2.71828 1e-6 0x1F.
    indented line with    several   spaces   and a tab\there.
<b>bold</b> and <h1>title</h1> are html tags; <|turn> is not text.
the the the and and of of to to in in is is it it that that for for on on with with as as
""" * 3

SPECIAL = ["<pad>", "<eos>", "<bos>", "<unk>"]
G4_SPECIAL = ["<|turn>", "<turn|>", "<|think|>", "<|channel>", "<channel|>", "<|tool>", "<tool|>",
              "<|tool_call>", "<tool_call|>", "<|tool_response>", "<tool_response|>", '<|"|>',
              "<|image>", "<image|>", "<|image|>", "<|audio>", "<audio|>", "<|audio|>", "<|video|>"]
PLAIN_ADDED = (["<mask>", "[multimodal]"] + ["\n" * k for k in range(1, 9)] + ["▁" * k for k in range(2, 9)]
               + ["\t" * k for k in range(1, 5)] + ["<b>", "</b>", "<h1>", "</h1>", "<table>", "</table>"]
               + ["<unused%d>" % i for i in range(4)])
NEW_ADDED = "<image_soft_token>"  # added token outside the model vocab: HF gives it id = vocab size

TEXTS = [
    "", " ", "  ", "   ", "a", "ab", "Hello world", "Hello  world", " leading", "trailing ", " both ",
    "The quick brown fox jumps over the lazy dog.", "the the the the the", "aaaaaaaaaaaaaaaaaaaaaaaaa",
    "\n", "\n\n", "\n\n\n\n\n\n\n\n\n\n\n", "a\nb", "a\n\nb\n", "line one\nline two\n\nline three",
    "\t", "\t\tindented", "x\t\t\t\t\t\ty", "\r\n", "a\r\nb", "▁", "▁▁", "▁▁▁ three", "already▁has▁metaspace",
    "tabs\tand  spaces\t ", "Ça coûte 12,50 € à Zürich", "Grüße aus München!", "Быстрая лиса",
    "日本語のテキスト", "中文", "emoji 😀 and 👍🏽 and 👨‍👩‍👧", "e\u0301 combining", "\u00e9 precomposed",
    "\x00\x01\x07 control", "\x7f\u0080\u00a0nbsp", "\u2028sep\u2029", "zero\u200bwidth",
    "<bos>", "<bos>Hello", "Hello<eos>", "<bos><|turn>user\nHi<turn|>\n<|turn>model\n",
    "<|turn>system\n<|think|>\nBe brief.<turn|>\n", "<|channel>thought\nhmm<channel|>answer",
    '<|tool_call>call:get_weather{location:<|"|>Paris<|"|>}<tool_call|>',
    "<|tool_response>response:f{value:1}<tool_response|>", "<|image|><|audio|><|video|>",
    "<|image><|image|><image|>", "<|turn", "turn|>", "<<|turn>>", "<|turn|>", "<bos", "bos>", "<<bos>>",
    "<b>bold</b>", "<h1>Title</h1>\n", "<unused0><unused3><unused4>", "<mask> [multimodal]",
    "<image_soft_token>", "x<image_soft_token>y", "<table>\n\t<b>x</b>\n</table>",
    "def main(argv):\n    for i in range(10):\n        print(i)\n",
    "int main(void) { return 0; }", "3.14159 2.71828 1e-6 0x1F", "12345678901234567890",
    "The model answers in English, Deutsch, français and русский.",
    "a" * 300, " " * 50, "ab" * 100, "\n" * 40, "\t" * 9, "▁" * 20, "xyz" * 30,
    "Ω≈ç√∫˜µ≤≥÷", "ḁ̶̡̛̲̠͎͚̰̺̥̰͚̖̫̪̩͓̤̩̤̳͒̇̀̈́̍̏͐͋̈́̾̂͗͗̓̾", "🏳️‍🌈 flag", "\U0010ffff max",
]

# decode-only cases: ids given as (kind, value) pairs resolved against the vocab below
DECODE_IDS = [
    [("b", 0xE2), ("b", 0x82), ("b", 0xAC)],                    # valid 3-byte run: €
    [("b", 0xE2), ("b", 0x82)],                                  # truncated run at the end
    [("b", 0xE2), ("b", 0x82), ("t", "a")],                      # truncated run before a token
    [("b", 0xFF), ("t", "a"), ("b", 0x80)],                      # invalid bytes
    [("b", 0x61), ("b", 0xC3), ("b", 0xA9), ("b", 0xF0)],        # valid then incomplete
    [("b", 0xC3), ("t", "<bos>"), ("b", 0xA9)],                  # a special token inside a run
    [("b", 0xF0), ("b", 0x9F), ("b", 0x98), ("b", 0x80), ("t", "▁▁")],
    [("b", 0xED), ("b", 0xA0), ("b", 0x80)],                     # surrogate: invalid
    [("t", "<eos>"), ("t", "<pad>"), ("t", "a"), ("t", NEW_ADDED)],
    [("i", -1), ("i", 10 ** 6), ("t", "a")],                     # unknown ids are dropped
]


def train_base(tokenizers):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tk.normalizer = normalizers.Replace(" ", "▁")
    tk.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")
    tr = trainers.BpeTrainer(vocab_size=900, min_frequency=2, special_tokens=[], show_progress=False,
                             limit_alphabet=120)
    lines = [l for l in CORPUS.split("\n") if l]
    # texts are cut at added tokens before BPE, so train on the pieces between them
    tk.train_from_iterator(lines, tr)
    m = json.loads(tk.to_str())["model"]
    trained = sorted(m["vocab"].items(), key=lambda kv: kv[1])
    merges = m["merges"]
    vocab = {}
    for s in SPECIAL + G4_SPECIAL + PLAIN_ADDED + ["<0x%02X>" % b for b in range(256)]:
        if s not in vocab:
            vocab[s] = len(vocab)
    for s, _ in trained:
        if s not in vocab:
            vocab[s] = len(vocab)
    added = []
    for s in SPECIAL + G4_SPECIAL:
        added.append(dict(id=vocab[s], content=s, single_word=False, lstrip=False, rstrip=False,
                          normalized=False, special=True))
    for s in PLAIN_ADDED:
        added.append(dict(id=vocab[s], content=s, single_word=False, lstrip=False, rstrip=False,
                          normalized=False, special=False))
    added.append(dict(id=len(vocab), content=NEW_ADDED, single_word=False, lstrip=False, rstrip=False,
                      normalized=False, special=True))
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious",
                          "invert": False},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<bos>", "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<bos>", "type_id": 1}},
                                    {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<bos>": {"id": "<bos>", "ids": [2], "tokens": ["<bos>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def split(pat, beh, invert=False, regex=False):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pat}, "behavior": beh, "invert": invert}


def added_tok(content, special=False, normalized=False, lstrip=False, rstrip=False, single_word=False):
    return dict(id=0, content=content, single_word=single_word, lstrip=lstrip, rstrip=rstrip,
                normalized=normalized, special=special)


def variants(base):
    """name -> dict of top-level keys to replace (model keys as "model.xxx")."""
    v = {"base": {}}
    for beh in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
        for inv in (False, True):
            v["split_%s_%d" % (beh, inv)] = {"pre_tokenizer": split("▁", beh, inv)}
    v["split_seq"] = {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        split("▁", "MergedWithNext"), split("e", "Isolated"), split("th", "Contiguous")]}}
    v["split_newlines"] = {"pre_tokenizer": split("[^\\n]+|[\\n]+", "Isolated", regex=True)}
    v["no_pretok"] = {"pre_tokenizer": None}
    v["prepend"] = {"normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
            {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}}
    v["no_normalizer"] = {"normalizer": None, "decoder": None}
    v["ignore_merges"] = {"model.ignore_merges": True}
    v["no_byte_fallback"] = {"model.byte_fallback": False}
    v["no_fuse_unk"] = {"model.byte_fallback": False, "model.fuse_unk": False}
    v["no_unk"] = {"model.byte_fallback": False, "model.unk_token": None}
    v["merges_strings"] = {"model.merges": [a + " " + b for a, b in base["model"]["merges"]]}
    v["decoder_bytefallback_only"] = {"decoder": {"type": "ByteFallback"}}
    flags = [added_tok("<|turn>", special=True), added_tok("<turn|>", special=True, rstrip=True),
             added_tok("<bos>", special=True, lstrip=True),
             added_tok("<b>", lstrip=True, rstrip=True), added_tok("ab", single_word=True),
             added_tok("the", single_word=True, normalized=True), added_tok("▁fox", normalized=True),
             added_tok(" dog", normalized=True), added_tok("<eos>", special=True, lstrip=True, rstrip=True),
             added_tok("<s>", special=True), added_tok("s>x"), added_tok("<unused1>"), added_tok("<unused1>", special=True),
             added_tok("new tok", special=False), added_tok("другой", normalized=False, single_word=True),
             added_tok("<b>", special=True)]
    v["added_flags"] = {"added_tokens": flags}
    v["added_flags_prepend"] = {"added_tokens": flags, "normalizer": v["prepend"]["normalizer"]}
    return v


def apply_variant(base, changes):
    j = copy.deepcopy(base)
    for k, val in changes.items():
        if k.startswith("model."):
            j["model"][k[6:]] = val
        else:
            j[k] = val
    return j


VARIANT_TEXTS = [
    "Hello world", " the fox  and the dog ", "thethe the", "a▁b  c", "ab abc cab ab", "the▁fox",
    "other the, (the) _the the_ thé 1the", "другой другойx другой", "x <b> y<b>z  <b>  w",
    "<|turn>user\nHi<turn|>  \n next", "a   <bos>b", "  <eos>  x", "<bos><bos> <eos><eos>", "s>x <s>x",
    "<unused1>x", "new tok", "new  tok", " dog dog  dog", "é日本 xyz", "\n\nline\nnext\n", "ǅ x",
    "ending with space ", "", " ", "▁▁ ab", "<b><b>", "the\tthe\u3000the\u00a0the",
]


def hf_cases(tokenizers_mod, base):
    from tokenizers import Tokenizer
    cases = []
    vocab = base["model"]["vocab"]
    for name, changes in variants(base).items():
        j = apply_variant(base, changes)
        tk = Tokenizer.from_str(json.dumps(j))
        texts = TEXTS if name == "base" else VARIANT_TEXTS
        for text in texts:
            tk.encode_special_tokens = False
            ids = tk.encode(text, add_special_tokens=False).ids
            tk.encode_special_tokens = True
            ids_ns = tk.encode(text, add_special_tokens=False).ids
            cases.append(dict(variant=name, text=text, ids=ids, ids_nospecial=ids_ns,
                              decoded=tk.decode(ids, skip_special_tokens=False),
                              decoded_skip=tk.decode(ids, skip_special_tokens=True)))
        if name in ("base", "prepend", "no_normalizer", "decoder_bytefallback_only"):
            full = {**vocab, NEW_ADDED: len(vocab)}
            for spec in DECODE_IDS:
                ids = [full["<0x%02X>" % v] if k == "b" else full[v] if k == "t" else v for k, v in spec]
                cases.append(dict(variant=name, decode_ids=ids,
                                  decoded=tk.decode([i for i in ids if i >= 0], skip_special_tokens=False),
                                  decoded_skip=tk.decode([i for i in ids if i >= 0], skip_special_tokens=True)))
    return cases


def write_gemma4_gguf(base, path):
    import gguf
    import numpy as np
    vocab = dict(base["model"]["vocab"])
    vocab[NEW_ADDED] = len(vocab)
    toks = [None] * len(vocab)
    for s, i in vocab.items():
        toks[i] = s
    special = {a["content"] for a in base["added_tokens"] if a["special"]}
    plain = {a["content"] for a in base["added_tokens"] if not a["special"]}
    types = []
    for s in toks:
        if s in special:
            types.append(3)
        elif s in plain:
            types.append(4)
        elif len(s) == 6 and s.startswith("<0x") and s.endswith(">"):
            types.append(6)
        else:
            types.append(1)
    w = gguf.GGUFWriter(path, "gemma4")
    w.add_tokenizer_model("gemma4")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * len(toks))
    w.add_token_types(types)
    w.add_token_merges([a + " " + b for a, b in base["model"]["merges"]])
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_add_space_prefix(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


SPM_SCRIPT = r"""
import json, sys, sentencepiece as spm, io
corpus, texts_path, model_prefix = sys.argv[1], sys.argv[2], sys.argv[3]
spm.SentencePieceTrainer.train(input=corpus, model_prefix=model_prefix, vocab_size=400, model_type="bpe",
    byte_fallback=True, character_coverage=0.995, add_dummy_prefix=True, remove_extra_whitespaces=False,
    split_by_whitespace=False, user_defined_symbols=["<|turn>", "<turn|>"], control_symbols=["<mask>"],
    normalization_rule_name="identity", allow_whitespace_only_pieces=True, bos_id=2, eos_id=1, unk_id=3, pad_id=0,
    minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=model_prefix + ".model")
pieces = [dict(piece=sp.id_to_piece(i), score=sp.get_score(i),
               type=(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 5 if sp.is_unused(i)
                     else 6 if sp.is_byte(i) else 4 if sp.id_to_piece(i) in ("<|turn>", "<turn|>") else 1))
          for i in range(sp.get_piece_size())]
cases = [dict(text=t, ids=sp.encode(t), decoded=sp.decode(sp.encode(t))) for t in json.load(open(texts_path))]
json.dump(dict(pieces=pieces, cases=cases), sys.stdout)
"""

SPM_TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog.", " leading space", "a  b   c",
             "Grüße aus München!", "日本語 中文", "emoji 😀", "the the the", "line\nline\n\n", "x", "",
             "aaaaaaaaaaaaaaaaaaaa", "def f(x):\n    return x\n"]


def write_spm(base_dir, python):
    with tempfile.TemporaryDirectory() as td:
        corpus = os.path.join(td, "corpus.txt")
        open(corpus, "w").write(CORPUS)
        tp = os.path.join(td, "texts.json")
        json.dump(SPM_TEXTS, open(tp, "w"))
        sp = os.path.join(td, "spm.py")
        open(sp, "w").write(SPM_SCRIPT)
        out = subprocess.run([python, sp, corpus, tp, os.path.join(td, "m")], check=True, capture_output=True).stdout
    res = json.loads(out)
    import gguf
    w = gguf.GGUFWriter(os.path.join(base_dir, "small-spm.gguf"), "gemma3")
    w.add_tokenizer_model("llama")
    w.add_token_list([p["piece"] for p in res["pieces"]])
    w.add_token_scores([p["score"] for p in res["pieces"]])
    w.add_token_types([p["type"] for p in res["pieces"]])
    w.add_add_space_prefix(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(base_dir, "small-spm-cases.jsonl"), "w") as f:
        for c in res["cases"]:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")


def word_char(cp):
    c = chr(cp)
    cat = unicodedata.category(c)
    if cat[0] in "LM" or cat in ("Nd", "Nl", "Pc") or cp in (0x200C, 0x200D):
        return True
    # Other_Alphabetic symbols (circled / squared letters)
    return 0x24B6 <= cp <= 0x24E9 or 0x1F130 <= cp <= 0x1F149 or 0x1F150 <= cp <= 0x1F169 or 0x1F170 <= cp <= 0x1F189


def unicode_table():
    ranges, start = [], None
    for cp in range(0x110001):
        w = cp < 0x110000 and word_char(cp)
        if w and start is None:
            start = cp
        if not w and start is not None:
            ranges.append((start, cp - 1))
            start = None
    items = ["{0x%X, 0x%X}" % r for r in ranges]
    line, lines = "   ", []
    for it in items:
        if len(line) + len(it) + 2 > 108:
            lines.append(line)
            line = "   "
        line += " " + it + ","
    lines.append(line)
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unicode-table", action="store_true")
    ap.add_argument("--spm-python", default=None, help="a python with sentencepiece (default: this one if it has it)")
    a = ap.parse_args()
    if a.unicode_table:
        unicode_table()
        return
    import tokenizers
    if tokenizers.__version__ != "0.23.3":
        sys.exit("want tokenizers 0.23.3, have %s" % tokenizers.__version__)
    os.makedirs(OUT, exist_ok=True)
    base = train_base(tokenizers)
    with open(os.path.join(OUT, "small.json"), "w") as f:
        json.dump(base, f, ensure_ascii=False, separators=(",", ":"))
    from tokenizers import Tokenizer
    vs = variants(base)
    nv = {k: Tokenizer.from_str(json.dumps(apply_variant(base, c))).get_vocab_size(with_added_tokens=True)
          for k, c in vs.items()}
    with open(os.path.join(OUT, "small-variants.json"), "w") as f:
        json.dump({"variants": vs, "n_vocab": nv}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "small-cases.jsonl"), "w") as f:
        for c in hf_cases(tokenizers, base):
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    write_gemma4_gguf(base, os.path.join(OUT, "small-gemma4.gguf"))
    py = a.spm_python
    if py is None:
        try:
            import sentencepiece  # noqa: F401
            py = sys.executable
        except ImportError:
            print("sentencepiece not importable: SPM fixtures left as they are (see --spm-python)")
    if py:
        write_spm(OUT, py)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
