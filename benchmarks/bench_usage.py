"""``joiner usage`` on a store with 100,000 model requests vs an empty store (limit 5x).

The full store is written through the store API the way runs write it: per
request a ``request_start``, an ``assistant_message`` and a ``usage`` event (the
payload from ``CostMeter.record``), 500 sessions over 60 days, 5 models.
Usage: ``.venv/bin/python benchmarks/bench_usage.py [REQUESTS]``.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from joiner.core.events import ASSISTANT_MESSAGE, REQUEST_START, USAGE, Event
from joiner.core.messages import Usage
from joiner.cost.meter import CostMeter
from joiner.cost.report import usage_report
from joiner.sessions import open_store

sys.path.insert(0, str(Path(__file__).parent))
from _timing import report, time_call

MODELS = ["anthropic/claude-sonnet-4-5", "anthropic/claude-haiku-4-5", "openai/gpt-5",
          "openai/gpt-4.1-mini", "local/gemma3-270m"]
SESSIONS = 500


def fill(path: Path, requests: int) -> None:
    rng = random.Random(7)
    start = time.time() - 60 * 86400
    per_session = requests // SESSIONS
    with open_store(path) as store:  # type: ignore[attr-defined]
        for n in range(SESSIONS):
            model = MODELS[n % len(MODELS)]
            session = store.create_session(f"/work/project{n % 7}", model)
            meter = CostMeter(None)
            when = start + n * (60 * 86400 / SESSIONS)
            events = []
            for turn in range(1, per_session + 1):
                when += rng.uniform(1, 30)
                usage = Usage(rng.randint(100, 20_000), rng.randint(10, 2000),
                              rng.randint(0, 50_000), rng.randint(0, 5000))
                events += [
                    Event(REQUEST_START, {"turn": turn, "model": model}, when),
                    Event(ASSISTANT_MESSAGE, {"message": {"role": "assistant",
                                                          "text": "Done. " * 20},
                                              "stop_reason": "end_turn", "model": model}, when),
                    Event(USAGE, {"turn": turn, **meter.record(usage, model)}, when),
                ]
            store.append_many(session, events)


def interleaved(argvs: list[list[str]], homes: list[Path], runs: int
                ) -> list[tuple[float, float]]:
    """Median (wall, child CPU) seconds per home, the homes' runs alternating so that the
    load of a shared machine falls on both alike."""
    samples: list[list[tuple[float, float]]] = [[] for _ in homes]
    for _ in range(runs):
        for k, home in enumerate(homes):
            env = {**os.environ, "JOINER_HOME": str(home), "COLUMNS": "120"}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argvs[0], check=True, stdout=subprocess.DEVNULL, env=env)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            samples[k].append((wall, cpu))
    return [(statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
            for s in samples]


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = Path(tempfile.mkdtemp(prefix="joiner-bench-usage-"))
    try:
        empty, full = root / "empty", root / "full"
        open_store(empty / "sessions.db").close()
        began = time.perf_counter()
        fill(full / "sessions.db", requests)
        print(f"wrote {requests:,} requests ({3 * requests:,} events) in "
              f"{time.perf_counter() - began:.1f} s; store "
              f"{(full / 'sessions.db').stat().st_size / 1e6:.0f} MB")
        joiner = shutil.which("joiner", path=str(Path(sys.executable).parent)) or "joiner"
        week_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))
        for args in (("--json",), (), ("--json", "--since", week_ago)):
            name = "joiner usage " + " ".join(args).replace(week_ago, "(a week ago)")
            (base_wall, base_cpu), (wall, cpu) = interleaved(
                [[joiner, "usage", *args]], [empty, full], runs=9)
            report(f"{name} (empty store, baseline)", base_wall, base_wall)
            report(f"{name} ({requests:,} requests)", wall, base_wall, 5.0)
            report("  the same, CPU time of the process", cpu, base_cpu, 5.0)
        with open_store(empty / "sessions.db") as e, \
                open_store(full / "sessions.db") as f:  # type: ignore[attr-defined]
            base = time_call(lambda: usage_report(e.query))
            report("usage_report() in-process, empty store", base, base)
            report(f"usage_report() in-process, {requests:,} requests",
                   time_call(lambda: usage_report(f.query)), base)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
