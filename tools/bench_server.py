#!/usr/bin/env python3
"""bench_server.py -- load test for `gemma4 serve` (a benchmark, not a test): N concurrent streaming chat
clients (the official `openai` client) for a duration; reports errors, time-to-first-token p50/p99, aggregate
generated tokens/s (from the usage numbers), and the server's RSS over time (flat = no leak).
Usage: python tools/bench_server.py --url http://127.0.0.1:8080/v1 --pid SERVER_PID [--clients 32]
       [--seconds 600] [--max-tokens 32]
"""
import argparse
import asyncio
import statistics
import time

from openai import AsyncOpenAI


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return float("nan")
    return float("nan")


async def client(i, api, args, stop_at, stats):
    prompts = ["Tell me a story.", "What is 2+2?", "Write a haiku about rain.", "List three colors."]
    while time.time() < stop_at:
        t0 = time.time()
        first = None
        try:
            stream = await api.chat.completions.create(
                model="gemma4", messages=[{"role": "user", "content": prompts[i % len(prompts)] + f" ({i})"}],
                max_tokens=args.max_tokens, temperature=0.7, stream=True, stream_options={"include_usage": True})
            toks = 0
            async for chunk in stream:
                if first is None and chunk.choices and (chunk.choices[0].delta.content or
                                                        getattr(chunk.choices[0].delta, "reasoning_content", None)):
                    first = time.time() - t0
                if chunk.usage:
                    toks = chunk.usage.completion_tokens
            stats["tokens"] += toks
            stats["requests"] += 1
            if first is not None:
                stats["ttft"].append(first)
        except Exception as e:  # noqa: BLE001 -- every failure counts as an error
            stats["errors"] += 1
            stats["last_error"] = repr(e)[:200]
            await asyncio.sleep(0.5)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()
    api = AsyncOpenAI(base_url=args.url, api_key="none", max_retries=0, timeout=600)
    stats = {"tokens": 0, "requests": 0, "errors": 0, "ttft": [], "last_error": ""}
    t0 = time.time()
    stop_at = t0 + args.seconds
    rss = [rss_mib(args.pid)]

    async def sampler():
        while time.time() < stop_at:
            await asyncio.sleep(max(1.0, args.seconds / 20))
            rss.append(rss_mib(args.pid))

    await asyncio.gather(sampler(), *(client(i, api, args, stop_at, stats) for i in range(args.clients)))
    dt = time.time() - t0
    tt = sorted(stats["ttft"]) or [float("nan")]
    print(f"clients {args.clients}, {dt:.0f} s: {stats['requests']} requests, {stats['errors']} errors "
          f"{stats['last_error']}")
    print(f"time to first token: p50 {statistics.median(tt):.2f} s, p99 {tt[min(len(tt) - 1, int(0.99 * len(tt)))]:.2f} s")
    print(f"aggregate generation: {stats['tokens'] / dt:.1f} tokens/s")
    print("server RSS MiB over time: " + " ".join(f"{r:.0f}" for r in rss))


if __name__ == "__main__":
    asyncio.run(main())
