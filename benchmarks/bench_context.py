"""A scripted session of 200 turns with large tool results against a 6,000-token window
(issue #11, performance).

The real agent loop, the real tools on a generated repository (``read_file`` of 400-line
files, ``grep`` with hundreds of matches, ``list_files``), and a scripted model that also
answers the fitter's summarizing requests. Checked: no request (summaries included) over the
window, counting the answer's room, by our estimate and, when ``bpe-openai`` is installed, by
OpenAI's o200k tokenizer on the request as the OpenAI provider would send it; the run
finishes; the user's first instruction is in the last request. Timed against the same session
with a 1M-token window (the fitter only measures) and without a fitter at all, in the same run.

    .venv/bin/python benchmarks/bench_context.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from joiner.context import ContextManager, Window, estimate_request
from joiner.core import FanOut
from joiner.core.events import COMPACTION, Event
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Message, ModelRequest, ModelResponse, StreamItem, Usage
from joiner.cost.meter import CostMeter
from joiner.cost.pricing import Prices
from joiner.prompt import system_prompt
from joiner.providers.openai import to_wire
from joiner.providers.scripted import ScriptedProvider
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace

WINDOW = 6000
TURNS = 200
FIRST = ("Go through every module, read it and grep for its callers; keep a running list of "
         "which functions are unused. Never edit anything. This is my first instruction.")


class Model(ScriptedProvider):
    """The script for the conversation; a fixed summary for summarizing requests."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        super().__init__(steps)
        self.summaries: list[ModelRequest] = []

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        if not request.tools:
            self.summaries.append(request)
            yield ModelResponse(Message("assistant", "Read modules and grepped callers; "
                                        "unused so far: none confirmed."), Usage(900, 60))
            return
        async for item in super().stream(request):
            yield item


def build_repo(root: Path) -> None:
    for d in range(10):
        folder = root / f"pkg{d}"
        folder.mkdir(parents=True)
        for f in range(10):
            (folder / f"mod{f}.py").write_text("".join(
                f"def pkg{d}_mod{f}_fn{i}(value):  # calls helper_{i % 9}\n"
                f"    return helper_{i % 9}(value) + {i}\n" for i in range(200)))


def script() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for turn in range(TURNS - 1):
        d, f = (turn // 3) % 10, turn % 10
        call = [{"name": "read_file", "arguments": {"path": f"pkg{d}/mod{f}.py"}},
                {"name": "grep", "arguments": {"pattern": f"helper_{turn % 9}"}},
                {"name": "list_files", "arguments": {"pattern": "*.py"}}][turn % 3]
        steps.append({"text": f"Step {turn}.", "tool_calls": [call]})
    steps.append({"text": "Unused: none found."})
    return steps


class Events:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class Allow:
    async def approve(self, request: Any) -> Any:
        raise AssertionError("read-only tools only")


async def session(root: Path, window: int | None) -> tuple[RunResult, Model, Events, float]:
    model, events = Model(script()), Events()
    meter = CostMeter(Prices(), None, window)
    manager = ContextManager(Window(window)) if window else None
    sink = FanOut(events, *([manager] if manager else []))
    if manager is not None:
        manager.sink, manager.meter = sink, meter
    agent = Agent(model, builtin_tools(Workspace(root)), Allow(), sink, meter,
                  system=system_prompt(root), context=manager)
    start = time.perf_counter()
    result = await agent.run(FIRST)
    return result, model, events, time.perf_counter() - start


def o200k_counter() -> Any:
    try:
        import bpe_openai
    except ImportError:
        return None
    encoding = bpe_openai.get_encoding("o200k_base")

    def count(request: ModelRequest) -> int:
        wire = to_wire(request.system, request.messages)
        text = "".join(str(m.get("content") or "") + json.dumps(m.get("tool_calls") or "")
                       for m in wire)
        tools = json.dumps([{"name": t.name, "description": t.description,
                             "parameters": t.parameters} for t in request.tools])
        return len(encoding.encode(text)) + len(encoding.encode(tools)) + 4 * len(wire)

    return count


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_repo(root)
        result, model, events, _ = await session(root, WINDOW)
        times: dict[str, list[float]] = {"none": [], "1M": [], "6000": []}
        for _ in range(3):  # alternate, medians: the cores are shared
            for name, window in (("none", None), ("1M", 1_000_000), ("6000", WINDOW)):
                times[name].append((await session(root, window))[3])
    requests = model.requests
    everything = requests + model.summaries
    estimated = max(estimate_request(r) + r.max_tokens for r in everything)
    compactions = [e for e in events.events if e.type == COMPACTION]
    last = requests[-1]
    first_kept = any(FIRST in m.text for m in last.messages)
    sizes = [len(m.text) for m in result.messages if m.role == "tool"]
    print(f"turns {result.num_turns}, stop_reason {result.stop_reason}; tool results "
          f"{min(sizes):,}-{max(sizes):,} characters (median {statistics.median(sizes):,.0f})")
    print(f"requests {len(requests)} + {len(model.summaries)} summarizing; compactions "
          f"{len(compactions)}")
    print(f"largest request, estimated, with the answer's room: {estimated:,} of {WINDOW:,} "
          f"{'OK' if estimated <= WINDOW else 'OVER'}")
    if (count := o200k_counter()) is not None:
        real = max(count(r) + r.max_tokens for r in everything)
        print(f"largest request, o200k tokens, with the answer's room: {real:,} of {WINDOW:,} "
              f"{'OK' if real <= WINDOW else 'OVER'}")
    else:
        print("(install bpe-openai to count the requests with OpenAI's o200k tokenizer too)")
    print(f"first instruction in the last request: {'yes' if first_kept else 'NO'}")
    base = statistics.median(times["none"])
    for name in ("none", "1M", "6000"):
        value = statistics.median(times[name])
        label = {"none": "no fitter", "1M": "fitter, 1M window (measures only)",
                 "6000": "fitter, 6,000 window (shortens, compacts)"}[name]
        print(f"{label:<44} {value * 1000:8.0f} ms  {value / base:5.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
