#!/usr/bin/env python3
"""make_tok_roundtrip_fixtures.py -- fixtures for tests/test_tok_roundtrip.c (convert -> GGUF tokenizer).

Writes tests/data/tokenizer/:
  small-512.json        tests/data/tokenizer/small.json cut to the 512 ids of the tiny test model
                        (tests/data/model/tiny-a): vocab ids < 512, the merges among them, added
                        tokens < 512 (as tests/cli_chat.sh cuts it).
  small-512-cases.jsonl per text (the base texts of small-cases.jsonl): the ids HF `tokenizers`
                        gives with special tokens parsed (`ids`) and with encode_special_tokens=True
                        (`ids_nospecial`), and HF decode of `ids` (`decoded`).

Run with the project venv (tokenizers 0.23.3):
  /work/pyenv/bin/python tools/make_tok_roundtrip_fixtures.py
"""
import json
import os

import tokenizers

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "tokenizer")
N = 512


def main():
    assert tokenizers.__version__ == "0.23.3", tokenizers.__version__
    d = json.load(open(os.path.join(DIR, "small.json"), encoding="utf-8"))
    m = d["model"]
    m["vocab"] = {k: i for k, i in m["vocab"].items() if i < N}
    m["merges"] = [x for x in m["merges"] if all(p in m["vocab"] for p in x) and "".join(x) in m["vocab"]]
    d["added_tokens"] = [a for a in d["added_tokens"] if a["id"] < N]
    text = json.dumps(d, ensure_ascii=False, indent=None, separators=(",", ":"))
    with open(os.path.join(DIR, "small-512.json"), "w", encoding="utf-8") as f:
        f.write(text)
    tok = tokenizers.Tokenizer.from_str(text)
    texts = []
    for line in open(os.path.join(DIR, "small-cases.jsonl"), encoding="utf-8"):
        c = json.loads(line)
        if c["variant"] == "base" and "text" in c and c["text"] not in texts:
            texts.append(c["text"])
    with open(os.path.join(DIR, "small-512-cases.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            tok.encode_special_tokens = False
            ids = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = True
            ids_ns = tok.encode(t, add_special_tokens=False).ids
            f.write(json.dumps(dict(text=t, ids=ids, ids_nospecial=ids_ns,
                                    decoded=tok.decode(ids, skip_special_tokens=False)), ensure_ascii=False) + "\n")
    print(f"{len(m['vocab'])} vocab, {len(m['merges'])} merges, {len(texts)} texts")


if __name__ == "__main__":
    main()
