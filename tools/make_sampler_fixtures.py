#!/usr/bin/env python3
"""make_sampler_fixtures.py -- oracle fixtures for tests/test_sampler.c.

Runs Hugging Face transformers' own logits processors/warpers (the ones generate()
builds for do_sample=True, in generate()'s order) on seeded random logits and
records the probabilities that survive:

  RepetitionPenaltyLogitsProcessor -> presence/frequency (OpenAI formula, not in HF)
  -> SuppressTokensLogitsProcessor -> TemperatureLogitsWarper -> TopKLogitsWarper
  -> TopPLogitsWarper -> MinPLogitsWarper

(generate() suppresses after the repetition penalty; our sampler suppresses first.
Both give -inf for those ids, so the results are the same.)

Our sampler keeps only the last repeat_last_n accepted tokens, so the oracle sees
that window as input_ids.  Cases whose top-k/top-p/min-p cut lies within 1e-5 of
a token (where float32 vs float64 rounding could flip the decision), or whose top-p
cut splits a group of equal logits (torch.sort is unstable there), are re-drawn
with the next seed, so every recorded survivor set is decided by a clear margin.

Writes tests/data/sampler/:
  cases.txt  one line per case: case NAME N_VOCAB T TOP_K TOP_P MIN_P REP LAST_N
             PRESENCE FREQUENCY N_HIST ids.. N_SUPP ids.. GREEDY
             (GREEDY = argmax of the processors-only logits, first max on ties:
             what generate() picks with do_sample=False)
  logits.bin float32 little-endian, one row of N_VOCAB per case (the input logits)
  probs.bin  float32 little-endian, one row per case: softmax (in float64) over HF's
             filtered logits, -1 where HF set the logit to -inf

Usage: /work/pyenv/bin/python tools/make_sampler_fixtures.py  (from the repo root)
"""
import os
import sys

import numpy as np
import torch
import transformers
from transformers.generation.logits_process import (
    LogitsProcessor,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    SuppressTokensLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

V = 1000  # vocabulary of most cases
OUT = "tests/data/sampler"
MARGIN = 1e-5


class PresenceFrequency(LogitsProcessor):
    """OpenAI: logit[j] -= presence * (c[j] > 0) + frequency * c[j]."""

    def __init__(self, presence, frequency):
        self.presence, self.frequency = presence, frequency

    def __call__(self, input_ids, scores):
        c = torch.zeros_like(scores)
        for row in range(input_ids.shape[0]):
            c[row] = torch.bincount(input_ids[row], minlength=scores.shape[-1]).to(scores.dtype)
        return scores - (self.presence * (c > 0).to(scores.dtype) + self.frequency * c)


def f32(x):
    return float(np.float32(x))


def make_logits(rng, kind, V):
    x = rng.normal(0.0, 2.0, V)
    if kind == "peaked":
        x[rng.integers(V)] += 15.0
    elif kind == "ties":  # groups of equal logits at the top and in the middle
        top = np.argsort(-x)
        for g, start in enumerate([0, 7, 40, 61, 200]):
            x[top[start:start + 4 + g]] = x[top[start]]
    elif kind == "neg":  # mostly negative logits: the multiply branch of the penalty
        x = x - 6.0
    elif kind == "huge":
        x = x * 30.0
    elif kind == "flat":
        x = rng.normal(0.0, 0.3, V)
    elif kind == "wide":  # a spread-out distribution: top-p keeps thousands of tokens
        x = rng.normal(0.0, 3.0, V)
    elif kind == "neginf":
        x[rng.choice(V, 50, replace=False)] = -np.inf
    return x.astype(np.float32)


def margins_ok(scores, c):
    """False when a cut lies too close to a token (see the module doc)."""
    s = scores[0].double()
    fin = s[torch.isfinite(s)]
    if c["top_k"] > 0 and c["top_k"] < fin.numel():
        vals = torch.sort(fin, descending=True).values
        kth = vals[c["top_k"] - 1]
        below = vals[vals < kth]
        if below.numel() and kth - below[0] < MARGIN * max(1.0, abs(kth.item())):
            return False
    return True


def top_p_ok(scores, top_p):
    s = scores[0].double()
    sv = torch.sort(s).values
    p = torch.softmax(sv, -1)
    cum = torch.cumsum(p, -1)
    cut = 1.0 - top_p
    if (cum[:-1] - cut).abs().min().item() < MARGIN:  # the largest is always kept
        return False
    removed = cum <= cut
    removed[-1] = False
    n_rm = int(removed.sum())
    if 0 < n_rm < sv.numel() and sv[n_rm - 1] == sv[n_rm] and torch.isfinite(sv[n_rm]):
        return False  # the cut splits a group of equal logits
    return True


def min_p_ok(scores, min_p):
    s = scores[0].double()
    ratio = torch.exp(s - s.max())
    ratio = ratio[(ratio > 0) & (s != s.max())]  # equal to the max: always kept, exactly
    if ratio.numel() == 0:
        return True
    return (ratio - min_p).abs().min().item() >= MARGIN


def run_case(c, seed):
    rng = np.random.default_rng(seed)
    V = c["V"]
    logits = make_logits(rng, c.get("kind", "normal"), V)
    hist = [int(t) for t in rng.integers(0, V, c.get("n_hist", 0))]
    if c.get("n_hist", 0) >= 10:  # the most likely tokens, 1-3 times: penalties that matter
        top = np.argsort(-logits.astype(np.float64), kind="stable")[:12]
        for j, t in enumerate(top):
            hist += [int(t)] * (1 + j % 3)
        hist = [hist[k] for k in rng.permutation(len(hist))]
    if c.get("edge"):  # top token A just outside the window, B just inside
        top = [int(t) for t in np.argsort(-logits.astype(np.float64), kind="stable")[:16]]
        hist = [t for t in hist if t not in top[12:14]]
        fill = [int(t) for t in rng.integers(0, V, 4 * c["last_n"]) if int(t) not in top]
        hist += [top[12], top[13]] + fill[:c["last_n"] - 1]
    supp = c.get("suppress", [])
    window = hist[max(0, len(hist) - c["last_n"]):] if c["last_n"] > 0 else []
    ids = torch.tensor([window], dtype=torch.long)

    scores = torch.from_numpy(logits.copy())[None, :]
    procs = []
    if window and c["rep"] != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(c["rep"]))
    if window and (c["presence"] != 0.0 or c["frequency"] != 0.0):
        procs.append(PresenceFrequency(c["presence"], c["frequency"]))
    if supp:
        procs.append(SuppressTokensLogitsProcessor(supp))
    for pr in procs:
        scores = pr(ids, scores)
    greedy = int(torch.argmax(scores[0]))

    if c["T"] != 1.0:
        scores = TemperatureLogitsWarper(c["T"])(ids, scores)
    if not margins_ok(scores, c):
        return None
    if c["top_k"] != 0:
        scores = TopKLogitsWarper(top_k=c["top_k"], min_tokens_to_keep=1)(ids, scores)
    if c["top_p"] < 1.0:
        if not top_p_ok(scores, c["top_p"]):
            return None
        scores = TopPLogitsWarper(top_p=c["top_p"], min_tokens_to_keep=1)(ids, scores)
    if c["min_p"] is not None:
        if c["min_p"] > 0 and not min_p_ok(scores, c["min_p"]):
            return None
        scores = MinPLogitsWarper(min_p=c["min_p"], min_tokens_to_keep=1)(ids, scores)

    out = scores[0].double()
    keep = torch.isfinite(out)
    probs = torch.full((V,), -1.0, dtype=torch.float64)  # stored as float32
    probs[keep] = torch.softmax(out[keep], -1)
    return logits, probs.numpy(), hist, supp, greedy


def case(name, V=1000, T=1.0, top_k=64, top_p=0.95, min_p=0.0, rep=1.0, last_n=64, presence=0.0,
         frequency=0.0, **kw):
    d = dict(name=name, V=V, T=f32(T), top_k=top_k, top_p=f32(top_p),
             min_p=None if min_p is None else f32(min_p), rep=f32(rep), last_n=last_n,
             presence=f32(presence), frequency=f32(frequency))
    d.update(kw)
    return d


CASES = [
    case("gemma_defaults"),
    case("defaults_peaked", kind="peaked"),
    case("t07_k40_p09", T=0.7, top_k=40, top_p=0.9),
    case("t15_minp005", T=1.5, top_k=0, top_p=1.0, min_p=0.05),
    case("p05_only", top_k=0, top_p=0.5),
    case("k1", top_k=1, top_p=1.0),
    case("k_eq_vocab", top_k=V, top_p=1.0),
    case("k_gt_vocab", top_k=2 * V, top_p=0.99),
    case("ties_k", top_k=9, top_p=1.0, kind="ties"),
    case("ties_k_p", top_k=50, top_p=0.9, kind="ties"),
    case("ties_minp", top_k=0, top_p=1.0, min_p=0.3, kind="ties"),
    case("peaked_p09", top_k=0, top_p=0.9, kind="peaked"),
    case("p0", top_k=0, top_p=0.0),
    case("minp1", top_k=0, top_p=1.0, min_p=1.0, kind="ties"),
    case("t05_minp01", T=0.5, top_k=0, top_p=1.0, min_p=0.1),
    case("rep13_window", rep=1.3, n_hist=100, edge=True),
    case("rep08_reward", rep=0.8, n_hist=40, top_k=0, top_p=0.9),
    case("rep15_neg", rep=1.5, n_hist=300, last_n=200, kind="neg", top_k=100),
    case("pres_freq", T=0.8, presence=0.5, frequency=0.3, n_hist=60, last_n=80, edge=True),
    case("last_n0", rep=1.3, presence=1.0, n_hist=50, last_n=0),
    case("suppress", suppress=[0, 5, 17, 999, 3, 3]),
    case("all_on", T=0.9, top_k=100, top_p=0.8, min_p=0.02, rep=1.1, presence=0.2,
         frequency=0.1, n_hist=90, suppress=[1, 2, 3, 500]),
    case("neginf_input", top_k=0, top_p=0.95, kind="neginf"),
    case("huge_p099", top_k=0, top_p=0.99, kind="huge"),
    case("flat_t2", T=2.0, top_k=10, top_p=0.3, min_p=0.2, kind="flat"),
    case("flat_wide", T=1.2, top_k=0, top_p=1.0, min_p=None, kind="flat"),
    case("big_wide_p095", V=30000, top_k=0, top_p=0.95, kind="wide"),
    case("big_p05", V=30000, T=0.8, top_k=0, top_p=0.5, kind="wide"),
]


def main():
    if transformers.__version__ != "5.23.0":
        print(f"warning: transformers {transformers.__version__}, fixtures were made with 5.23.0",
              file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    lines = [f"# made by tools/make_sampler_fixtures.py with transformers {transformers.__version__}"]
    all_logits, all_probs = [], []
    for i, c in enumerate(CASES):
        for attempt in range(200):
            r = run_case(c, 1000 * i + attempt)
            if r is not None:
                break
        else:
            sys.exit(f"{c['name']}: no seed with clear margins")
        logits, probs, hist, supp, greedy = r
        g = lambda v: "%.9g" % v
        mp = 0.0 if c["min_p"] is None else c["min_p"]
        lines.append(" ".join(
            ["case", c["name"], str(c["V"]), g(c["T"]), str(c["top_k"]), g(c["top_p"]), g(mp), g(c["rep"]),
             str(c["last_n"]), g(c["presence"]), g(c["frequency"]), str(len(hist))] +
            [str(t) for t in hist] + [str(len(supp))] + [str(t) for t in supp] + [str(greedy)]))
        all_logits.append(logits)
        all_probs.append(probs)
        print(f"{c['name']:16s} seed-attempt {attempt:3d} survivors {int((probs >= 0).sum()):4d} "
              f"pmax {probs.max():.4f}")
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    np.concatenate(all_logits).astype("<f4").tofile(os.path.join(OUT, "logits.bin"))
    np.concatenate(all_probs).astype("<f4").tofile(os.path.join(OUT, "probs.bin"))


if __name__ == "__main__":
    main()
