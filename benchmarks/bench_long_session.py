"""A long headless session: 5,000 scripted turns in one run, each a ``read_file`` call.

The real runtime wiring (``runtime.Session``: the SQLite store under a temporary
``JOINER_HOME``, the built-in tools, the cost meter, the permission gate) and the real
headless face (``run_headless`` printing ``stream-json`` to /dev/null); only the model is an
in-process script that makes up each answer as it is asked (it keeps no requests).

Figures, each measured in this run against its own baseline:
- memory after 5,000 turns vs after 100 turns (limit 1.5x): the process RSS, and the bytes
  allocated as tracemalloc counts them from the interpreter's start (a second run, in a
  child process started with ``-X tracemalloc``). Both include the conversation itself,
  which a session keeps (and sends) whole until compaction;
- time per turn of the last 100 turns vs the first 100 (medians, wall and CPU): does not
  grow with the session (limit 1.25x).

The context window is 128,000 tokens (the default: the scripted model has none), or
``--window N``. A turn adds about 100 tokens, so compactions bound the conversation the fitter
sends (8 of them in 5,000 turns at 128,000; the run prints the messages of the requests at
each end). The scripted model does not serialize what it is sent: a real provider's work on
the request grows with the (compacted) conversation up to the window, the session's own does
not.

Usage: ``python benchmarks/bench_long_session.py [TURNS | --turns TURNS] [--window TOKENS]
[--without-context]`` (default 5000 turns). ``--without-context`` runs the session with no
context fitter (a diagnosis: it tells the fitter's per-turn work from the rest of the
session's, and the no-fitter conversation is never cut).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)

FILES = 50
WINDOW = 100  # turns compared at each end
MEMORY_LIMIT = 1.5
TIME_LIMIT = 1.25


class Probe:
    """Timestamps each request (a turn is the time between two requests) and takes a memory
    reading once ``WINDOW`` turns and once all turns are done."""

    def __init__(self, turns: int, memory: Callable[[], int]) -> None:
        self.turns = turns
        self.memory = memory
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.readings: dict[int, int] = {}
        self.compactions = 0
        self.sent: list[int] = []  # messages in each request

    def request(self, number: int) -> None:
        if number - 1 in (WINDOW, self.turns):
            gc.collect()
            self.readings[number - 1] = self.memory()
        self.wall.append(time.perf_counter())
        self.cpu.append(time.process_time())

    def per_turn(self, stamps: list[float], first: int) -> float:
        """Median time of the ``WINDOW`` turns starting at turn ``first`` (1-based)."""
        return statistics.median(b - a for a, b in zip(stamps[first - 1: first - 1 + WINDOW],
                                                       stamps[first: first + WINDOW],
                                                       strict=True))


class ScriptedReader:
    """The model: turn N reads 5 lines of one of the files (never the same call twice in a
    row, so the loop guard stays quiet); after ``turns`` turns it answers."""

    name = "scripted/long-session"

    def __init__(self, turns: int, probe: Probe) -> None:
        self.turns = turns
        self.probe = probe
        self.served = 0
        self.summaries = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        usage = Usage(2000, 30)
        if not request.tools:  # the context manager's summary request (a compaction)
            self.summaries += 1
            summary = "Read the modules five lines at a time; nothing is wrong so far."
            yield ModelResponse(Message("assistant", summary), usage, "end_turn", self.name)
            return
        self.served += 1
        n = self.served
        self.probe.request(n)
        self.probe.sent.append(len(request.messages))
        if n > self.turns:
            yield TextDelta("All files read.")
            yield ModelResponse(Message("assistant", "All files read."), usage, "end_turn",
                                self.name)
            return
        path = f"src/module_{n % FILES}.py"
        arguments = json.dumps({"path": path, "offset": 1 + (n // FILES) % 20 * 5, "limit": 5})
        call = ToolCall(f"call_{n}", "read_file", arguments)
        text = f"Reading {path}."
        yield TextDelta(text)
        yield ToolCallDelta(0, call.id, call.name, arguments)
        yield ModelResponse(Message("assistant", text, [call]), usage, "tool_use", self.name)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def traced() -> int:
    return tracemalloc.get_traced_memory()[0]


def run_session(turns: int, memory: Callable[[], int], root: Path, window: int | None = None,
                without_context: bool = False) -> tuple[Probe, int]:
    """One headless run of ``turns`` turns in a fresh workspace; the probe and the exit code."""
    from joiner.context import Window
    from joiner.headless import run_headless
    from joiner.runtime import RunOptions, Session

    workspace = Path(tempfile.mkdtemp(dir=root))
    (workspace / ".git").mkdir()
    (workspace / "src").mkdir()
    for i in range(FILES):
        (workspace / "src" / f"module_{i}.py").write_text(
            "".join(f"def function_{i}_{j}(x):\n    return x + {j}\n" for j in range(60)))
    script = workspace / "script.json"
    script.write_text("[]")
    probe = Probe(turns, memory)
    if without_context:
        Session._context = lambda *args: None  # type: ignore[method-assign]
    session = Session(RunOptions(model=f"scripted/{script}", permission_mode="plan",
                                 cwd=workspace))
    session.provider = reader = ScriptedReader(turns, probe)
    if window is not None:  # as [models."…"] context_window in config would
        session.window = Window(window, source="config")
    stdout = sys.stdout
    with open(os.devnull, "w") as devnull:
        sys.stdout = devnull
        try:
            code = run_headless(session, "Read every module, five lines at a time.",
                                "stream-json")
        finally:
            sys.stdout = stdout
    session.store.close()
    probe.compactions = reader.summaries
    return probe, code


def main(turns: int, window: int | None, without_context: bool) -> None:
    from joiner.context import DEFAULT_WINDOW

    assert turns >= 2 * WINDOW
    root = Path(tempfile.mkdtemp(prefix="joiner-long-"))
    os.environ["JOINER_HOME"] = str(root / "home")
    run_session(2 * WINDOW + 1, rss, root, window, without_context)  # warm up: imports, store

    start = time.process_time()
    probe, code = run_session(turns, rss, root, window, without_context)
    cpu = time.process_time() - start
    assert code == 0, f"the run ended with exit code {code}"
    assert len(probe.wall) == turns + 1, "the session did not run every turn"
    before, after = probe.readings[WINDOW], probe.readings[turns]
    fitter = "no context fitter" if without_context else "context fitter"
    print(f"long session: {turns} turns of read_file, real store and tools, {fitter}, "
          "stream-json face")
    print(f"{'context window':<44} {window or DEFAULT_WINDOW:9,} tokens"
          f"{'' if window else '  (the default)'}")
    for label, sent in ((f"turns 1-{WINDOW}", probe.sent[:WINDOW]),
                        (f"turns {turns - WINDOW + 1}-{turns}", probe.sent[turns - WINDOW:turns])):
        print(f"{'messages per request, ' + label:<44} {min(sent):>9,} to {max(sent):,}")
    print(f"{'RSS after ' + str(WINDOW) + ' turns (baseline)':<44} {before / 2**20:9.1f} MB")
    ratio = after / before
    verdict = "OK" if ratio <= MEMORY_LIMIT else f"OVER {MEMORY_LIMIT}x"
    print(f"{'RSS after ' + str(turns) + ' turns':<44} {after / 2**20:9.1f} MB  {ratio:6.2f}x"
          f"  {verdict}")
    for label, stamps in (("wall", probe.wall), ("CPU", probe.cpu)):
        first = probe.per_turn(stamps, 1)
        last = probe.per_turn(stamps, turns - WINDOW + 1)
        ratio = last / first
        verdict = "OK" if ratio <= TIME_LIMIT else f"OVER {TIME_LIMIT}x"
        print(f"{label + ' per turn, turns 1-' + str(WINDOW) + ' (baseline)':<44} "
              f"{first * 1000:9.3f} ms")
        print(f"{label + f' per turn, turns {turns - WINDOW + 1}-{turns}':<44} "
              f"{last * 1000:9.3f} ms  {ratio:6.2f}x  {verdict}")
    total = probe.wall[-1] - probe.wall[0]
    print(f"{'whole run':<44} {total:9.2f} s  ({cpu:.2f} s CPU, {probe.compactions} "
          "compactions)")

    # tracemalloc from the interpreter's start (so the baseline holds what the imports hold,
    # as RSS does): in a child process run with -X tracemalloc
    options = [*(["--window", str(window)] if window else []),
               *(["--without-context"] if without_context else [])]
    child = subprocess.run([sys.executable, "-X", "tracemalloc", __file__, str(turns), "--traced",
                            *options], capture_output=True, text=True, check=True)
    before, after = json.loads(child.stdout)
    ratio = after / before
    verdict = "OK" if ratio <= MEMORY_LIMIT else f"OVER {MEMORY_LIMIT}x"
    print(f"{'traced after ' + str(WINDOW) + ' turns (baseline)':<44} {before / 2**20:9.1f} MB")
    print(f"{'traced after ' + str(turns) + ' turns':<44} {after / 2**20:9.1f} MB  "
          f"{ratio:6.2f}x  {verdict}  (+{(after - before) / (turns - WINDOW):.0f} bytes a turn)")
    shutil.rmtree(root, ignore_errors=True)


def traced_pass(turns: int, window: int | None, without_context: bool) -> None:
    """The child of ``main``: prints the traced bytes after ``WINDOW`` and ``turns`` turns."""
    root = Path(tempfile.mkdtemp(prefix="joiner-long-"))
    os.environ["JOINER_HOME"] = str(root / "home")
    try:
        probe, code = run_session(turns, traced, root, window, without_context)
        assert code == 0
        print(json.dumps([probe.readings[WINDOW], probe.readings[turns]]))
    finally:
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("turns_pos", nargs="?", type=int, metavar="TURNS")
    parser.add_argument("--turns", type=int, help="turns in the session (default 5000)")
    parser.add_argument("--window", type=int, help="context window in tokens (default 128,000)")
    parser.add_argument("--without-context", action="store_true")
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = args.turns or args.turns_pos or 5000
    if args.traced:
        traced_pass(count, args.window, args.without_context)
    else:
        main(count, args.window, args.without_context)
