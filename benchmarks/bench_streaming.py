"""Streaming overhead: a 20,000-token answer from the loopback server.

Read three ways, interleaved, the median of several runs each:
  - bare httpx: the same request, the bytes read and dropped (the baseline);
  - through the provider (OpenAI and Anthropic wire formats): SSE parsing, JSON per
    event, deltas, the final ModelResponse;
  - through ``joiner -p --model openai/bench`` with OPENAI_BASE_URL at the server, against
    a bare-httpx script in its own process (both pay interpreter start-up).
Prints the ratios of wall time and of the client's CPU time (user + system: it does not
depend on what else runs on the machine, the server included); the target is at most 1.5x.

    .venv/bin/python benchmarks/bench_streaming.py [--tokens 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_joiner
from joiner.core.messages import Message, ModelRequest, ModelResponse
from joiner.providers import anthropic, openai

CHAT_BODY = {"model": "bench", "messages": [{"role": "user", "content": "go"}], "stream": True,
             "stream_options": {"include_usage": True}}
MESSAGES_BODY = {"model": "bench", "max_tokens": 32000, "stream": True,
                 "messages": [{"role": "user", "content": "go"}]}
BARE_SCRIPT = """
import sys, httpx, json
with httpx.stream("POST", sys.argv[1] + "/v1/chat/completions", json=json.loads(sys.argv[2]),
                  timeout=60) as r:
    for _ in r.iter_bytes():
        pass
"""


def start_server(tmp: Path, tokens: int) -> tuple[subprocess.Popen[str], str]:
    words = ("def mul(a, b): return a * b  # " * (tokens // 8 + 1))
    script = tmp / "steps.json"
    script.write_text(json.dumps([{"text": words[: tokens * 4], "chunk_chars": 4,
                                   "usage": {"input_tokens": 10, "output_tokens": tokens}}]))
    proc = subprocess.Popen([sys.executable, "-m", "joiner.testing.loopback", "--script",
                             str(script), "--repeat"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def bare(url: str, body: dict[str, object], headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(timeout=60) as http, http.stream(
            "POST", url, json=body, headers=headers) as response:
        return sum([len(chunk) async for chunk in response.aiter_bytes()])


async def through(provider: openai.OpenAIProvider | anthropic.AnthropicProvider) -> int:
    request = ModelRequest("", [Message.user("go")], [], max_tokens=32000)
    last = None
    async for item in provider.stream(request):
        last = item
    await provider.aclose()
    assert isinstance(last, ModelResponse)
    return len(last.message.text)


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def timed(make: Callable[[], Awaitable[int]]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(make())  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_process(argv: list[str], env: dict[str, str], cwd: str) -> Timing:
    wall, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    timing = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return timing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compile_joiner()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server, base = start_server(tmp, args.tokens)
        try:
            run_all(base, tmp, args.runs, args.tokens)
        finally:
            server.terminate()
            server.wait(timeout=10)


def run_all(base: str, tmp: Path, runs: int, tokens: int) -> None:
    key = {"api_key": "bench"}
    cases: dict[str, Callable[[], Awaitable[int]]] = {
        "bare httpx, chat completions": lambda: bare(
            f"{base}/v1/chat/completions", CHAT_BODY, {}),
        "openai provider": lambda: through(
            openai.create("bench", {"base_url": f"{base}/v1", **key})),
        "bare httpx, messages": lambda: bare(
            f"{base}/v1/messages", MESSAGES_BODY, {"anthropic-version": "2023-06-01"}),
        "anthropic provider": lambda: through(
            anthropic.create("bench", {"base_url": base, **key})),
    }
    for make in cases.values():  # warm up: imports, the server's first answer
        timed(make)
    times: dict[str, list[Timing]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, make in cases.items():
            times[name].append(timed(make))

    env = {**os.environ, "OPENAI_BASE_URL": f"{base}/v1", "OPENAI_API_KEY": "bench",
           "JOINER_HOME": str(tmp / "home")}
    workspace = tmp / "ws"
    workspace.mkdir()
    processes = {
        "bare httpx process": [sys.executable, "-c", BARE_SCRIPT, base, json.dumps(CHAT_BODY)],
        "joiner -p": [sys.executable, "-m", "joiner", "-p", "go", "--model", "openai/bench",
                      "--output-format", "text"],
    }
    try:
        for argv in processes.values():
            timed_process(argv, env, str(workspace))
        for name in processes:
            times[name] = []
        for _ in range(runs):
            for name, argv in processes.items():
                times[name].append(timed_process(argv, env, str(workspace)))
    except RuntimeError as err:
        print(f"joiner -p skipped: {err}")

    wall = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    print(f"{tokens:,}-token streamed answer, median of {runs} runs (wall, client CPU)")
    for name in wall:
        print(f"  {name:30s} {wall[name] * 1000:8.1f} ms wall {cpu[name] * 1000:8.1f} ms CPU")
    pairs = [("openai provider", "bare httpx, chat completions"),
             ("anthropic provider", "bare httpx, messages"),
             ("joiner -p", "bare httpx process")]
    for name, baseline in pairs:
        if name in wall:
            ratios = wall[name] / wall[baseline], cpu[name] / cpu[baseline]
            verdict = "ok" if max(ratios) <= 1.5 else "OVER the 1.5x target"
            print(f"  {name} / {baseline}: {ratios[0]:.2f}x wall, {ratios[1]:.2f}x CPU ({verdict})")


if __name__ == "__main__":
    main()
