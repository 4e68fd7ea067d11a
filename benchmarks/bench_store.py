"""Session store benchmarks, ratios against baselines measured in the same run.

1. Appending the 1,000th turn of a session vs the 1st (limit 1.5x).
2. ``joiner sessions list`` (the CLI's store calls and JSON) on 10,000 sessions /
   1,000,000 events vs an empty store (limit 3x), for this workspace and ``--all``.
3. 16 processes at once (8 new sessions, 8 on one shared session): throughput
   and the worst wait for one turn, against one process alone.

Run: ``.venv/bin/python benchmarks/bench_store.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from joiner.core.events import Event
from joiner.sessions import StoreSink, open_store

TURN_EVENTS = 7


def turn(tag: str, n: int) -> list[Event]:
    """The durable events of one tool-using turn, as the loop emits them."""
    call = {"id": f"{tag}-{n}", "name": "read_file", "arguments": '{"path": "calc.py"}'}
    return [
        Event("user_prompt", {"message": {"role": "user", "text": f"prompt {n} of {tag}"}}),
        Event("request_start", {"turn": n, "model": "openai/gpt-test"}),
        Event("assistant_message", {"message": {"role": "assistant", "text": "Reading.",
                                                "tool_calls": [call]},
                                    "stop_reason": "tool_use", "model": "openai/gpt-test"}),
        Event("usage", {"turn": n, "input_tokens": 1200, "output_tokens": 40, "cost_usd": 0.001}),
        Event("tool_call", call),
        Event("tool_result", {"message": {"role": "tool", "text": f"{n}\tline\n" * 400,
                                          "tool_call_id": call["id"], "name": "read_file",
                                          "is_error": False}, "files_read": ["calc.py"]}),
        Event("assistant_message", {"message": {"role": "assistant", "text": f"Done {n}."},
                                    "stop_reason": "end_turn", "model": "openai/gpt-test"}),
    ]


def ratio_line(name: str, value: float, baseline: float, limit: float | None,
               unit: str = "ms") -> None:
    ratio = value / baseline if baseline else float("inf")
    verdict = "" if limit is None else ("  OK" if ratio <= limit else f"  OVER {limit}x")
    print(f"{name:<70} {value * 1000:9.3f} {unit} vs {baseline * 1000:8.3f} {unit}  "
          f"{ratio:5.2f}x{verdict}")


# -- 1. append -------------------------------------------------------------------------------
def bench_append(root: Path, repeats: int) -> None:
    store = open_store(root / "append.db")
    long_session = store.create_session("/ws/bench", "openai/gpt-test")
    sink = StoreSink(store, long_session)
    for n in range(1, 1000):  # 999 turns recorded, event by event as a run does
        for event in turn("long", n):
            sink.emit(event)
    first, thousandth = [], []
    for r in range(repeats):  # interleaved, so both see the same machine load
        fresh = StoreSink(store, store.create_session("/ws/bench", "openai/gpt-test"))
        for sink_, samples, n in ((fresh, first, 1), (sink, thousandth, 1000 + r)):
            events = turn("x", n)
            started = cpu_now()
            for event in events:
                sink_.emit(event)
            samples.append(cpu_now() - started)
    store.close()
    ratio_line("append one turn (7 events, CPU): 1,000th turn vs 1st",
               statistics.median(thousandth), statistics.median(first), 1.5)


# -- 2. sessions list ----------------------------------------------------------------------------
def fill(path: Path, sessions: int, events_per: int, workspaces: list[str]) -> None:
    """Bulk-load a store through its own connection, in one transaction (the real schema)."""
    store = open_store(path)
    payload = json.dumps({"message": {"role": "tool", "text": "x" * 120, "tool_call_id": "c",
                                      "name": "read_file", "is_error": False}})
    now = time.time()
    with store.db.write() as c:  # type: ignore[attr-defined]
        for i in range(sessions):
            sid = uuid.uuid4().hex
            t = now - (sessions - i)
            c.execute("INSERT INTO sessions (id, workspace, title, model, permission_mode, "
                      "created_at, updated_at, status, parent_id, host, pid, pid_start, "
                      "last_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (sid, workspaces[i % len(workspaces)], f"Task number {i}",
                       "openai/gpt-test", "auto", t, t, "done", None, "bench", None, None,
                       events_per))
            c.executemany("INSERT INTO events (session_id, seq, time, type, payload) "
                          "VALUES (?,?,?,?,?)",
                          [(sid, s, t, "tool_result", payload) for s in range(1, events_per + 1)])
    store.close()


def cli_list(path: Path, workspace: str | None, limit: int = 50) -> str:
    """What ``joiner sessions list --json [--all]`` does in-process: open, list, serialize."""
    store = open_store(path)
    try:
        found = store.list(workspace, limit=limit)
    finally:
        store.close()
    return json.dumps([s.to_dict() for s in found], indent=2)


def run_cli(home: Path, cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "joiner", "sessions", "list", "--json", *args],
                   cwd=cwd, env={**os.environ, "JOINER_HOME": str(home)}, check=True,
                   stdout=subprocess.DEVNULL)


def bench_list(root: Path, sessions: int, events_per: int, runs: int) -> None:
    repo = root / "repo"
    (repo / ".git").mkdir(parents=True)
    empty, full = root / "empty", root / "full"
    empty.mkdir()
    full.mkdir()
    open_store(empty / "sessions.db").close()
    workspaces = [str(repo.resolve())] + [f"/ws/project{i}" for i in range(19)]
    started = time.perf_counter()
    fill(full / "sessions.db", sessions, events_per, workspaces)
    print(f"(filled {sessions:,} sessions / {sessions * events_per:,} events in "
          f"{time.perf_counter() - started:.1f}s, "
          f"{(full / 'sessions.db').stat().st_size / 1e6:.0f} MB; this workspace has "
          f"{sessions // len(workspaces):,} of them, 50 listed)")
    for label, args in (("", ()), (" --all", ("--all",))):
        value, base = paired(lambda a=args: run_cli(full, repo, *a),
                             lambda a=args: run_cli(empty, repo, *a), max(9, runs // 2))
        ratio_line(f"joiner sessions list --json{label} (process CPU), full vs empty", value, base,
                   3.0)
    for label, workspace in (("", workspaces[0]), (" --all", None)):
        value, base = paired(lambda w=workspace: cli_list(full / "sessions.db", w),
                             lambda w=workspace: cli_list(empty / "sessions.db", w), runs)
        ratio_line(f"sessions list{label} in-process (open, query, JSON; CPU), full vs empty",
                   value, base, 3.0)


def cpu_now() -> float:
    """CPU seconds of this process and its finished children: what a call costs, apart from
    the waits for a core on a loaded machine (wall times on shared cores are mostly noise)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def paired(fn: Any, baseline: Any, runs: int) -> tuple[float, float]:
    """Median CPU times of ``fn`` and ``baseline``, measured alternately."""
    fn()
    baseline()
    a, b = [], []
    for _ in range(runs):
        for call, samples in ((fn, a), (baseline, b)):
            started = cpu_now()
            call()
            samples.append(cpu_now() - started)
    return statistics.median(a), statistics.median(b)


# -- 3. sixteen processes --------------------------------------------------------------------------
def worker(db: str, session: str, tag: str, turns: int, start_at: float) -> None:
    store = open_store(Path(db))
    sid = store.create_session("/ws/bench", "openai/gpt-test") if session == "new" else session
    batches = [turn(tag, n) for n in range(turns)]
    time.sleep(max(0.0, start_at - time.time()))
    waits = []
    began = time.perf_counter()
    for events in batches:
        started = time.perf_counter()
        store.append_many(sid, events)
        waits.append(time.perf_counter() - started)
    print(json.dumps({"waits": waits, "elapsed": time.perf_counter() - began}))


def run_workers(db: Path, specs: list[tuple[str, str]], turns: int) -> tuple[float, list[float]]:
    start_at = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(db), session, tag,
                               str(turns), str(start_at)], stdout=subprocess.PIPE, text=True)
             for session, tag in specs]
    reports = [json.loads(p.communicate()[0]) for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit("a worker failed")
    wall = max(r["elapsed"] for r in reports)
    return wall, [w for r in reports for w in r["waits"]]


def bench_processes(root: Path, turns: int) -> None:
    db = root / "procs.db"
    store = open_store(db)
    shared = store.create_session("/ws/bench", "openai/gpt-test")
    store.close()
    alone_wall, alone_waits = run_workers(db, [("new", "solo")], turns)
    specs = [("new", f"n{i}") for i in range(8)] + [(shared, f"s{i}") for i in range(8)]
    wall, waits = run_workers(db, specs, turns)
    store = open_store(db)
    count = len(store.events(shared))
    store.close()
    assert count == 8 * turns * TURN_EVENTS, "events were lost"
    total = 16 * turns * TURN_EVENTS
    alone_rate = turns * TURN_EVENTS / alone_wall
    waits.sort()
    print(f"16 processes x {turns} turns: {total / wall:,.0f} events/s "
          f"({16 * turns / wall:,.0f} turns/s) vs one process alone {alone_rate:,.0f} events/s "
          f"({total / wall / alone_rate:.2f}x)")
    print(f"  wait for one turn: median {statistics.median(waits) * 1000:.1f} ms, "
          f"p99 {waits[int(len(waits) * 0.99)] * 1000:.1f} ms, worst {waits[-1] * 1000:.1f} ms "
          f"(alone: median {statistics.median(alone_waits) * 1000:.2f} ms, "
          f"worst {max(alone_waits) * 1000:.1f} ms); nothing lost")


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; ratios of CPU "
          "time medians, measured alternately")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_append(root, repeats=15 if quick else 40)
        bench_list(root, 1000 if quick else 10_000, 100, runs=21 if quick else 61)
        bench_processes(root, turns=20 if quick else 60)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:5], int(sys.argv[5]), float(sys.argv[6]))
    else:
        os.environ.pop("JOINER_HOME", None)
        main()
