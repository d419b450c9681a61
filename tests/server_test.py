"""server_test.py -- drive a running `gemma4 serve` with the official openai client and raw HTTP.

Run by tests/cli_serve.sh, which starts two servers on the tiny multimodal model: A (--parallel 2,
--max-body 2000000, --media-dir) and B (--api-key, --max-queue 0, --parallel 1).  The oracle for
generated text and prompt sizes is `gemma4 run` with the same prompt, media and sampling (the CLI is
checked against transformers elsewhere); errors are checked for status and OpenAI's error shape.
"""
import argparse
import base64
import http.client
import json
import math
import re
import socket
import subprocess
import threading
import time

import openai

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--port-key", type=int, required=True)
ap.add_argument("--bin", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--media-dir", required=True)
args = ap.parse_args()

PASS, FAIL = 0, 0


def check(cond, what):
    global PASS, FAIL
    if cond:
        PASS += 1
    else:
        FAIL += 1
        print("FAIL:", what, flush=True)


def cli(*a):
    """stdout of `gemma4 run` (its trailing newline removed) and the prompt size."""
    p = subprocess.run([args.bin, "run", "-m", args.model, "--verbose-prompt", *a], capture_output=True, timeout=300)
    if p.returncode:
        raise RuntimeError("gemma4 run failed: " + p.stderr.decode(errors="replace"))
    n = int(re.search(rb"prompt ids \((\d+)\)", p.stderr).group(1))
    ids = [int(x) for x in re.search(rb"prompt ids \(\d+\): ([\d,]+)", p.stderr).group(1).split(b",")]
    out = p.stdout.decode("utf-8", errors="replace")
    return out[:-1] if out.endswith("\n") else out, n, ids


def raw(method, path, body=None, headers=None, port=None):
    c = http.client.HTTPConnection("127.0.0.1", port or args.port, timeout=120)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=headers or {},
              encode_chunked="Transfer-Encoding" in (headers or {}))
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    return r.status, j, r, data


def is_error(status, j, want, param=None):
    ok = isinstance(j, dict) and isinstance(j.get("error"), dict) and \
        all(k in j["error"] for k in ("message", "type", "param", "code")) and isinstance(j["error"]["message"], str)
    if param is not None:
        ok = ok and j["error"]["param"] == param
    return status == want and ok


def metric(name, port=None):
    _, _, _, data = raw("GET", "/metrics", port=port)
    m = re.search(r"^%s ([\d.e+-]+)$" % name, data.decode(), re.M)
    return float(m.group(1)) if m else None


client = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % args.port, api_key="none", max_retries=0, timeout=300)
b64 = lambda path: base64.b64encode(open(path, "rb").read()).decode()

# ---- models ----
models = client.models.list()
check([m.id for m in models.data] == ["tiny-mm"], "/v1/models lists tiny-mm: %r" % models)

# ---- chat, non-streaming: greedy text and usage equal `gemma4 run` ----
want, n_prompt, _ = cli("--greedy", "-n", "8", "-p", "Hello")
r = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Hello"}],
                                   max_tokens=8, temperature=0)
check(r.choices[0].message.content == want, "chat greedy: %r vs gemma4 run %r" % (r.choices[0].message.content, want))
check(r.choices[0].finish_reason == "length", "max_tokens -> finish_reason length: %r" % r.choices[0].finish_reason)
check(r.usage.prompt_tokens == n_prompt and r.usage.completion_tokens == 8 and r.usage.total_tokens == n_prompt + 8,
      "usage %r (prompt %d)" % (r.usage, n_prompt))
check(r.object == "chat.completion" and r.choices[0].message.role == "assistant", "response shape")

# ---- chat, streaming ----
s = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Hello"}], max_tokens=8,
                                   temperature=0, stream=True, stream_options={"include_usage": True})
chunks = list(s)
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check(chunks[0].choices[0].delta.role == "assistant", "first chunk has the role")
check(text == want, "chat streaming text %r vs %r" % (text, want))
fin = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
check(fin == ["length"], "streaming finish_reason %r" % fin)
check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8 and
      chunks[-1].usage.prompt_tokens == n_prompt and not chunks[-1].choices, "usage chunk %r" % chunks[-1])

# ---- sampling with a seed equals the CLI's ----
want_s, _, _ = cli("-n", "16", "--seed", "2", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "-p", "The quick brown fox")
r = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "The quick brown fox"}],
                                   max_tokens=16, temperature=1.5, top_p=1, seed=2, extra_body={"top_k": 0})
check(r.choices[0].message.content == want_s, "seeded chat %r vs %r" % (r.choices[0].message.content, want_s))

# ---- /v1/completions: raw prompt, greedy and seeded, streaming, stop strings ----
want_raw, n_raw, _ = cli("--raw", "-n", "24", "--seed", "1", "--temp", "1.5", "--top-k", "0", "--top-p", "1",
                         "-p", "The quick brown fox")
kw = dict(model="tiny-mm", prompt="The quick brown fox", max_tokens=24, temperature=1.5, top_p=1, seed=1,
          extra_body={"top_k": 0})
c = client.completions.create(**kw)
check(c.choices[0].text == want_raw, "completions %r vs gemma4 run --raw %r" % (c.choices[0].text, want_raw))
check(c.usage.prompt_tokens == n_raw and c.usage.completion_tokens == 24, "completions usage %r" % c.usage)
st = "".join(x.choices[0].text for x in client.completions.create(stream=True, **kw) if x.choices)
check(st == want_raw, "streaming completions %r" % st)
stop = want_raw[len(want_raw) // 2:len(want_raw) // 2 + 2]
if stop:
    c = client.completions.create(stop=[stop, "never-seen"], **kw)
    check(c.choices[0].text == want_raw[:want_raw.index(stop)] and c.choices[0].finish_reason == "stop",
          "stop %r: %r %r" % (stop, c.choices[0].text, c.choices[0].finish_reason))
    st = "".join(x.choices[0].text for x in client.completions.create(stream=True, stop=stop, **kw) if x.choices)
    check(st == want_raw[:want_raw.index(stop)], "streaming stop %r: %r" % (stop, st))
r = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Hello"}],
                                   max_tokens=8, temperature=0, stop="<chan")
check(r.choices[0].message.content == want[:want.find("<chan")] if "<chan" in want else True, "chat stop")

# ---- media: image_url data URI, input_audio, video_url, a --media-dir file ----
want_img, n_img, _ = cli("--greedy", "-n", "6", "--image", "tests/data/mm/cat.png", "-p", "What is this?")
msg = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64," +
                                                                          b64("tests/data/mm/cat.png")}},
                                    {"type": "text", "text": "What is this?"}]}]
r = client.chat.completions.create(model="tiny-mm", messages=msg, max_tokens=6, temperature=0)
check(r.usage.prompt_tokens == n_img and r.choices[0].message.content == want_img,
      "image: %d prompt tokens (run: %d), %r vs %r" % (r.usage.prompt_tokens, n_img, r.choices[0].message.content, want_img))
want_aud, n_aud, _ = cli("--greedy", "-n", "6", "--audio", "tests/data/mm/speech.wav", "-p", "Transcribe.")
msg = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": b64("tests/data/mm/speech.wav"),
                                                                            "format": "wav"}},
                                    {"type": "text", "text": "Transcribe."}]}]
r = client.chat.completions.create(model="tiny-mm", messages=msg, max_tokens=6, temperature=0)
check(r.usage.prompt_tokens == n_aud and r.choices[0].message.content == want_aud,
      "audio: %d prompt tokens (run: %d)" % (r.usage.prompt_tokens, n_aud))
_, n_vid, _ = cli("--greedy", "-n", "2", "--video", "tests/data/mm/clip.mp4", "-p", "What happens?")
for part in ({"type": "video_url", "video_url": {"url": "data:video/mp4;base64," + b64("tests/data/mm/clip.mp4")}},
             {"type": "input_video", "input_video": {"url": "data:video/mp4;base64," + b64("tests/data/mm/clip.mp4")}}):
    st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
        part, {"type": "text", "text": "What happens?"}]}], "max_tokens": 2, "temperature": 0})
    check(st_ == 200 and j["usage"]["prompt_tokens"] == n_vid, "%s: %s %s (run: %d)" % (part["type"], st_, j, n_vid))
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "cat.png"}}, {"type": "text", "text": "What is this?"}]}],
    "max_tokens": 6, "temperature": 0})
check(st_ == 200 and j["usage"]["prompt_tokens"] == n_img, "--media-dir file: %s %s" % (st_, j))
for bad in ("../cli_serve/cat.png", "/etc/passwd", "nope.png", "file:///etc/hostname"):
    st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": bad}}]}], "max_tokens": 2})
    check(is_error(st_, j, 400), "media path %r refused: %s %s" % (bad, st_, j))

# ---- tools and reasoning requests are accepted (the tiny model's output is noise) ----
tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
msgs = [{"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                              "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
r = client.chat.completions.create(model="tiny-mm", messages=msgs, tools=tools, max_tokens=4, temperature=0,
                                   reasoning_effort="high")
check(r.choices[0].finish_reason in ("stop", "length", "tool_calls"), "tool round trip request")

# ---- tool_choice: required / a named function: the reply is one well-formed call of a declared tool ----
tools2 = tools + [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]
for choice, prefix in (("required", "<|tool_call>call:"), ({"type": "function", "function": {"name": "get_weather"}},
                                                         "<|tool_call>call:get_weather{")):
    for seed in range(3):
        body = {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools2, "tool_choice": choice,
                "max_tokens": 60, "temperature": 1.0, "seed": seed, "logprobs": True}
        st_, j, _, _ = raw("POST", "/v1/chat/completions", body)
        ok = st_ == 200
        if ok:
            ch = j["choices"][0]
            toks = "".join(e["token"] for e in ch["logprobs"]["content"])
            calls = ch["message"].get("tool_calls") or []
            ok = toks.startswith(prefix) and ch["finish_reason"] == "tool_calls" and len(calls) == 1 and \
                calls[0]["function"]["name"] in ("get_weather", "get_time") and \
                (choice == "required" or calls[0]["function"]["name"] == "get_weather") and \
                isinstance(json.loads(calls[0]["function"]["arguments"]), dict)
        check(ok, "tool_choice %r seed %d: %s %s" % (choice, seed, st_, j))
    s_calls = [c.choices[0].delta.tool_calls for c in client.chat.completions.create(
        model="tiny-mm", messages=[{"role": "user", "content": "Weather?"}], tools=tools2, tool_choice=choice,
        max_tokens=60, temperature=1.0, seed=5, stream=True) if c.choices and c.choices[0].delta.tool_calls]
    check(len(s_calls) == 1 and isinstance(json.loads(s_calls[0][0].function.arguments), dict),
          "streamed required call: %r" % s_calls)

# a round trip through the official client: the forced call, its result as a role:tool message, the answer
first = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Weather in Paris?"}],
                                       tools=tools2, tool_choice={"type": "function", "function": {"name": "get_weather"}},
                                       max_tokens=60, temperature=1.0, seed=1)
call = first.choices[0].message.tool_calls[0] if first.choices[0].message.tool_calls else None
if call:
    second = client.chat.completions.create(
        model="tiny-mm", tools=tools2, max_tokens=8, temperature=0,
        messages=[{"role": "user", "content": "Weather in Paris?"},
                  {"role": "assistant", "tool_calls": [call.model_dump()]},
                  {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}])
    _, n_rt, _ = cli("--greedy", "-n", "1", "-p", "x")  # (the round trip's prompt is longer than a bare turn)
    check(second.choices[0].finish_reason in ("stop", "length", "tool_calls") and second.usage.prompt_tokens > n_rt,
          "tool round trip: %r" % second)
check(call is not None, "the forced call came back as tool_calls: %r" % first)


# ---- logprobs: the model's log-softmax, checked against `gemma4 run --logits-out` step by step ----
def log_softmax(path):
    import array
    a = array.array("f")
    a.frombytes(open(path, "rb").read())
    mx = max(a)
    lse = mx + math.log(sum(math.exp(x - mx) for x in a))
    return [x - lse for x in a]


def run_logits(ids):
    out = args.media_dir + "/../logits.bin"
    subprocess.run([args.bin, "run", "-m", args.model, "--ids", ",".join(map(str, ids)), "-n", "1", "--greedy",
                    "--logits-out", out], capture_output=True, check=True, timeout=120)
    return log_softmax(out)


_, n_prompt, prompt_ids = cli("--greedy", "-n", "8", "-p", "Hello")
r = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Hello"}], max_tokens=8,
                                   temperature=0, logprobs=True, top_logprobs=3)
lp = r.choices[0].logprobs.content
check(len(lp) == r.usage.completion_tokens - (r.choices[0].finish_reason == "stop") and len(lp) > 0,
      "one logprob entry per token: %d for %d" % (len(lp), r.usage.completion_tokens))
check(b"".join(bytes(e.bytes) for e in lp).decode("utf-8", "replace") == r.choices[0].message.content,
      "the entries' bytes spell the content")
gen_ids = []
worst = 0.0
for e in lp:
    ref = run_logits(prompt_ids + gen_ids)
    order = sorted(range(len(ref)), key=lambda i: (-ref[i], i))
    tid = order[0]  # greedy: the entry's token is the argmax
    worst = max([worst, abs(e.logprob - ref[tid])] + [abs(t.logprob - ref[order[k]]) for k, t in enumerate(e.top_logprobs)])
    check(len(e.top_logprobs) == 3 and e.top_logprobs[0].token == e.token, "top_logprobs of %r" % e.token)
    gen_ids.append(tid)
check(worst < 1e-4, "logprobs within 1e-4 of log-softmax(gemma4 run logits): worst %.2e" % worst)
s_lp = []
for c in client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "Hello"}], max_tokens=8,
                                        temperature=0, logprobs=True, top_logprobs=3, stream=True):
    if c.choices and c.choices[0].logprobs and c.choices[0].logprobs.content:
        s_lp += c.choices[0].logprobs.content
check([(e.token, round(e.logprob, 5)) for e in s_lp] == [(e.token, round(e.logprob, 5)) for e in lp],
      "streamed logprobs equal the non-streamed ones")
c = client.completions.create(model="tiny-mm", prompt="The quick brown fox", max_tokens=6, temperature=0, logprobs=2)
L = c.choices[0].logprobs
check(len(L.tokens) == len(L.token_logprobs) == len(L.top_logprobs) == len(L.text_offset) == 6 and
      all(len(t) <= 2 for t in L.top_logprobs) and L.text_offset[0] == 0 and
      all(L.text_offset[i + 1] >= L.text_offset[i] for i in range(5)) and
      abs(L.token_logprobs[0] - max(run_logits(cli("--raw", "-n", "1", "-p", "The quick brown fox")[2]))) < 1e-4,
      "completions logprobs: %r" % L)

# ---- response_format json_object: the reply always parses as one object ----
parsed = 0
for seed in range(6):
    for mt in (12, 40, 120):
        r = client.chat.completions.create(model="tiny-mm", messages=[{"role": "user", "content": "JSON please"}],
                                           max_tokens=mt, temperature=1.0, seed=seed,
                                           response_format={"type": "json_object"})
        try:
            ok = isinstance(json.loads(r.choices[0].message.content), dict) and r.choices[0].finish_reason == "stop"
        except ValueError:
            ok = False
        parsed += ok
        check(ok and r.usage.completion_tokens <= mt, "json_object (seed %d, max_tokens %d): %r %s" %
              (seed, mt, r.choices[0].message.content, r.choices[0].finish_reason))
text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
    model="tiny-mm", messages=[{"role": "user", "content": "JSON please"}], max_tokens=30, temperature=1.0, seed=9,
    response_format={"type": "json_object"}, stream=True) if c.choices)
check(isinstance(json.loads(text), dict), "streamed json_object parses: %r" % text)
c = client.completions.create(model="tiny-mm", prompt="{", max_tokens=20, temperature=1.0, seed=3,
                              extra_body={"response_format": {"type": "json_object"}})
check(isinstance(json.loads(c.choices[0].text), dict), "completions json_object: %r" % c.choices[0].text)
print("json_object: %d of 18 sampled replies parse as objects" % parsed)

# ---- /tokenize, /detokenize ----
_, _, ids = cli("--raw", "-n", "1", "--greedy", "-p", "Hello world, ünïcode ✓")
st_, j, _, _ = raw("POST", "/tokenize", {"content": "Hello world, ünïcode ✓"})
check(st_ == 200 and j["tokens"] == ids[1:], "tokenize %s vs run %s" % (j, ids))
st_, j, _, _ = raw("POST", "/detokenize", {"tokens": ids[1:]})
check(st_ == 200 and j["content"] == "Hello world, ünïcode ✓", "detokenize %s" % j)
check(is_error(*raw("POST", "/tokenize", {"content": 5})[:2], 400), "tokenize wrong type")
check(is_error(*raw("POST", "/detokenize", {"tokens": [1, -1]})[:2], 400), "detokenize bad id")

# ---- errors ----
check(is_error(*raw("POST", "/v1/chat/completions", "{\"messages\": [")[:2], 400), "malformed JSON")
check(is_error(*raw("POST", "/v1/chat/completions", "")[:2], 400), "empty body")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": 5})[:2], 400, "messages"), "messages not a list")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "temperature": "hot"})[:2], 400, "temperature"), "temperature string")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "max_tokens": 0})[:2], 400, "max_tokens"), "max_tokens 0")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "stop": [1]})[:2], 400, "stop"), "stop not strings")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "bot", "content": "x"}]})[:2], 400),
      "unknown role")
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 1,
                                                     "frobnicate": {"a": [1, 2]}, "user": "u1"})
check(st_ == 200, "unknown fields ignored: %s %s" % (st_, j))
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@notbase64"}}]}]})
check(is_error(st_, j, 400) and "base64" in j["error"]["message"], "bad base64: %s %s" % (st_, j))
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"not a png").decode()}}]}]})
check(is_error(st_, j, 400), "undecodable image: %s %s" % (st_, j))
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]})
check(is_error(st_, j, 400), "remote URL refused")
check(is_error(*raw("GET", "/nope")[:2], 404), "unknown route 404")
st_, j, resp, _ = raw("GET", "/v1/chat/completions")
check(is_error(st_, j, 405) and resp.getheader("Allow") == "POST", "GET on a POST route: 405 + Allow")


def raw_big(*a, **kw):
    """An oversized upload: the server answers 413 and may close the connection while the client is still
    sending, which the client then sees as a broken pipe / reset (also acceptable: nothing was accepted)."""
    try:
        st, j, _, _ = raw(*a, **kw)
        return is_error(st, j, 413), st
    except (BrokenPipeError, ConnectionResetError) as e:
        return True, repr(e)


ok_, st_ = raw_big("POST", "/v1/chat/completions", "{\"messages\": \"" + "x" * 2500000 + "\"}")
check(ok_, "body over --max-body: %s" % st_)
ok_, st_ = raw_big("POST", "/v1/chat/completions", (b"x" * 100000 for _ in range(22)),
                   headers={"Transfer-Encoding": "chunked"})
check(ok_, "chunked body over --max-body: %s" % st_)
many = [{"role": "user" if i % 2 == 0 else "assistant", "content": "message %d" % i} for i in range(10000)]
st_, j, _, _ = raw("POST", "/v1/chat/completions", {"messages": many, "max_tokens": 1})
check(is_error(st_, j, 400) and "context" in j["error"]["message"], "10,000 messages: %s %s" % (st_, str(j)[:200]))
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "top_logprobs": 2})[:2], 400, "top_logprobs"), "top_logprobs alone")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "logprobs": True,
                                                     "top_logprobs": 21})[:2], 400, "top_logprobs"), "top_logprobs 21")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "response_format": {"type": "json_schema"}})[:2], 400,
               "response_format"), "json_schema not supported yet: 400")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                                     "tool_choice": "required"})[:2], 400, "tool_choice"),
      "tool_choice required without tools")
check(is_error(*raw("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "tools": tools,
                                                     "tool_choice": {"type": "function", "function": {"name": "nope"}}})[:2],
               400, "tool_choice"), "tool_choice names an unknown tool")


# ---- a client that disconnects mid-stream, and one that leaves before a non-streaming reply ----
def leave_early(stream):
    gen0 = metric("gemma4_generated_tokens_total")
    body = json.dumps({"messages": [{"role": "user", "content": "Go on"}], "max_tokens": 3000, "ignore_eos": True,
                       "temperature": 0, "stream": stream}).encode()
    s = socket.create_connection(("127.0.0.1", args.port))
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    if stream:
        got = b""
        while got.count(b"data: ") < 3:
            got += s.recv(4096)
    else:
        time.sleep(0.5)
    s.close()
    for _ in range(100):
        if metric("gemma4_busy_slots") == 0:
            break
        time.sleep(0.1)
    gen = metric("gemma4_generated_tokens_total") - gen0
    check(metric("gemma4_busy_slots") == 0 and gen < 2000, "disconnect (stream=%s) stops generation: %d tokens" % (stream, gen))


leave_early(True)
leave_early(False)
check(raw("GET", "/health")[0] == 200, "healthy after disconnects")

# ---- concurrency: parallel requests all answer ----
res = []
ths = [threading.Thread(target=lambda: res.append(client.chat.completions.create(
    model="tiny-mm", messages=[{"role": "user", "content": "Hello"}], max_tokens=8, temperature=0)
    .choices[0].message.content)) for _ in range(6)]
[t.start() for t in ths]
[t.join() for t in ths]
check(res == [want] * 6, "6 parallel requests: %r" % res)

# ---- /metrics ----
_, _, resp, data = raw("GET", "/metrics")
check(resp.getheader("Content-Type", "").startswith("text/plain") and metric("gemma4_requests_total") >= 20 and
      metric("gemma4_generated_tokens_total") > 100 and metric("gemma4_slots") == 2, "metrics:\n" + data.decode())

# ---- server B: API key, and a full queue -> 503 ----
check(is_error(*raw("GET", "/v1/models", port=args.port_key)[:2], 401), "no API key: 401")
check(is_error(*raw("GET", "/v1/models", headers={"Authorization": "Bearer wrong"}, port=args.port_key)[:2], 401),
      "wrong API key: 401")
check(raw("GET", "/v1/models", headers={"Authorization": "Bearer s3cret"}, port=args.port_key)[0] == 200, "API key ok")
check(raw("GET", "/health", port=args.port_key)[0] == 200, "/health needs no key")
body = json.dumps({"prompt": "x", "max_tokens": 3000, "ignore_eos": True, "stream": True}).encode()
s = socket.create_connection(("127.0.0.1", args.port_key))  # a long stream holds the only slot
s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
got = b""
while b"data: " not in got:
    got += s.recv(4096)
st_, j, resp, _ = raw("POST", "/v1/completions", {"prompt": "y", "max_tokens": 1},
                      headers={"Authorization": "Bearer s3cret"}, port=args.port_key)
busy = is_error(st_, j, 503) and resp.getheader("Retry-After") is not None
s.close()
check(busy, "queue full: 503 with Retry-After")


# ---- server B (--read-timeout 2): slow-loris clients are cut off; others are served meanwhile ----
def slow_client(out):
    s = socket.create_connection(("127.0.0.1", args.port_key))
    s.settimeout(0.2)
    t0 = time.time()
    req = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 40\r\n\r\n" + b"{" * 40
    closed = None
    for b in req:
        try:
            s.sendall(bytes([b]))
            if s.recv(1) == b"":
                closed = time.time() - t0
                break
        except socket.timeout:
            pass
        except OSError:
            closed = time.time() - t0
            break
        if time.time() - t0 > 12:
            break
    s.close()
    out.append(closed)


cut = []
slow = [threading.Thread(target=slow_client, args=(cut,)) for _ in range(4)]
[t.start() for t in slow]
time.sleep(0.5)
ok_health = raw("GET", "/health", port=args.port_key)[0] == 200
r_ok = raw("POST", "/v1/completions", {"prompt": "y", "max_tokens": 2}, headers={"Authorization": "Bearer s3cret"},
           port=args.port_key)[0] == 200
[t.join() for t in slow]
check(ok_health and r_ok, "served while slow clients trickle: health %s, completion %s" % (ok_health, r_ok))
check(len(cut) == 4 and all(c is not None and 1.5 < c < 5 for c in cut),
      "slow clients cut off after --read-timeout 2: %r" % cut)

print("%d passed, %d failed" % (PASS, FAIL))
raise SystemExit(1 if FAIL else 0)
