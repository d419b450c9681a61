#!/usr/bin/env python3
"""make_gguf_fixtures.py -- GGUF fixtures for tests/test_gguf.c, written and described by gguf-py.

The oracle is the `gguf` package (gguf-py 0.19.0 from llama.cpp): its GGUFWriter writes the
files and its GGUFReader describes them into JSON, which the C test compares against what
src/model/gguf.c reads.

  make_gguf_fixtures.py [OUTDIR]          write (default tests/data/gguf/):
      small.gguf + small.json  every scalar type, strings, arrays of many types (gemma4-like
                               per-layer arrays, a token list), tensors f32/f16/bf16/q8_0/q4_K
                               in 1..4 dims.  The C reader test and the copy test use it.
      ours.gguf + ours.json    only the value types our writer has setters for and tensors of
                               every type we support.  The C test rebuilds this file with
                               g4_gguf_writer from ours.json and requires identical bytes.
  make_gguf_fixtures.py --check FILE EXPECT.json
      read FILE with GGUFReader and compare it to EXPECT.json (exit status 1 on a mismatch).

JSON: {"version", "alignment", "data_offset", "file_size",
       "kvs": [{"key", "type", "value"}], "tensors": [{"name", "type", "ne", "offset", "nbytes", "hex"}]}
Integers are decimal strings, floats are float.hex() strings (exact; C strtod reads them),
bools are JSON booleans, strings are JSON strings; arrays are {"elem": type, "values": [...]}.
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGUFValueType as VT, GGMLQuantizationType as QT

INT_TYPES = {VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.UINT64, VT.INT64}
FLOAT_TYPES = {VT.FLOAT32, VT.FLOAT64}


def enc_scalar(t, v):
    if t in INT_TYPES:
        return str(int(v))
    if t in FLOAT_TYPES:
        return float(v).hex()
    if t == VT.BOOL:
        return bool(v)
    if t == VT.STRING:
        return bytes(v).decode("utf-8") if not isinstance(v, str) else v
    raise ValueError(f"type {t}")


def describe(path):
    """Everything GGUFReader sees in path, as JSON-able data."""
    r = gguf.GGUFReader(path)
    kvs = []
    for key, f in r.fields.items():
        if key.startswith("GGUF."):
            continue
        t = f.types[0]
        if t == VT.ARRAY:
            et = f.types[-1] if len(f.types) > 1 else None
            vals = [enc_scalar(et, f.parts[i] if et == VT.STRING else f.parts[i][0]) for i in f.data]
            value = {"elem": int(et), "values": vals}
        elif t == VT.STRING:
            value = enc_scalar(t, f.parts[f.data[0]])
        else:
            value = enc_scalar(t, f.parts[f.data[0]][0])
        kvs.append({"key": key, "type": int(t), "value": value})
    tensors = []
    raw = bytes(r.data)
    for t in r.tensors:
        ne = [int(x) for x in t.field.parts[3]]
        off = int(t.field.parts[5][0])
        assert t.data_offset == r.data_offset + off
        tensors.append({"name": t.name, "type": int(t.tensor_type), "ne": ne, "offset": off,
                        "nbytes": int(t.n_bytes), "hex": raw[t.data_offset:t.data_offset + t.n_bytes].hex()})
    version = int(r.fields["GGUF.version"].parts[0][0])
    return {"version": version, "alignment": int(r.alignment), "data_offset": int(r.data_offset),
            "file_size": len(raw), "kvs": kvs, "tensors": tensors}


def rand_bytes(rng, n):
    return rng.integers(0, 256, size=n, dtype=np.uint8)


def add_raw_tensor(w, rng, name, qtype, ne):
    """Random bytes of the right size for a tensor of qtype with shape ne (ggml order)."""
    blck, size = gguf.GGML_QUANT_SIZES[qtype]
    assert ne[0] % blck == 0
    row = ne[0] // blck * size
    shape = tuple(reversed(ne[1:])) + (row,)
    data = rand_bytes(rng, int(np.prod(shape))).reshape(shape)
    if qtype == QT.F32:  # keep f32 data finite and recognisable
        data = rng.standard_normal(int(np.prod(shape)) // 4).astype(np.float32).view(np.uint8).reshape(shape)
    w.add_tensor(name, data, raw_dtype=qtype)


def write_small(path):
    rng = np.random.default_rng(1234)
    w = gguf.GGUFWriter(path, "gemma4")
    w.add_custom_alignment(32)
    w.add_name("tiny gemma4 fixture")
    w.add_block_count(6)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 3.14159)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_uint64("test.u64", 2**64 - 1)
    w.add_int64("test.i64", -2**63)
    w.add_float64("test.f64", 2.718281828459045)
    w.add_key_value("test.str_empty", "", VT.STRING)
    w.add_string("test.str_utf8", "h\u00e9llo \u2581w\u00f6rld \U0001F600")
    w.add_key_value("gemma4.attention.head_count_kv", [8, 8, 8, 8, 8, 4], VT.ARRAY, sub_type=VT.UINT32)
    w.add_array("gemma4.attention.sliding_window_pattern", [True, True, True, True, True, False])
    w.add_float32("gemma4.rope.freq_base", 1000000.0)
    w.add_array("test.arr_i32", [-1, 2, -3, 2147483647, -2147483648])
    w.add_array("test.arr_f32", [0.5, -1.25, 3.0e-8, 1e30])
    w.add_key_value("test.arr_u8", [0, 1, 255], VT.ARRAY, sub_type=VT.UINT8)
    w.add_key_value("test.arr_i8", [-128, 0, 127], VT.ARRAY, sub_type=VT.INT8)
    w.add_key_value("test.arr_u16", [0, 65535], VT.ARRAY, sub_type=VT.UINT16)
    w.add_key_value("test.arr_i16", [-32768, 32767], VT.ARRAY, sub_type=VT.INT16)
    w.add_key_value("test.arr_u64", [0, 2**63, 2**64 - 1], VT.ARRAY, sub_type=VT.UINT64)
    w.add_key_value("test.arr_i64", [-2**63, -1, 2**63 - 1], VT.ARRAY, sub_type=VT.INT64)
    w.add_key_value("test.arr_f64", [1.0 / 3.0, -0.0, 1e300], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_token_list(["<pad>", "<eos>", "<bos>", "\u2581hello", "", "world", "<start_of_turn>"])
    w.add_token_scores([0.0, 0.0, 0.0, -1.5, -2.25, -3.0, 0.0])
    w.add_token_types([3, 3, 3, 1, 1, 1, 4])
    add_raw_tensor(w, rng, "token_embd.weight", QT.Q8_0, [64, 3])
    add_raw_tensor(w, rng, "blk.0.attn_q.weight", QT.F16, [16, 4])
    add_raw_tensor(w, rng, "blk.0.attn_norm.weight", QT.F32, [12])
    add_raw_tensor(w, rng, "blk.0.ffn_up.weight", QT.Q4_K, [256, 2])
    add_raw_tensor(w, rng, "blk.0.ffn_down.weight", QT.BF16, [8, 2, 3])
    add_raw_tensor(w, rng, "blk.0.four_d", QT.F32, [2, 2, 2, 2])
    add_raw_tensor(w, rng, "output_norm.weight", QT.F32, [8])  # 32 bytes: the file ends with data
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ours.gguf: value types our writer has setters for (u32, i32, u64, f32, bool, string, arrays).
def write_ours(path):
    rng = np.random.default_rng(99)
    w = gguf.GGUFWriter(path, "gemma4")
    w.add_uint32("gemma4.context_length", 131072)
    w.add_int32("test.i32", -7)
    w.add_uint64("test.u64", 2**63 + 12345)
    w.add_float32("test.f32", -0.1)
    w.add_bool("test.bool", True)
    w.add_string("general.name", "written by g4_gguf_writer")
    w.add_key_value("test.str_empty", "", VT.STRING)
    w.add_key_value("test.arr_u8", [1, 2, 3], VT.ARRAY, sub_type=VT.UINT8)
    w.add_key_value("test.arr_i8", [-1, -2], VT.ARRAY, sub_type=VT.INT8)
    w.add_key_value("test.arr_u16", [65535], VT.ARRAY, sub_type=VT.UINT16)
    w.add_key_value("test.arr_i16", [-32768, 5], VT.ARRAY, sub_type=VT.INT16)
    w.add_key_value("gemma4.attention.head_count_kv", [16, 8, 16, 8], VT.ARRAY, sub_type=VT.UINT32)
    w.add_key_value("test.arr_i32", [-5, 5], VT.ARRAY, sub_type=VT.INT32)
    w.add_key_value("test.arr_f32", [1.5, -2.5, 1e-20], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_array("gemma4.attention.sliding_window_pattern", [True, False, True, False])
    w.add_key_value("test.arr_u64", [2**64 - 2], VT.ARRAY, sub_type=VT.UINT64)
    w.add_key_value("test.arr_i64", [-2**62, 3], VT.ARRAY, sub_type=VT.INT64)
    w.add_key_value("test.arr_f64", [0.1, -1e-300], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_token_list(["a", "", "\u2581b\u00e9", "<unused99>"])
    for i, (qt, ne) in enumerate([(QT.F32, [5]), (QT.F16, [3, 7]), (QT.BF16, [4, 1, 3]),
                                  (QT.Q8_0, [32, 2, 1, 2]), (QT.Q4_0, [64]), (QT.Q4_K, [256, 1]),
                                  (QT.Q5_K, [256, 2]), (QT.Q6_K, [512])]):
        add_raw_tensor(w, rng, f"t{i}.{qt.name.lower()}", qt, ne)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(obj, fp, indent=1, ensure_ascii=False)
        fp.write("\n")


def check(path, expect_path):
    got = describe(path)
    with open(expect_path, encoding="utf-8") as fp:
        want = json.load(fp)
    bad = 0
    for k in ("version", "alignment", "data_offset", "file_size"):
        if got[k] != want[k]:
            print(f"{k}: got {got[k]}, want {want[k]}")
            bad += 1
    for section, name in (("kvs", "key"), ("tensors", "name")):
        g, w = got[section], want[section]
        if [x[name] for x in g] != [x[name] for x in w]:
            print(f"{section}: names/order differ: got {[x[name] for x in g]}, want {[x[name] for x in w]}")
            bad += 1
            continue
        for a, b in zip(g, w):
            if a != b:
                print(f"{section} {a[name]}: got {a}, want {b}")
                bad += 1
    print(f"{path}: {'OK' if not bad else f'{bad} mismatches'} against {expect_path} (gguf-py GGUFReader)")
    return 1 if bad else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/gguf"
    os.makedirs(out, exist_ok=True)
    for stem, fn in (("small", write_small), ("ours", write_ours)):
        g = os.path.join(out, stem + ".gguf")
        fn(g)
        dump(describe(g), os.path.join(out, stem + ".json"))
        print(f"wrote {g} ({os.path.getsize(g)} bytes) and {stem}.json")


if __name__ == "__main__":
    main()
