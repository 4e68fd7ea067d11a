"""Checkpoints (issue #6): what recording changes for undo costs, as ratios measured in this run.

1. A whole run (core loop, scripted model, SQLite store, checkpointed tools) making one
   ``edit_file`` on a 200,000-line file, against the same run on a 6-line file (limit 4x).
2. ``run_shell`` touching one file of a 30,000-file repository, with its checkpoint (two
   snapshots of the shadow repository, the change's contents read back) against the command
   alone. Limit: checkpoint cost <= 2x the command + the fixed overhead (the same checkpoint
   in a 1-file workspace). The shadow repository's first snapshot (done once per workspace)
   is shown apart.
3. ``make_diff`` of a 5,000-line file with 1,000 changed lines (write_file's diff).

    .venv/bin/python benchmarks/bench_undo.py [--files 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joiner.core import Approval, ApprovalRequest
from joiner.core.loop import Agent
from joiner.core.messages import Usage
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import StoreSink, open_store
from joiner.tools import builtin_tools, make_diff
from joiner.workspace.checkpoints import Checkpointer
from joiner.workspace.guard import Workspace
from joiner.workspace.shadow import ShadowRepo


class _Allow:
    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(True)


class _Meter:
    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        return {"model": model, **usage.to_dict(), "cost_usd": 0.0}

    def total(self) -> dict[str, Any]:
        return {}

    def budget_exceeded(self) -> str | None:
        return None


def median(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def line(name: str, seconds: float, base: float | None = None, limit: str = "") -> None:
    ratio = f"{seconds / base:7.2f}x" if base else " " * 8
    print(f"{name:<58} {seconds * 1000:9.1f} ms {ratio} {limit}")


# -- 1. edit_file on a 200,000-line file vs a 6-line file ---------------------------------------
def bench_edit(tmp: Path) -> None:
    store = open_store(tmp / "sessions.db")
    times = {}
    for n in (6, 200_000):
        root = tmp / f"edit{n}"
        root.mkdir()
        path = root / "big.py"
        path.write_text("".join(f"value_{i} = compute({i})  # line {i}\n" for i in range(n)))
        checkpointer = Checkpointer(root, ShadowRepo(root, tmp / f"shadow{n}"))
        tools = checkpointer.wrap(builtin_tools(Workspace(root)))
        flip = [0]

        def run(tools: list[Any] = tools, n: int = n, flip: list[int] = flip) -> None:
            old, new = ("= compute(3)", "= recompute(3)")[:: 1 - 2 * (flip[0] % 2)]
            flip[0] += 1
            script = [{"text": "", "tool_calls": [{"name": "edit_file", "arguments": {
                "path": "big.py", "old_string": old, "new_string": new}}]}, {"text": "ok"}]
            session = store.create_session(str(tools and n), "scripted/bench", "auto")
            agent = Agent(ScriptedProvider(script), tools, _Allow(),
                          StoreSink(store, session), _Meter())
            result = asyncio.run(agent.run("edit it"))
            assert result.stop_reason == "end_turn"

        run()  # warm up
        times[n] = median(run, 9 if n > 6 else 31)
        run_big = run
    # the same 200,000-line run without recording the before/after contents (what the
    # checkpoint adds to the tool's own work)
    import joiner.tools.files as files

    saved = files.capture, files.file_change_meta
    files.capture = lambda root, path: None  # type: ignore[assignment]
    files.file_change_meta = lambda rel, before, diff: {}  # type: ignore[assignment]
    try:
        times["unrecorded"] = median(run_big, 9)
    finally:
        files.capture, files.file_change_meta = saved
    size = (tmp / "edit200000" / "big.py").stat().st_size
    print(f"\n1. one edit_file in a whole run (the 200,000-line file is {size / 1e6:.1f} MB)")
    line("whole run, 6-line file", times[6])
    line("whole run, 200,000-line file", times[200_000], times[6], "(limit 4x)")
    line("the same, contents not recorded (the tool and the store alone)", times["unrecorded"],
         times[6])
    store.close()


# -- 2. run_shell checkpoint in a 30,000-file repository ----------------------------------------
def make_repo(root: Path, files: int) -> None:
    root.mkdir()
    (root / ".gitignore").write_text("node_modules/\nbuild/\n")
    per_dir = 100
    for d in range(files // per_dir):
        pkg = root / "src" / f"pkg{d}"
        pkg.mkdir(parents=True)
        for f in range(per_dir):
            (pkg / f"mod{f}.py").write_text(f"# module {d}.{f}\n" + "x = 1\n" * 40)
    deps = root / "node_modules" / "dep"  # ignored: never read by the snapshots
    deps.mkdir(parents=True)
    for f in range(5000):
        (deps / f"f{f}.js").write_text("module.exports = 1\n")


def bench_shell(tmp: Path, files: int) -> None:
    big, small = tmp / "big", tmp / "small"
    started = time.perf_counter()
    make_repo(big, files)
    made = time.perf_counter() - started
    small.mkdir()
    (small / "one.py").write_text("x = 1\n")
    print(f"\n2. run_shell touching one file ({files:,} files + 5,000 ignored made in "
          f"{made:.1f} s)")
    results = {}
    for name, root in (("small", small), ("big", big)):
        plain = {t.spec.name: t for t in builtin_tools(Workspace(root))}["run_shell"]
        checkpointer = Checkpointer(root, ShadowRepo(root, tmp / f"shadow-{name}"))
        wrapped = checkpointer.wrap([plain])[0]
        target = "one.py" if name == "small" else "src/pkg7/mod7.py"
        flip = [0]

        def command(tool: Any, target: str = target, flip: list[int] = flip) -> None:
            flip[0] += 1
            old, new = ("x = 1", "x = 2") if flip[0] % 2 else ("x = 2", "x = 1")
            out = asyncio.run(tool.run({"command": f"sed -i '1,3s/{old}/{new}/' {target}"}))
            assert not out.is_error, out.text

        started = time.perf_counter()
        command(wrapped)  # the first snapshot of this workspace: its objects are written once
        results[(name, "first")] = time.perf_counter() - started
        if flip[0] % 2:
            command(plain)
        runs = 15
        # interleaved, so that load from other processes hits each kind alike: the command
        # alone; with its checkpoint right after another checkpointed command (the usual
        # case: nothing changed in between, the snapshot before it costs nothing); and with
        # its checkpoint after a change made outside it (an edit: the snapshot before it
        # has that change to take in first)
        samples: dict[str, list[float]] = {"plain": [], "consecutive": [], "after edit": []}
        for _ in range(runs):
            for kind, tool in (("plain", plain), ("after edit", wrapped),
                               ("consecutive", wrapped)):
                t0 = time.perf_counter()
                command(tool)
                samples[kind].append(time.perf_counter() - t0)
        for kind, values in samples.items():
            results[(name, kind)] = statistics.median(values)
        changes = asyncio.run(wrapped.run({"command": f"echo >> {target}"})).meta["changes"]
        assert [c["path"] for c in changes] == [target]
    plain = results[("big", "plain")]
    line("first snapshot of the big workspace (once per workspace)", results[("big", "first")])
    line("command alone (run_shell, sed -i on one file)", plain)
    for kind in ("consecutive", "after edit"):
        fixed = results[("small", kind)] - results[("small", "plain")]
        cost = results[("big", kind)] - plain
        limit = 2 * plain + fixed
        line(f"fixed overhead: the checkpoint in a 1-file workspace ({kind})", fixed)
        line(f"checkpoint cost, {files:,} files ({kind})", cost, plain,
             f"limit 2x + fixed = {limit * 1000:.1f} ms: {'OK' if cost <= limit else 'OVER'}")


# -- 3. write_file's diff ---------------------------------------------------------------------
def bench_diff() -> None:
    rng = random.Random(6)
    before = [f"    line {i} = compute({i})\n" for i in range(5000)]
    after = list(before)
    for i in rng.sample(range(5000), 1000):
        after[i] = f"    changed {i}\n"
    a, b = "".join(before), "".join(after)
    took = median(lambda: make_diff("f.py", a, b), 5)
    diff = make_diff("f.py", a, b)
    removed = sum(1 for x in diff.splitlines() if x.startswith("-") and not x.startswith("---"))
    print("\n3. write_file's diff")
    line(f"make_diff 5,000 lines, 1,000 changed ({removed} lines shown removed)", took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=30_000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_edit(Path(tmp))
        bench_shell(Path(tmp), args.files)
    bench_diff()


if __name__ == "__main__":
    main()
