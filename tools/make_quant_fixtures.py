#!/usr/bin/env python3
"""make_quant_fixtures.py -- oracle fixtures for tests/test_quant.c, from gguf-py 0.19.0.

gguf-py (llama.cpp's own Python package) is the independent reference: it quantizes
F16/BF16/Q8_0/Q4_0 bit-exactly like ggml's reference C quantizers and dequantizes all
eight weight types we support.  It cannot quantize Q4_K/Q5_K/Q6_K, so for those we
write random but valid blocks (random bytes with sane f16 scales) and keep only its
dequantization.  Everything is seeded, so rerunning gives the same bytes.

Writes into tests/data/quant/ (raw little-endian arrays, no headers):
  types.txt                     "name id block_size type_size" per type (gguf constants)
  conv_f32.bin  (u32 bits)      f32 inputs for the scalar conversions, with ->
  conv_f16.bin  (u16)           numpy astype(float16) of them (round to nearest even)
  conv_bf16.bin (u16)           gguf BF16 quantization of them
  conv_h.bin    (u16)           f16 bit patterns, with ->
  conv_h_f32.bin (u32)          numpy astype(float32) of them
  <type>_src.f32                f32 input rows (types we can quantize)
  <type>_q.bin                  gguf-py's quantized bytes (or random blocks for K types)
  <type>_deq.f32                gguf-py's dequantization of <type>_q.bin

Usage: /work/pyenv/bin/python tools/make_quant_fixtures.py  (from the repo root)
"""
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "quant")
TYPES = [T.F32, T.F16, T.Q4_0, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K, T.BF16, T.Q5_0]  # Q5_0: read-only (Gemma 3 GGUFs)
NAMES = {T.F32: "f32", T.F16: "f16", T.Q4_0: "q4_0", T.Q8_0: "q8_0",
         T.Q4_K: "q4_K", T.Q5_K: "q5_K", T.Q6_K: "q6_K", T.BF16: "bf16", T.Q5_0: "q5_0"}


def write(name, arr):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(np.ascontiguousarray(arr).tobytes())


def src_rows(rng, nblocks, blck):
    """Random f32 data in blocks of blck, with the edge cases the quantizers must get right."""
    x = rng.standard_normal((nblocks, blck)).astype(np.float32)
    # per-block scale spread over many magnitudes
    x *= np.float32(10.0) ** rng.uniform(-4, 3, size=(nblocks, 1)).astype(np.float32)
    x[0] = 0.0                                              # zeros-only block (+0.0)
    x[1] = -np.abs(x[1]); x[1, 5] = -50.0                   # max |x| is negative
    x[2] = rng.uniform(-1e6, 3e6, blck)                     # huge but f16 d stays finite
    x[3] = rng.uniform(-1e-30, 1e-30, blck)                 # tiny: f16 d flushes to 0
    x[4] = rng.integers(-8, 8, blck).astype(np.float32)     # integers: exact ties for q4_0
    x[4, 0] = -8.0; x[4, 1] = 8.0                           # |max| tie: the first one wins
    x[5] = rng.integers(-127, 128, blck) / np.float32(2)    # halves: round-half-away ties
    x[5, 3] = 63.5
    x[6] = rng.uniform(-1e9, 1e9, blck)                     # d overflows f16 -> inf
    x[7, :] = 1.0; x[7, ::3] = -1.0                         # few distinct values
    return x.astype(np.float32).reshape(-1)


def kquant_blocks(rng, qtype, nblocks):
    """Random valid K-quant super-blocks: random payload bytes, sane f16 scales."""
    _, size = GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, (nblocks, size), dtype=np.uint8)
    d = (10.0 ** rng.uniform(-4, -1, nblocks)).astype(np.float16)
    d[1] = -d[1]                      # negative super-scale
    d[2] = 0.0
    d[3] = np.float16(3.0)            # large
    d[4] = np.float16(6.0e-8)         # f16 subnormal
    if qtype == T.Q6_K:               # {ql[128], qh[64], int8 scales[16], f16 d}
        b[:, 208:210] = d.view(np.uint8).reshape(nblocks, 2)
    else:                             # {f16 d, f16 dmin, scales[12], ...}
        dmin = (10.0 ** rng.uniform(-4, -1, nblocks)).astype(np.float16)
        dmin[5] = 0.0
        b[:, 0:2] = d.view(np.uint8).reshape(nblocks, 2)
        b[:, 2:4] = dmin.view(np.uint8).reshape(nblocks, 2)
    return b


def conv_inputs(rng):
    """f32 bit patterns around every f16 edge: specials, subnormals, overflow, exact ties."""
    v = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
         0x7fc00001, 0x7fffffff, 0x3f800000, 0xbf800000,
         0x477fe000,  # 65504 = f16 max
         0x477fefff, 0x477ff000, 0x477ff001, 0x47800000, 0x7f7fffff, 0xff7fffff,
         0x38800000,  # 2^-14 = f16 min normal
         0x33800000,  # 2^-24 = f16 min subnormal
         0x33000000, 0x33000001, 0x32ffffff, 0x33c00000, 0x34200000, 0x00000001, 0x00800000,
         0x3f801000, 0x3f803000, 0x3f801001, 0x3f802fff]  # 1+2^-11 and 1+3*2^-11: ties to even
    v = np.array(v, dtype=np.uint32)
    # every f16 value's midpoint to its neighbour (ties), and +-1 ulp around it
    h = np.arange(0, 0x7c00, 17, dtype=np.uint32)
    lo = h.astype(np.uint16).view(np.float16).astype(np.float64)
    hi = (h + 1).astype(np.uint16).view(np.float16).astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32).view(np.uint32)   # exact in f32
    sgn = rng.integers(0, 2, mid.size, dtype=np.uint32) << np.uint32(31)
    ties = np.concatenate([mid, mid + 1, mid - 1]) | np.concatenate([sgn, sgn, sgn])
    rnd = rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32)
    # random values in the f16 range, incl. subnormals
    e = rng.integers(100, 145, 3000, dtype=np.uint32) << np.uint32(23)
    m = rng.integers(0, 1 << 23, 3000, dtype=np.uint32)
    near = e | m | (rng.integers(0, 2, 3000, dtype=np.uint32) << np.uint32(31))
    allv = np.concatenate([v, ties, rnd, near]).astype(np.uint32)
    # keep signalling NaNs out of the exact comparison set: numpy keeps them signalling,
    # F16C (and we) quiet them.  Quiet NaNs and everything else must match bit for bit.
    f = allv.view(np.float32)
    snan = np.isnan(f) & ((allv & np.uint32(0x00400000)) == 0)
    return allv[~snan]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240417)
    with open(os.path.join(OUT, "types.txt"), "w") as f:
        for t in TYPES:
            blck, size = GGML_QUANT_SIZES[t]
            f.write(f"{NAMES[t]} {int(t)} {blck} {size}\n")

    # scalar conversions
    c = conv_inputs(rng)
    with np.errstate(over="ignore", invalid="ignore"):
        c16 = c.view(np.float32).astype(np.float16).view(np.uint16)
    cbf = quantize(c.view(np.float32), T.BF16).view(np.uint16)
    write("conv_f32.bin", c)
    write("conv_f16.bin", c16)
    write("conv_bf16.bin", cbf)
    h = np.concatenate([np.arange(0, 0x0800), np.arange(0x7800, 0x8800), np.arange(0xf800, 0x10000),
                        rng.integers(0, 0x10000, 4000)]).astype(np.uint16)
    write("conv_h.bin", h)
    write("conv_h_f32.bin", h.view(np.float16).astype(np.float32).view(np.uint32))

    for t in TYPES:
        blck, size = GGML_QUANT_SIZES[t]
        name = NAMES[t]
        if t in (T.Q4_K, T.Q5_K, T.Q6_K):
            q = kquant_blocks(rng, t, 16)
        else:
            nb = 96 if blck > 1 else 12       # block rows: 96*32 = 3072; plain floats: 12*256
            x = src_rows(rng, nb, blck if blck > 1 else 256)
            if blck == 1:                      # specials only make sense for the float types
                x[100:108] = np.array([np.inf, -np.inf, np.nan, -0.0, 1e-40, 7e4, 65504, 65520], np.float32)
            write(f"{name}_src.f32", x)
            with np.errstate(over="ignore", invalid="ignore"):
                q = quantize(x, t)
            q = np.ascontiguousarray(q).view(np.uint8)
        with np.errstate(over="ignore", invalid="ignore"):
            deq = dequantize(q.reshape(-1), t).astype(np.float32)
        assert q.size // size * blck == deq.size
        write(f"{name}_q.bin", q)
        write(f"{name}_deq.f32", deq)

    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {total} bytes")


if __name__ == "__main__":
    main()
