"""Pruning shadow repositories: the disk it gives back and what it costs, as ratios in one run.

For each workspace (a 1,000-file project and the 30,000-file repository of
``bench_undo.py``, with 5,000 ignored files):

1. one session runs N=200 checkpointed ``run_shell`` commands (the real tool wrapped by a
   ``Checkpointer``), each appending to two files, rewriting one and creating one;
2. the session ends; its objects are made an hour old (a prune runs at most once a day, so
   what it finds is never fresh) and the repository is pruned.

Reported: the shadow repository's objects and disk (allocated blocks) before and after,
as a ratio; the prune's wall time against a baseline measured here, a new session's first
snapshot of the same workspace (a full scan: what every session pays once); that first
snapshot again after the prune (packed objects); and the session's end with a prune due
(the background process started) against one with none due.

    .venv/bin/python benchmarks/bench_shadow_prune.py [--commands 200] [--files 30000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_undo import make_repo
from joiner.tools import builtin_tools
from joiner.workspace.checkpoints import Checkpointer
from joiner.workspace.guard import Workspace
from joiner.workspace.shadow import ShadowRepo
from joiner.workspace.shadow_prune import object_usage, prune, stamp


def make_project(root: Path, files: int) -> None:
    if files >= 10_000:
        make_repo(root, files)
        return
    root.mkdir()
    for d in range(files // 50):
        pkg = root / "src" / f"pkg{d}"
        pkg.mkdir(parents=True)
        for f in range(50):
            (pkg / f"mod{f}.py").write_text(f"# module {d}.{f}\n" + "x = 1\n" * 40)


def run_commands(root: Path, git_dir: Path, count: int) -> float:
    """``count`` checkpointed shell commands in one session; returns their median time."""
    checkpointer = Checkpointer(root, ShadowRepo(root, git_dir))
    shell = {t.spec.name: t for t in checkpointer.wrap(builtin_tools(Workspace(root)))}
    tool = shell["run_shell"]
    times = []
    with asyncio.Runner() as loop:
        for i in range(count):
            a, b = f"src/pkg{i % 20}/mod{i % 50}.py", f"src/pkg{(i + 7) % 20}/mod{i % 13}.py"
            command = (f"echo 'y{i} = {i}' >> {a} && echo '# {i}' >> {b} && "
                       f"printf 'state {i}\\n%.0s' $(seq 30) > STATE.txt && "
                       f"echo 'made {i}' > made_{i % 40}.txt")
            started = time.perf_counter()
            out = loop.run(tool.run({"command": command}))
            times.append(time.perf_counter() - started)
            assert not out.is_error and out.meta.get("changes"), out.text
    stamp(git_dir)  # not due: this benchmark prunes by hand
    checkpointer.close()
    return statistics.median(times)


def first_snapshot(root: Path, git_dir: Path) -> float:
    shadow = ShadowRepo(root, git_dir, watch=False)
    started = time.perf_counter()
    shadow.snapshot()
    took = time.perf_counter() - started
    shadow.close()
    return took


def age_objects(git_dir: Path, seconds: float) -> None:
    when = time.time() - seconds
    for dirpath, _dirs, files in os.walk(git_dir / "objects"):
        for name in files:
            os.utime(Path(dirpath, name), (when, when))


def session_end(root: Path, git_dir: Path, due: bool) -> float:
    """The time of ``Checkpointer.close()`` after one command, with a prune due or not."""
    checkpointer = Checkpointer(root, ShadowRepo(root, git_dir))
    tool = {t.spec.name: t for t in checkpointer.wrap(builtin_tools(Workspace(root)))}
    with asyncio.Runner() as loop:
        loop.run(tool["run_shell"].run({"command": "echo end >> STATE.txt"}))
    stamp(git_dir, time.time() - (2 * 86400 if due else 0))
    started = time.perf_counter()
    checkpointer.close()
    return time.perf_counter() - started


def wait_for_prune(git_dir: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if time.time() - (git_dir / "joiner-pruned").stat().st_mtime < 60:
            break
        time.sleep(0.05)
    lock = git_dir / "joiner-prune.lock"
    import fcntl

    with open(lock, "a") as f:  # the background prune holds it until it is done
        fcntl.flock(f, fcntl.LOCK_EX)


def index_reaches(git_dir: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    out = subprocess.run(["git", "rev-list", "--objects", "--indexed-objects"], check=True,
                         env={**env, "GIT_DIR": str(git_dir)}, capture_output=True).stdout
    return len(out.splitlines())


def mb(n: int) -> str:
    return f"{n / 1e6:7.1f} MB"


def bench(tmp: Path, files: int, commands: int) -> dict[str, Any]:
    root, git_dir = tmp / f"ws{files}", tmp / f"shadow{files}"
    started = time.perf_counter()
    make_project(root, files)
    print(f"\n{files:,} files ({time.perf_counter() - started:.1f} s to make); "
          f"{commands} shell commands")
    command = run_commands(root, git_dir, commands)
    scans = [first_snapshot(root, git_dir) for _ in range(3)]
    before = object_usage(git_dir)
    reachable = index_reaches(git_dir)
    age_objects(git_dir, 3600)
    report = prune(git_dir)
    assert report.done, report.reason
    after = object_usage(git_dir)
    scans_after = [first_snapshot(root, git_dir) for _ in range(3)]
    scan = statistics.median(scans)
    print(f"  shadow repository before: {before[0]:7,} objects {mb(before[1])} (index reaches "
          f"{reachable:,})")
    print(f"  after the prune:          {after[0]:7,} objects {mb(after[1])}   "
          f"{after[1] / before[1]:.3f}x the disk")
    print(f"  a checkpointed command (median):               {command * 1000:8.1f} ms")
    print(f"  baseline: a new session's first snapshot       {scan * 1000:8.1f} ms   1.00x")
    print(f"  the prune (background, niced)                  {report.seconds * 1000:8.1f} ms "
          f"{report.seconds / scan:6.2f}x")
    rescan = statistics.median(scans_after)
    print(f"  a new session's first snapshot after the prune {rescan * 1000:8.1f} ms "
          f"{rescan / scan:6.2f}x")
    ends: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(7):
        for due in (False, True):
            ends[due].append(session_end(root, git_dir, due))
            if due:
                wait_for_prune(git_dir)
    quiet, due = statistics.median(ends[False]), statistics.median(ends[True])
    print(f"  session end, no prune due                      {quiet * 1000:8.1f} ms   1.00x")
    print(f"  session end, prune due (process started)       {due * 1000:8.1f} ms "
          f"{due / quiet:6.2f}x  ({(due - quiet) * 1000:+.1f} ms)")
    return {"before": before, "after": after}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--files", type=int, default=30_000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        for files in (1_000, args.files):
            bench(Path(tmp), files, args.commands)


if __name__ == "__main__":
    main()
