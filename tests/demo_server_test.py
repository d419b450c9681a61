#!/usr/bin/env python3
"""demo_server_test.py PORT CASES_JSON -- the bundled demo model through `gemma4 serve` and the official openai
client: every text case of tests/data/demo/cases.json (plain questions, a tool call the model makes on its
own, the answer after a tool result) asked greedily must come back as PyTorch answered it on the same
weights: content as text, a tool call as `tool_calls` (name and arguments), streaming or not.  Run by
tests/cli_demo.sh."""
import json
import sys

import openai

port, path = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url="http://127.0.0.1:%s/v1" % port, api_key="none")
cases = [c for c in json.load(open(path))["cases"] if "messages" in c]
fails = 0


def printed(name, args):
    return "[tool call] %s %s" % (name, json.dumps(json.loads(args), separators=(",", ":")))


for i, case in enumerate(cases):
    kw = dict(model="gemma4-demo", messages=case["messages"], temperature=0, max_tokens=32)
    if case["tools"]:
        kw["tools"] = case["tools"]
    stream = i % 2 == 1
    if stream:
        content, calls, finish = "", {}, None
        for ch in client.chat.completions.create(stream=True, **kw):
            d = ch.choices[0].delta if ch.choices else None
            if d and d.content:
                content += d.content
            for tc in (d.tool_calls or []) if d else []:
                c = calls.setdefault(tc.index, {"name": "", "args": ""})
                c["name"] += tc.function.name or ""
                c["args"] += tc.function.arguments or ""
            if ch.choices and ch.choices[0].finish_reason:
                finish = ch.choices[0].finish_reason
        got = printed(calls[0]["name"], calls[0]["args"]) if calls else content
    else:
        r = client.chat.completions.create(**kw)
        m, finish = r.choices[0].message, r.choices[0].finish_reason
        got = printed(m.tool_calls[0].function.name, m.tool_calls[0].function.arguments) if m.tool_calls else m.content
    want = case["torch_q8_0"]
    want_finish = "tool_calls" if want.startswith("[tool call]") else None
    ok = got == want and (want_finish is None or finish == want_finish)
    print("%s %s (%s): %r, PyTorch %r, finish %s" % ("ok  " if ok else "FAIL", case["name"],
                                                      "stream" if stream else "json", got, want, finish))
    fails += not ok
print("demo_server_test: %d cases, %d failed" % (len(cases), fails))
sys.exit(1 if fails or not cases else 0)
