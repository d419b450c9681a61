#!/usr/bin/env python3
"""eval_demo.py -- the demo model on a held-out set: PyTorch greedy answers against `gemma4 run`'s.

Why: issue 6 asks that accuracy be measured by our C engine and that its greedy answers equal the
PyTorch model's.  For every held-out sample (tools/demo_data.py, its own seed stream) this script
  - runs transformers' generate() greedily on the processor's inputs (the reference);
  - writes the sample's media as files (PNG / 16-bit WAV / lossless MKV) and runs `gemma4 run --greedy`
    on each model given (the HF directory itself, and the GGUF from `gemma4 convert`): media samples and
    plain text samples through the C chat format (-p QUESTION), tool samples as --raw prompts rendered by
    the jinja template (`gemma4 run` has no --tools);
  - compares the C prompt ids (--verbose-prompt) with the processor's, the logits after the prompt
    (--logits-out) with PyTorch's, and the answers with each other and with the truth.
Prints a table per task and writes EVAL_DIR/results.json.

Usage: python tools/eval_demo.py --ckpt DIR [--gguf OUT.gguf] [--type q8_0] [--n 10] [--seed 12345]
                                  [--work /work/demo-out/eval] [--gemma4 build/gemma4] [--threads 1]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402
import train_demo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
END_IDS = (1, 106, 50)
N_NEW = 32


def plain(text):
    """text without the special-token strings a --raw C run may hide."""
    for t in ("<|tool_call>", "<tool_call|>", '<|"|>'):
        text = text.replace(t, "")
    return text


def truth(s):
    return s["answer"].replace(demo_data.END, "").replace(demo_data.TOOL_END, "")


def torch_answer(model, proc, s):
    """Greedy reply text (specials kept, end id dropped), prompt ids, logits after the prompt."""
    x, text = train_demo.encode_prompt(proc, s)
    with torch.no_grad():
        out = model.generate(**x, max_new_tokens=N_NEW, do_sample=False, output_logits=True,
                             return_dict_in_generate=True)
    new = out.sequences[0, x["input_ids"].shape[1]:].tolist()
    cut = next((i for i, t in enumerate(new) if t in END_IDS), len(new))
    return (proc.tokenizer.decode(new[:cut], skip_special_tokens=False), x["input_ids"][0].tolist(),
            out.logits[0][0].float().numpy(), text, proc.tokenizer.decode(new[:cut], skip_special_tokens=True))


def c_command(gemma4, model, s, media, text, logits_path, threads):
    """The gemma4 run command line and its stdin for sample s."""
    cmd = [gemma4, "run", "-m", model, "--greedy", "-n", str(N_NEW), "-t", str(threads), "--verbose-prompt",
           "--image-tokens", str(train_demo.IMAGE_TOKENS), "--max-frames", "4", "--logits-out", logits_path]
    for kind, path in media:
        cmd += ["--" + kind, path]
    if s["tools"]:  # rendered by the jinja template; the C engine adds <bos> itself with --raw
        assert text.startswith("<bos>")
        return cmd + ["--raw"], text[len("<bos>"):]
    q = s["messages"][-1]["content"]
    q = q if isinstance(q, str) else " ".join(p["text"] for p in q if p["type"] == "text")
    return cmd + ["-p", q], None


def c_answer(gemma4, model, s, media, text, tmp, threads):
    lp = tmp + ".logits"
    cmd, stdin = c_command(gemma4, model, s, media, text, lp, threads)
    r = subprocess.run(cmd, input=stdin.encode() if stdin else None, capture_output=True, timeout=120)
    r.stdout, r.stderr = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    if r.returncode:
        return dict(error=r.stderr.strip()[-400:], cmd=" ".join(cmd))
    m = re.search(r"prompt ids \(\d+\): ([\d,]+)", r.stderr)
    ids = [int(t) for t in m.group(1).split(",")] if m else None
    lg = np.fromfile(lp, dtype="<f4") if os.path.exists(lp) else None
    return dict(answer=r.stdout.strip("\n"), prompt_ids=ids, logits=lg, cmd=" ".join(cmd))


def word_acc(ref, hyp):
    """1 - word error rate (Levenshtein over words), floored at 0."""
    r, h = ref.split(), hyp.split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return max(0.0, 1 - d[len(h)] / max(1, len(r)))


# parameter names of the loaded model (model.safetensors spells the vision ones vision_embedder.*)
F16_TENSORS = ("embed_vision.patch_dense.weight", "embed_vision.pos_embedding",
               "embed_vision.multimodal_embedder.embedding_projection.weight", "embed_audio.embedding_projection.weight")


def q8_0_roundtrip(w):
    """w quantized to q8_0 and back, as src/core/quant.c does it (ggml's reference rounding: d = max|x|/127
    in f32, q = round-half-away(x * (1/d)), stored d in f16, value = f16(d) * q), along the last dim."""
    x = w.detach().float().reshape(-1, 32)
    d = x.abs().max(1, keepdim=True).values / 127.0
    inv = torch.where(d != 0, 1.0 / torch.where(d != 0, d, torch.ones_like(d)), torch.zeros_like(d))
    v = x * inv
    q = torch.sign(v) * torch.floor(v.abs() + 0.5)
    return (d.half().float() * q.clamp(-127, 127)).reshape(w.shape)


def quantized_like_gguf(model, qtype):
    """The torch model with the weights `gemma4 convert --type q8_0` writes, read back: decoder matrices in
    q8_0 (f16 where a row is not a whole number of blocks), the vision patch matrix, its position table and
    the two embedding projections in f16, every vector in f32.  So PyTorch computes on the same numbers as
    the C engine on the GGUF, and their greedy answers can be compared exactly (see docs/demo-model.md)."""
    if qtype != "q8_0":
        raise SystemExit("quantized_like_gguf: only q8_0 is modelled")
    names = [n for n, _ in model.named_parameters()]
    missing = [t for t in F16_TENSORS if not any(n.endswith(t) for n in names)]
    if missing:
        raise SystemExit("quantized_like_gguf: no parameter named *%s (transformers renamed them?)" % missing[0])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(name.endswith(t) for t in F16_TENSORS):
                p.copy_(p.half().float())
            elif ".language_model." in "." + name and p.dim() == 2 and p.shape[0] > 1:
                p.copy_(q8_0_roundtrip(p) if p.shape[1] % 32 == 0 else p.half().float())
    return model


def convert(gemma4, ckpt, gguf, qtype):
    subprocess.run([gemma4, "convert", ckpt, gguf, "--type", qtype], check=True)
    return os.path.getsize(gguf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--gguf", default=None, help="converted here from --ckpt (default: CKPT.q8_0.gguf)")
    ap.add_argument("--type", default="q8_0")
    ap.add_argument("--n", type=int, default=10, help="samples per kind (image, speech, video, text)")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--work", default="/work/demo-out/eval")
    ap.add_argument("--gemma4", default=os.path.join(HERE, "..", "build", "gemma4"))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    gguf = a.gguf or a.ckpt.rstrip("/") + "." + a.type + ".gguf"
    size = convert(a.gemma4, a.ckpt, gguf, a.type)
    print("converted %s: %.2f MB" % (gguf, size / 1e6), file=sys.stderr)
    from transformers.models.gemma4_unified import Gemma4UnifiedForConditionalGeneration
    model = Gemma4UnifiedForConditionalGeneration.from_pretrained(a.ckpt, dtype=torch.float32).eval()
    proc = train_demo.make_processor(os.path.join(a.ckpt, "tokenizer.json"))
    qmodel = quantized_like_gguf(Gemma4UnifiedForConditionalGeneration.from_pretrained(a.ckpt, dtype=torch.float32),
                                 a.type).eval()
    engines = {"c-hf": a.ckpt, "c-" + a.type: gguf}
    ref_of = {"c-hf": "torch", "c-" + a.type: "torch-" + a.type}  # the PyTorch run on the same weights
    rows = []
    for i, s in enumerate(demo_data.heldout(a.seed, a.n)):
        prefix = os.path.join(a.work, "h%03d" % i)
        media = demo_data.write_media(s, prefix)
        t_ans, t_ids, t_logits, text, t_plain = torch_answer(model, proc, s)
        q_ans, _, q_logits, _, q_plain = torch_answer(qmodel, proc, s)
        row = dict(i=i, task=s["task"], truth=truth(s), torch=t_ans, torch_plain=t_plain, media=media)
        row["torch-" + a.type], row["torch-" + a.type + "_plain"] = q_ans, q_plain
        ref = {"torch": (t_ans, t_plain, t_logits), "torch-" + a.type: (q_ans, q_plain, q_logits)}
        for name, path in engines.items():
            t_ans, t_plain, t_logits = ref[ref_of[name]]
            c = c_answer(a.gemma4, path, s, media, text, prefix + "-" + name, a.threads)
            row[name] = c.get("answer")
            row[name + "_error"] = c.get("error")
            row[name + "_prompt_same"] = c.get("prompt_ids") == t_ids
            # --raw output skips the tokens the loaded tokenizer calls special (see docs/demo-model.md)
            row[name + "_same_but_specials"] = row[name] != t_ans and row[name] == t_plain
            if c.get("logits") is not None and c["logits"].shape == t_logits.shape:
                row[name + "_logit_maxdiff"] = float(np.abs(c["logits"] - t_logits).max())
            if c.get("error") or not row[name + "_prompt_same"]:
                row[name + "_cmd"] = c["cmd"]
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "media"}), file=sys.stderr, flush=True)
    summary = summarize(rows, ["torch", "torch-" + a.type] + list(engines), ref_of)
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(dict(ckpt=a.ckpt, gguf=gguf, gguf_bytes=size, summary=summary, rows=rows), f, indent=1)


def summarize(rows, who, ref_of):
    by = collections.defaultdict(list)
    for r in rows:
        by[r["task"]].append(r)
    print("%-16s %4s " % ("task", "n") + " ".join("%10s" % w for w in who) +
          "  c==torch(same weights)  prompt_ids_same  max|dlogit|  (hidden-specials cases)", file=sys.stdout)
    who_c = [w for w in who if w in ref_of]
    out = {}
    for task, rs in sorted(by.items()):
        acc = {}
        for w in who:
            if task == "speech":
                acc[w] = float(np.mean([word_acc(r["truth"], r[w] or "") for r in rs]))
            else:
                acc[w] = float(np.mean([r[w] == r["truth"] or (w in ref_of and r[w] == plain(r["truth"]))
                                        for r in rs]))
        same = {w: float(np.mean([r[w] == r[ref_of[w]] or r[w + "_same_but_specials"] for r in rs])) for w in who_c}
        hid = {w: int(sum(r[w + "_same_but_specials"] for r in rs)) for w in who_c}
        psame = {w: float(np.mean([r[w + "_prompt_same"] for r in rs])) for w in who_c}
        dl = {w: max([r.get(w + "_logit_maxdiff", float("nan")) for r in rs]) for w in who_c}
        out[task] = dict(n=len(rs), acc=acc, c_equals_torch=same, equal_but_hidden_specials=hid, prompt_same=psame,
                         logit_maxdiff=dl)
        print("%-16s %4d " % (task, len(rs)) + " ".join("%10.2f" % acc[w] for w in who) + "  " +
              "/".join("%.2f" % same[w] for w in who_c) + "  " + "/".join("%.2f" % psame[w] for w in who_c) +
              "  " + "/".join("%.3g" % dl[w] for w in who_c) + "  " + "/".join(str(hid[w]) for w in who_c))
    return out


if __name__ == "__main__":
    main()
