"""Checkpoints (issue #6): what recording changes for undo costs, as ratios measured in this run.

1. One ``edit_file`` on a 200,000-line file against the same on a 6-line file (limit 4x):
   a. as the user runs it: a whole headless ``joiner -p … --permission-mode accept-edits``
      against the loopback server (a fresh ``JOINER_HOME`` per file size);
   b. in-process (core loop, scripted model, SQLite store, checkpointed tools), which leaves
      out the process start-up and shows the edit's own cost better.
   Each sample edits a fresh copy whose first line differs, so its before and after are new
   to the store (the dearest case: two new blobs); 1b also shows repeated edits of one file
   (contents already stored) and the run with nothing recorded.
2. ``run_shell`` touching one file of a 30,000-file repository (and 5,000 ignored ones), with
   its checkpoint (two snapshots of the shadow repository, the change's contents read back)
   against the command alone. Limit: checkpoint cost <= 2x the command + a fixed overhead,
   the fixed overhead being the same checkpoint in a 1-file workspace. Shown both as the
   difference of the median wall times and as the time spent in the checkpoint's own code;
   the one-time costs (the shadow repository's creation, a new session's first snapshot)
   apart.
3. ``make_diff`` of a 5,000-line file with 1,000 changed lines (write_file's diff).

    .venv/bin/python benchmarks/bench_undo.py [--files 30000] [--runs 9] [--only edit|shell|diff]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
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

SIZES = (6, 200_000)
EDIT = {"path": "big.py", "old_string": "= compute(3)", "new_string": "= recompute(3)"}


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


def line(name: str, seconds: float, base: float | None = None, limit: str = "") -> None:
    ratio = f"{seconds / base:7.2f}x" if base else " " * 8
    print(f"{name:<62} {seconds * 1000:9.1f} ms {ratio} {limit}")


def source(n: int, sample: int) -> str:
    return f"# sample {sample}\n" + "".join(f"value_{i} = compute({i})  # line {i}\n"
                                            for i in range(n))


# -- 1a. a whole headless run -------------------------------------------------------------------
HEADLESS_STEPS = [
    {"tool_calls": [{"name": "edit_file", "arguments": EDIT}],
     "usage": {"input_tokens": 420, "output_tokens": 25}},
    {"text": "Changed compute(3) to recompute(3).",
     "usage": {"input_tokens": 520, "output_tokens": 12}},
]


def bench_headless_edit(tmp: Path, runs: int) -> None:
    from joiner.testing.loopback import LoopbackServer

    joiner = shutil.which("joiner", path=str(Path(sys.executable).parent)) or "joiner"
    counter = [0]

    def one(n: int, env: dict[str, str]) -> float:
        counter[0] += 1
        repo = tmp / f"headless-{n}-{counter[0]}"
        repo.mkdir()
        (repo / ".git").mkdir()
        (repo / "big.py").write_text(source(n, counter[0]))
        started = time.perf_counter()
        subprocess.run([joiner, "-p", "Change compute(3) to recompute(3) in big.py",
                        "--model", "openai/gpt-4.1", "--permission-mode", "accept-edits",
                        "--output-format", "json"], cwd=repo, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        took = time.perf_counter() - started
        assert "recompute(3)" in (repo / "big.py").read_text()
        shutil.rmtree(repo)
        return took

    samples: dict[int, list[float]] = {n: [] for n in SIZES}
    with LoopbackServer(HEADLESS_STEPS, repeat=True) as server:
        envs = {n: {**os.environ, "JOINER_HOME": str(tmp / f"home-{n}"), "OPENAI_API_KEY": "x",
                    "OPENAI_BASE_URL": server.openai_base_url} for n in SIZES}
        for n in SIZES:
            one(n, envs[n])  # the store's creation, once per home
        for _ in range(runs):  # interleaved: load from other processes hits both alike
            for n in SIZES:
                samples[n].append(one(n, envs[n]))
    small, big = (statistics.median(samples[n]) for n in SIZES)
    print(f"\n1a. one edit_file in a whole headless run (joiner -p --permission-mode "
          f"accept-edits, loopback server, median of {runs})")
    line("joiner -p, 6-line file", small)
    line("joiner -p, 200,000-line file", big, small,
         f"(limit 4x: {'OK' if big <= 4 * small else 'OVER'})")


# -- 1b. the same in-process ----------------------------------------------------------------------
def bench_edit(tmp: Path, runs: int) -> None:
    import joiner.tools.files as files

    store = open_store(tmp / "sessions.db")
    runners: dict[int, Callable[[bool], float]] = {}
    for n in SIZES:
        root = tmp / f"edit{n}"
        root.mkdir()
        checkpointer = Checkpointer(root, ShadowRepo(root, tmp / f"shadow{n}"))
        tools = checkpointer.wrap(builtin_tools(Workspace(root)))
        sample = [0]

        def run(fresh: bool, root: Path = root, n: int = n, tools: list[Any] = tools,
                sample: list[int] = sample) -> float:
            """One run; ``fresh``: on a new copy of the file (new contents for the store),
            else the same edit back and forth (contents already stored)."""
            sample[0] += 1
            edit = dict(EDIT)
            if fresh:
                (root / "big.py").write_text(source(n, sample[0]))
            elif EDIT["new_string"] in (root / "big.py").read_text():  # edit it back
                edit["old_string"], edit["new_string"] = EDIT["new_string"], EDIT["old_string"]
            script = [{"text": "", "tool_calls": [{"name": "edit_file", "arguments": edit}]},
                      {"text": "ok"}]
            session = store.create_session(str(root), "scripted/bench", "auto")
            agent = Agent(ScriptedProvider(script), tools, _Allow(),
                          StoreSink(store, session), _Meter())
            started = time.perf_counter()
            result = asyncio.run(agent.run("edit it"))
            took = time.perf_counter() - started
            assert result.stop_reason == "end_turn" and not result.messages[2].is_error
            return took

        run(True)  # warm up
        runners[n] = run
    times: dict[str, list[float]] = {"small": [], "big": [], "repeated": [], "unrecorded": []}
    saved = files.file_change_meta
    for _ in range(runs):
        times["small"].append(runners[6](True))
        times["big"].append(runners[200_000](True))
        times["repeated"].append(runners[200_000](False))
        files.file_change_meta = lambda *args: {}  # type: ignore[assignment]
        try:
            times["unrecorded"].append(runners[200_000](True))
        finally:
            files.file_change_meta = saved
    small, big, repeated, unrecorded = (statistics.median(times[k]) for k in times)
    size = (tmp / "edit200000" / "big.py").stat().st_size
    print(f"\n1b. one edit_file in a whole in-process run (the 200,000-line file is "
          f"{size / 1e6:.1f} MB; median of {runs})")
    line("in-process run, 6-line file", small)
    line("in-process run, 200,000-line file (2 new blobs)", big, small, "(limit 4x)")
    line("  the same edit repeated (contents already stored)", repeated, small)
    line("  a fresh copy, contents not recorded", unrecorded, small)
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


class Spent:
    """Time spent in a shadow repository's snapshot, changes and blobs (the checkpoint's own
    work, without the event loop's hand-offs)."""

    def __init__(self, shadow: ShadowRepo) -> None:
        self.total = 0.0
        for name in ("snapshot", "changes", "blobs"):
            method = getattr(shadow, name)
            setattr(shadow, name, self._timed(method))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args)
            finally:
                self.total += time.perf_counter() - started
        return timed


def bench_shell(tmp: Path, files: int, runs: int) -> None:
    big, small = tmp / "big", tmp / "small"
    started = time.perf_counter()
    make_repo(big, files)
    made = time.perf_counter() - started
    small.mkdir()
    (small / "one.py").write_text("x = 1\n")
    print(f"\n2. run_shell touching one file ({files:,} files + 5,000 ignored made in "
          f"{made:.1f} s; median of {runs})")
    wall: dict[tuple[str, str], float] = {}
    own: dict[tuple[str, str], float] = {}
    once: dict[tuple[str, str], float] = {}
    for name, root in (("small", small), ("big", big)):
        plain = {t.spec.name: t for t in builtin_tools(Workspace(root))}["run_shell"]
        target = "one.py" if name == "small" else "src/pkg7/mod7.py"
        flip = [0]
        loop = asyncio.Runner()  # one event loop throughout, as in a session

        def command(tool: Any, target: str = target, flip: list[int] = flip,
                    loop: asyncio.Runner = loop) -> float:
            flip[0] += 1
            old, new = ("x = 1", "x = 2") if flip[0] % 2 else ("x = 2", "x = 1")
            t0 = time.perf_counter()
            out = loop.run(tool.run({"command": f"sed -i '1,3s/{old}/{new}/' {target}"}))
            took = time.perf_counter() - t0
            assert not out.is_error, out.text
            return took

        git_dir = tmp / f"shadow-{name}"
        for when in ("created", "new session"):
            # the shadow repository's creation (once per workspace), then the first snapshot
            # of a later session (once per joiner process using run_shell here)
            checkpointer = Checkpointer(root, ShadowRepo(root, git_dir))
            once[(name, when)] = command(checkpointer.wrap([plain])[0])
            if when == "created":
                checkpointer.close()
        shadow = checkpointer.shadow
        assert shadow is not None
        spent = Spent(shadow)
        wrapped = checkpointer.wrap([plain])[0]
        samples: dict[str, list[float]] = {"plain": [], "consecutive": [], "after edit": []}
        spent_in: dict[str, list[float]] = {"consecutive": [], "after edit": []}
        # interleaved, so that load from other processes hits each kind alike: the command
        # alone; with its checkpoint right after another checkpointed command (nothing
        # changed in between); and with its checkpoint after a change made outside it (the
        # plain command's edit, which the snapshot before it has to take in first)
        for _ in range(runs):
            for kind, tool in (("plain", plain), ("after edit", wrapped),
                               ("consecutive", wrapped)):
                spent.total = 0.0
                samples[kind].append(command(tool))
                if kind in spent_in:
                    spent_in[kind].append(spent.total)
        for kind, values in samples.items():
            wall[(name, kind)] = statistics.median(values)
        for kind, values in spent_in.items():
            own[(name, kind)] = statistics.median(values)
        changes = loop.run(wrapped.run({"command": f"echo >> {target}"})).meta["changes"]
        assert [c["path"] for c in changes] == [target]
        checkpointer.close()
        loop.close()
    plain_time = wall[("big", "plain")]
    line("the shadow repository's creation, big workspace (once)", once[("big", "created")])
    line("a new session's first checkpointed command, big workspace", once[("big",
                                                                             "new session")])
    line("  the same, 1-file workspace", once[("small", "new session")])
    line("command alone (run_shell, sed -i on one file), big workspace", plain_time)
    for kind in ("consecutive", "after edit"):
        print(f"  checkpoint {kind}:")
        fixed = max(0.0, wall[("small", kind)] - wall[("small", "plain")])
        cost = wall[("big", kind)] - plain_time
        line("    fixed overhead: its cost in a 1-file workspace (wall)", fixed)
        line(f"    its cost, {files:,} files (wall, with - without)", cost, plain_time,
             f"limit 2x + fixed = {(2 * plain_time + fixed) * 1000:.1f} ms: "
             f"{'OK' if cost <= 2 * plain_time + fixed else 'OVER'}")
        line("    the command with its checkpoint, big workspace", wall[("big", kind)],
             plain_time)
        line("    checkpoint's own code, 1-file workspace", own[("small", kind)])
        line(f"    checkpoint's own code, {files:,} files", own[("big", kind)], plain_time)


# -- 3. write_file's diff ---------------------------------------------------------------------
def bench_diff() -> None:
    rng = random.Random(6)
    before = [f"    line {i} = compute({i})\n" for i in range(5000)]
    after = list(before)
    for i in rng.sample(range(5000), 1000):
        after[i] = f"    changed {i}\n"
    a, b = "".join(before), "".join(after)
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        diff = make_diff("f.py", a, b)
        samples.append(time.perf_counter() - t0)
    removed = sum(1 for x in diff.splitlines() if x.startswith("-") and not x.startswith("---"))
    print("\n3. write_file's diff")
    line(f"make_diff 5,000 lines, 1,000 changed ({removed} lines shown removed)",
         statistics.median(samples))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=9, help="samples of each kind")
    parser.add_argument("--only", choices=("edit", "shell", "diff"), help="one part only")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "edit"):
            bench_headless_edit(Path(tmp), args.runs)
            bench_edit(Path(tmp), args.runs)
        if args.only in (None, "shell"):
            bench_shell(Path(tmp), args.files, max(args.runs, 25))
    if args.only in (None, "diff"):
        bench_diff()


if __name__ == "__main__":
    main()
