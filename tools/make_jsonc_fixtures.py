#!/usr/bin/env python3
"""make_jsonc_fixtures.py -- cases for tests/test_json_constrain.c, labelled by Python's json module.

Writes tests/data/jsonc/cases.jsonl: {"hex": the text's bytes in hex, "object": 1 if
json.loads(bytes.decode("utf-8")) succeeds (NaN/Infinity refused, as RFC 8259 does) and gives a dict}.
Texts: random JSON objects printed in several styles, and random byte mutations of them.  Texts with a
whitespace run over 16 bytes, nesting over 32 or trailing whitespace are left out (the recogniser caps
the first two on purpose, and nothing follows a finished object).  Needs only the standard library.
Usage: python3 tools/make_jsonc_fixtures.py [N]
"""
import json
import random
import re
import sys

rng = random.Random(4)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
WORDS = ["a", "key", "ü", "日本", "😀", "quote\"d", "back\\slash", "tab\t", "new\nline", "\u0001", "", "x y",
         "\ud7ff", "\ue000"]


def value(d):
    r = rng.random()
    if d < 5 and r < 0.25:
        return {rng.choice(WORDS) + str(rng.randint(0, 9)): value(d + 1) for _ in range(rng.randint(0, 3))}
    if d < 5 and r < 0.4:
        return [value(d + 1) for _ in range(rng.randint(0, 3))]
    if r < 0.55:
        return rng.choice(WORDS)
    if r < 0.7:
        return rng.randint(-10**6, 10**6)
    if r < 0.8:
        return rng.choice([0.5, -1.25e-7, 3e21, 1.0, -0.0])
    return rng.choice([True, False, None])


def label(b):
    try:
        v = json.loads(b.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 0
    return int(isinstance(v, dict))


def keep(b):
    return not re.search(rb"[ \t\r\n]{17}", b) and b == b.rstrip(b" \t\r\n") and \
        max(b.count(b"{") + b.count(b"["), 0) <= 32


cases = []
seen = set()
while len(cases) < N:
    obj = {rng.choice(WORDS): value(1) for _ in range(rng.randint(0, 4))}
    style = rng.randint(0, 3)
    text = json.dumps(obj, ensure_ascii=style == 0, indent=2 if style == 1 else None,
                      separators=(",", ":") if style == 2 else None)
    b = text.encode()
    if rng.random() < 0.6:  # a mutation: change, drop or insert one byte, or cut the end
        i = rng.randrange(len(b) + 1)
        kind = rng.randint(0, 3)
        pick = rng.choice(b'{}[]",:0123456789.eE+-tfnul\\ \x00\x1f\x80\xbf\xc0\xc3\xe0\xed\xf0\xf4\xff')
        if kind == 0 and i < len(b):
            b = b[:i] + bytes([pick]) + b[i + 1:]
        elif kind == 1 and i < len(b):
            b = b[:i] + b[i + 1:]
        elif kind == 2:
            b = b[:i] + bytes([pick]) + b[i:]
        else:
            b = b[:i]
    if not b or not keep(b) or b in seen:
        continue
    seen.add(b)
    cases.append({"hex": b.hex(), "object": label(b)})
# hand-picked edges
for t in [b'{}', b' {"a":[]}', b'{"a":01}', b'{"a":1.}', b'{"a":-}', b'{"a":1,}', b'[1]', b'"x"', b'{"a" 1}',
          b'{"a":tru}', b'{"a":NaN}', b'{"\xc0\x80":1}', b'{"\xed\xa0\x80":1}', b'{"\\ud800":1}', b'{"a":1e+5}',
          b'{"a":-0.0E-0}', b'{"a":"\\u00e9\\n"}', b'{"a":"\\x"}', b'{"a":1}x']:
    if t not in seen and keep(t):
        cases.append({"hex": t.hex(), "object": label(t)})
with open("tests/data/jsonc/cases.jsonl", "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), "cases,", sum(c["object"] for c in cases), "valid objects")
