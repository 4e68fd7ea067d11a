"""The session store benchmarks (``bench_store.py``, ``bench_usage.py``) on PostgreSQL, side
by side with SQLite, measured in the same run.

1. Appending a turn (7 events, one transaction each, as a run does): the 1st and the
   1,000th turn of a session.
2. ``sessions list`` (open, query, JSON) on 10,000 sessions / 1,000,000 events vs an empty
   store, in-process and as the ``joiner sessions list --json`` process.
3. 16 processes at once (8 new sessions, 8 on one shared session): events/s, and the wait
   for one turn; nothing lost.
4. ``joiner usage``'s report over 100,000 requests vs an empty store.

Times are wall-clock medians measured alternately (a PostgreSQL store spends its time in
the server process, which a client's CPU time would not show). PostgreSQL runs on this
machine, with its default durability (every commit flushed), while SQLite runs as Joiner
configures it (WAL, synchronous=NORMAL: flushed at checkpoints). "PG async" is the same
server with ``synchronous_commit=off`` set in the store URL
(``postgresql://…/db?options=-csynchronous_commit%3Doff``), the guarantee closest to
SQLite's (a crash of the client never loses a commit; one of the server may lose the last
fraction of a second). Network round trips to a real server would add to both.

Run: ``.venv/bin/python benchmarks/bench_store_postgres.py [--quick] [--store URL]``.
Without ``--store`` a throwaway PostgreSQL server is started (Debian's ``postgresql``);
with it, scratch databases ``joiner_bench_*`` are created on that server (it needs the
CREATEDB privilege) and dropped at the end.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import TURN_EVENTS, turn
from joiner.sessions import StoreSink, open_store

Target = str  # a SQLite path or a PostgreSQL URL


class Backend:
    name = ""

    def target(self, label: str) -> Target:
        raise NotImplementedError

    def env(self, target: Target) -> dict[str, str]:
        raise NotImplementedError


class SQLite(Backend):
    name = "SQLite"

    def __init__(self, root: Path) -> None:
        self.root = root

    def target(self, label: str) -> Target:
        home = self.root / label
        home.mkdir(parents=True, exist_ok=True)
        return str(home / "sessions.db")

    def env(self, target: Target) -> dict[str, str]:
        return {"JOINER_HOME": str(Path(target).parent)}


class Postgres(Backend):
    """Stores on one server; ``asynchronous``: commits not flushed before they return
    (``synchronous_commit=off`` through the URL, as a user can set it)."""

    def __init__(self, server_url: str, root: Path, asynchronous: bool = False) -> None:
        import psycopg

        self.psycopg = psycopg
        self.server_url = server_url
        self.root = root
        self.made: list[str] = []
        self.name = "PG async" if asynchronous else "PostgreSQL"
        self.query = "?options=-csynchronous_commit%3Doff" if asynchronous else ""

    def target(self, label: str) -> Target:
        name = f"joiner_bench_{label}_{uuid.uuid4().hex[:8]}"
        with self.psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        base, _, _ = self.server_url.rpartition("/")
        return f"{base}/{name}{self.query}"

    def env(self, target: Target) -> dict[str, str]:
        home = self.root / "pg-home"
        home.mkdir(exist_ok=True)
        return {"JOINER_HOME": str(home), "JOINER_STORE_URL": target}

    def drop_all(self) -> None:
        with self.psycopg.connect(self.server_url, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def opened(target: Target) -> Any:
    return open_store(target if target.startswith("postgres") else Path(target))


def paired(fn: Callable[[], Any], baseline: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Wall-clock medians of ``fn`` and ``baseline``, measured alternately."""
    fn()
    baseline()
    a, b = [], []
    for _ in range(runs):
        for call, samples in ((fn, a), (baseline, b)):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
    return statistics.median(a), statistics.median(b)


def row(name: str, results: dict[str, tuple[float, float]], unit: str = "ms") -> None:
    """One line: each backend's value and baseline and their ratio, then PG vs SQLite."""
    cells = []
    for backend, (value, base) in results.items():
        cells.append(f"{backend} {value * 1000:8.2f} vs {base * 1000:7.2f} {unit} "
                     f"({value / base:4.2f}x)")
    lite = results.get("SQLite")
    tail = "".join(f" | {k}/SQLite {v[0] / lite[0]:5.2f}x" for k, v in results.items()
                   if lite and k != "SQLite")
    print(f"{name}\n    " + " | ".join(cells) + tail)


# -- 1. append -------------------------------------------------------------------------------
def bench_append(backends: list[Backend], repeats: int) -> None:
    results = {}
    for backend in backends:
        store = opened(backend.target("append"))
        long_session = store.create_session("/ws/bench", "openai/gpt-test")
        sink = StoreSink(store, long_session)
        started = time.perf_counter()
        for n in range(1, 1000):
            for event in turn("long", n):
                sink.emit(event)
        prefill = time.perf_counter() - started
        first, thousandth = [], []
        for r in range(repeats):
            fresh = StoreSink(store, store.create_session("/ws/bench", "openai/gpt-test"))
            for sink_, samples, n in ((fresh, first, 1), (sink, thousandth, 1000 + r)):
                events = turn("x", n)
                t0 = time.perf_counter()
                for event in events:
                    sink_.emit(event)
                samples.append(time.perf_counter() - t0)
        store.close()
        results[backend.name] = (statistics.median(thousandth), statistics.median(first))
        print(f"  ({backend.name}: 999 turns appended event by event in {prefill:.1f}s, "
              f"{999 * TURN_EVENTS / prefill:,.0f} events/s)")
    row("append one turn: 1,000th vs 1st", results)


# -- 2. sessions list ----------------------------------------------------------------------------
def fill(target: Target, sessions: int, events_per: int, workspaces: list[str]) -> None:
    """Bulk-load a store in one transaction (PostgreSQL: COPY), the real schema."""
    store = opened(target)
    payload = json.dumps({"message": {"role": "tool", "text": "x" * 120, "tool_call_id": "c",
                                      "name": "read_file", "is_error": False}})
    now = time.time()
    rows = []
    with store.db.write() as c:
        for i in range(sessions):
            sid = uuid.uuid4().hex
            t = now - (sessions - i)
            rows.append((sid, t))
            c.execute("INSERT INTO sessions (id, workspace, title, model, permission_mode, "
                      "created_at, updated_at, status, parent_id, host, pid, pid_start, "
                      "last_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (sid, workspaces[i % len(workspaces)], f"Task number {i}",
                       "openai/gpt-test", "auto", t, t, "done", None, "bench", None, None,
                       events_per))
        if target.startswith("postgres"):
            with c.raw.cursor().copy("COPY events (session_id, seq, time, type, payload) "
                                     "FROM STDIN") as copy:
                for sid, t in rows:
                    for s in range(1, events_per + 1):
                        copy.write_row((sid, s, t, "tool_result", payload))
        else:
            for sid, t in rows:
                c.executemany("INSERT INTO events (session_id, seq, time, type, payload) "
                              "VALUES (?,?,?,?,?)",
                              [(sid, s, t, "tool_result", payload)
                               for s in range(1, events_per + 1)])
    if target.startswith("postgres"):
        store.db.conn.raw.execute("VACUUM ANALYZE")  # what autovacuum does after a load
    store.close()


def list_in_process(target: Target, workspace: str | None) -> str:
    store = opened(target)
    try:
        found = store.list(workspace, limit=50)
    finally:
        store.close()
    return json.dumps([s.to_dict() for s in found], indent=2)


def list_process(env: dict[str, str], cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "joiner", "sessions", "list", "--json", *args],
                   cwd=cwd, env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL)


def bench_list(backends: list[Backend], root: Path, sessions: int, events_per: int,
               runs: int) -> None:
    repo = root / "repo"
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    workspaces = [str(repo.resolve())] + [f"/ws/project{i}" for i in range(19)]
    stores = {}
    for backend in backends:
        empty, full = backend.target("empty"), backend.target("full")
        opened(empty).close()
        started = time.perf_counter()
        fill(full, sessions, events_per, workspaces)
        print(f"  ({backend.name}: filled {sessions:,} sessions / {sessions * events_per:,} "
              f"events in {time.perf_counter() - started:.1f}s)")
        stores[backend.name] = (backend, empty, full)
    for label, workspace in (("", workspaces[0]), (" --all", None)):
        results = {name: paired(lambda f=full, w=workspace: list_in_process(f, w),
                                lambda e=empty, w=workspace: list_in_process(e, w), runs)
                   for name, (_, empty, full) in stores.items()}
        row(f"sessions list{label} in-process, full vs empty", results)
    for label, args in (("", ()), (" --all", ("--all",))):
        results = {name: paired(lambda b=b, f=full, a=args: list_process(b.env(f), repo, *a),
                                lambda b=b, e=empty, a=args: list_process(b.env(e), repo, *a),
                                max(5, runs // 4))
                   for name, (b, empty, full) in stores.items()}
        row(f"joiner sessions list --json{label} (process)", results)


# -- 3. sixteen processes --------------------------------------------------------------------------
def worker(target: Target, session: str, tag: str, turns: int, start_at: float) -> None:
    store = opened(target)
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


def run_workers(target: Target, specs: list[tuple[str, str]], turns: int
                ) -> tuple[float, list[float]]:
    start_at = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", target, session, tag,
                               str(turns), str(start_at)], stdout=subprocess.PIPE, text=True)
             for session, tag in specs]
    reports = [json.loads(p.communicate()[0]) for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit("a worker failed")
    return max(r["elapsed"] for r in reports), [w for r in reports for w in r["waits"]]


def bench_processes(backends: list[Backend], turns: int) -> None:
    for backend in backends:
        target = backend.target("procs")
        store = opened(target)
        shared = store.create_session("/ws/bench", "openai/gpt-test")
        store.close()
        alone_wall, alone_waits = run_workers(target, [("new", "solo")], turns)
        specs = [("new", f"n{i}") for i in range(8)] + [(shared, f"s{i}") for i in range(8)]
        wall, waits = run_workers(target, specs, turns)
        store = opened(target)
        assert len(store.events(shared)) == 8 * turns * TURN_EVENTS, "events were lost"
        store.close()
        total = 16 * turns * TURN_EVENTS
        alone_rate = turns * TURN_EVENTS / alone_wall
        waits.sort()
        print(f"16 processes x {turns} turns, {backend.name}: {total / wall:8,.0f} events/s "
              f"vs one process alone {alone_rate:7,.0f} events/s ({total / wall / alone_rate:.2f}x)"
              f"; wait for one turn: median {statistics.median(waits) * 1000:.1f} ms, p99 "
              f"{waits[int(len(waits) * 0.99)] * 1000:.1f} ms, worst {waits[-1] * 1000:.1f} ms "
              f"(alone: median {statistics.median(alone_waits) * 1000:.2f} ms); nothing lost")


# -- 4. joiner usage ------------------------------------------------------------------------
def bench_usage(backends: list[Backend], requests: int, runs: int) -> None:
    from bench_usage import fill as fill_usage
    from joiner.cost.report import usage_report

    results = {}
    for backend in backends:
        empty, full = backend.target("uempty"), backend.target("ufull")
        opened(empty).close()
        started = time.perf_counter()
        fill_usage(full if full.startswith("postgres") else Path(full), requests)
        if full.startswith("postgres"):
            store = opened(full)
            store.db.conn.raw.execute("VACUUM ANALYZE")  # what autovacuum does after a load
            store.close()
        print(f"  ({backend.name}: {requests:,} requests written in "
              f"{time.perf_counter() - started:.1f}s)")
        full_store, empty_store = opened(full), opened(empty)
        results[backend.name] = paired(lambda s=full_store: usage_report(s.query),
                                       lambda s=empty_store: usage_report(s.query), runs)
        assert usage_report(full_store.query)["total"]["requests"] == requests
        full_store.close()
        empty_store.close()
    row(f"joiner usage report: {requests:,} requests vs none", results)


def main() -> None:
    quick = "--quick" in sys.argv
    url = sys.argv[sys.argv.index("--store") + 1] if "--store" in sys.argv else None
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; wall-clock "
          "medians measured alternately")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cluster = None
        if url is None:
            from joiner.testing.postgres_cluster import PostgresCluster

            cluster = PostgresCluster(durable=True).start()
            url = cluster.url()
            print(f"(a throwaway PostgreSQL server on 127.0.0.1:{cluster.port}, "
                  f"{cluster.bindir.parent.name}, default durability)")
        pg, pg_async = Postgres(url, root), Postgres(url, root, asynchronous=True)
        backends: list[Backend] = [SQLite(root / "sqlite"), pg, pg_async]
        try:
            bench_append(backends, repeats=15 if quick else 40)
            bench_list(backends, root, 1000 if quick else 10_000, 100,
                       runs=11 if quick else 31)
            bench_processes(backends, turns=20 if quick else 60)
            bench_usage(backends, 10_000 if quick else 100_000, runs=5 if quick else 11)
        finally:
            pg.drop_all()
            pg_async.drop_all()
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))
    else:
        for name in ("JOINER_HOME", "JOINER_STORE_URL"):
            os.environ.pop(name, None)
        main()
