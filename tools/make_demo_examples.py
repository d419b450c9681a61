#!/usr/bin/env python3
"""make_demo_examples.py -- the demo model's bundled example files and its reference test cases.

Why: the README's first command shows the demo model answering a picture question, a spoken-word
transcription, a short video question and a tool call (models/examples/), and `make test` checks that
`gemma4 run` on the shipped GGUF answers every case exactly as PyTorch does on the same weights
(tests/data/demo/).  Both are made here from a trained checkpoint (tools/train_demo.py), with samples
of tools/demo_data.py drawn from their own seed streams (not the training or evaluation streams).

PyTorch's answers come from transformers' generate() (greedy) on the checkpoint's weights rounded as
`gemma4 convert --type q8_0` rounds them (eval_demo.quantized_like_gguf), so they are the reference for
the Q8_0 file; the f32 checkpoint's answers and the true answers are recorded beside them.

Writes
  models/examples/NAME.{png,wav,mkv}, tools.json, NAME.args (the `gemma4 run` arguments, one per line,
      paths relative to the repository root) and NAME.truth (the right answer), for tools/demo.sh;
  tests/data/demo/cases/NN.args, NN.want (PyTorch's greedy answer as `gemma4 run` prints it), media
      files, NN.stdin for a --raw prompt, and cases.json (everything, for people).

Usage: python tools/make_demo_examples.py --ckpt DIR [--gguf models/gemma4-demo.gguf] [--n 3]
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402
import eval_demo  # noqa: E402
import train_demo  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
N_NEW = 32
# the examples of the README's first command: (name, kind, task) drawn from seed stream [SEED, 3000 + i]
EXAMPLES = [("picture", "image", "img_count"), ("speech", "speech", "speech"), ("video", "video", "vid_move"),
            ("weather", "text", "txt_tool_call")]
SEED = 2026


def draw(kind, task, stream):
    rng = np.random.default_rng([SEED, stream])
    while True:
        s = demo_data.KINDS[kind](rng)
        if s["task"] == task and (task != "speech" or len(s["answer"].split()) >= 2):
            return s


def as_printed(answer):
    """How `gemma4 run` (chat mode) prints a reply: text as is, a tool call as `[tool call] NAME {json}`."""
    m = re.fullmatch(r'<\|tool_call>call:(\w+)\{(.*)\}<tool_call\|>', answer)
    if not m:
        return answer
    args = {}
    for kv in re.findall(r'(\w+):<\|"\|>(.*?)<\|"\|>', m.group(2)):
        args[kv[0]] = kv[1]
    return "[tool call] %s %s" % (m.group(1), json.dumps(args, separators=(",", ":")))


def api_messages(s):
    """The sample's conversation as an OpenAI request's messages (text-only samples): tool-call arguments as
    a JSON string with an id, the tool result answering it."""
    out = []
    for m in s["messages"]:
        m = dict(m)
        if m.get("tool_calls"):
            m["tool_calls"] = [dict(id="call_%d" % i, type="function",
                                    function=dict(name=c["function"]["name"],
                                                  arguments=json.dumps(c["function"]["arguments"])))
                               for i, c in enumerate(m["tool_calls"])]
            m.setdefault("content", None)
        if m["role"] == "tool":  # the name too: the template writes it into the response
            m = dict(role="tool", tool_call_id="call_0", name=m.get("name"), content=m["content"])
        out.append(m)
    return out


def run_args(s, media, rel):
    """gemma4 run arguments for sample s (media paths as rel(path)), and the --raw stdin if any."""
    args = []
    for kind, path in media:
        args += ["--" + kind, rel(path)]
    last = s["messages"][-1]
    if s["tools"] and last["role"] != "user":  # a tool result in the history: the jinja rendering, --raw
        return args + ["--raw"], None
    if s["tools"]:
        args += ["--tools", "TOOLS"]
    q = last["content"]
    q = q if isinstance(q, str) else " ".join(p["text"] for p in q if p["type"] == "text")
    return args + ["-p", q], None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--n", type=int, default=3, help="held-out-style test cases per kind (besides the examples)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from transformers.models.gemma4_unified import Gemma4UnifiedForConditionalGeneration
    load = lambda: Gemma4UnifiedForConditionalGeneration.from_pretrained(a.ckpt, dtype=torch.float32).eval()
    model, qmodel = load(), eval_demo.quantized_like_gguf(load(), "q8_0").eval()
    proc = train_demo.make_processor(os.path.join(a.ckpt, "tokenizer.json"))

    ex_dir, case_dir = os.path.join(ROOT, "models", "examples"), os.path.join(ROOT, "tests", "data", "demo", "cases")
    for d in (ex_dir, case_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    rel = lambda p: os.path.relpath(p, ROOT)
    tools_file = os.path.join(ex_dir, "tools.json")
    with open(tools_file, "w") as f:
        json.dump(demo_data.TOOLS, f, indent=1)

    samples = [(name, draw(kind, task, 3000 + i), ex_dir) for i, (name, kind, task) in enumerate(EXAMPLES)]
    for i, (kind, fn) in enumerate(demo_data.KINDS.items()):
        rng = np.random.default_rng([SEED, 4000 + i])
        samples += [("%s%d" % (kind, j), fn(rng), case_dir) for j in range(a.n)]
    # a tool result in the history (the second half of a round trip) as a --raw case
    rng = np.random.default_rng([SEED, 5000])
    while True:
        s = demo_data.sample_text(rng)
        if s["task"] == "txt_tool_answer":
            samples.append(("toolanswer", s, case_dir))
            break

    cases = []
    for k, (name, s, where) in enumerate(samples):
        media = demo_data.write_media(s, os.path.join(where, name))
        # single-medium names without the "-0" suffix write_media adds
        media2 = []
        for kind, path in media:
            new = re.sub(r"-0(\.\w+)$", r"\1", path)
            os.replace(path, new)
            media2.append((kind, new))
        args, _ = run_args(s, media2, rel)
        args = [rel(tools_file) if x == "TOOLS" else x for x in args]
        q_ans, _, _, text, _ = eval_demo.torch_answer(qmodel, proc, s)
        f_ans = eval_demo.torch_answer(model, proc, s)[0]
        truth = eval_demo.truth(s)
        stdin = text[len("<bos>"):] if "--raw" in args else None
        case = dict(name=name, task=s["task"], args=args, stdin=stdin, truth=as_printed(truth),
                    torch_q8_0=as_printed(q_ans), torch_f32=as_printed(f_ans))
        if not media:  # text: also asked through `gemma4 serve` (tests/demo_server_test.py)
            case.update(messages=api_messages(s), tools=s["tools"])
        cases.append(case)
        base = os.path.join(case_dir, "%02d-%s" % (k, name))
        with open(base + ".args", "w") as f:
            f.write("\n".join(args) + "\n")
        with open(base + ".want", "w") as f:
            f.write(case["torch_q8_0"] + "\n")
        if stdin is not None:
            with open(base + ".stdin", "w") as f:
                f.write(stdin)
        if where == ex_dir:
            with open(os.path.join(ex_dir, name + ".args"), "w") as f:
                f.write("\n".join(args) + "\n")
            with open(os.path.join(ex_dir, name + ".truth"), "w") as f:
                f.write(case["truth"] + "\n")
        print(json.dumps(case), file=sys.stderr)
    with open(os.path.join(ROOT, "tests", "data", "demo", "cases.json"), "w") as f:
        json.dump(dict(ckpt=os.path.basename(a.ckpt.rstrip("/")), max_new_tokens=N_NEW, cases=cases), f, indent=1)
    right = sum(c["torch_q8_0"] == c["truth"] for c in cases)
    print("%d cases; PyTorch (q8_0 weights) right on %d" % (len(cases), right), file=sys.stderr)


if __name__ == "__main__":
    main()
