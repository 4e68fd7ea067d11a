"""``joiner batch``: the disk a batch of 8 tasks leaves behind, against keeping every copy.

The repository is ``benchmarks/sample_repo`` made into a git repository of its own (or
``--repo PATH``, any git repository, for a larger one). Eight scripted tasks against the
loopback model server, four at once; half of them change files with ``run_shell``
(``permission_mode: auto``), so they also make shadow repositories (checkpoints). Three
batches in one run, each with a fresh ``JOINER_HOME``:

1. baseline: what Joiner did before copies were reclaimed (every copy, the mirror and the
   shadow repositories stay), the same code with the removals switched off;
2. the policy: done tasks' copies removed as their results are recorded, mirrors at the end;
3. the same with 2 of the 8 tasks failing (their copies and the mirror are kept).

Reported: bytes left under ``DATA_DIR/batch`` and ``DATA_DIR/shadow`` after the batch (du,
allocated blocks), the peak while it ran (sampled every 20 ms), and the batch's wall time,
each as a ratio to the baseline.

    .venv/bin/python benchmarks/bench_batch_disk.py [--repo PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from joiner.batch import Batch, BatchOptions
from joiner.batch.reclaim import tree_bytes
from joiner.testing.conversation_loopback import ConversationLoopback

SAMPLE = Path(__file__).parent / "sample_repo"
PRICING = '[pricing."openai/loopback"]\ninput_per_mtok = 3.0\noutput_per_mtok = 15.0\n'
TASKS = 8


def make_sample_repo(path: Path) -> Path:
    shutil.copytree(SAMPLE, path, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sample"]):
        subprocess.run(["git", *args], cwd=path, check=True, env=env)
    return path


def scripts_and_tasks(prefix: str, failing: int) -> tuple[dict[str, list[Any]],
                                                           list[dict[str, Any]]]:
    scripts: dict[str, list[Any]] = {}
    tasks = []
    for i in range(TASKS):
        prompt = f"{prefix} {i}: document the module"
        if i % 2:
            call = {"name": "run_shell",
                    "arguments": {"command": f"echo '# task {i}' >> calc.py && "
                                             f"echo 'notes {i}' > NOTES_{i}.md"}}
        else:
            call = {"name": "edit_file",
                    "arguments": {"path": "calc.py", "old_string": '"""Arithmetic helpers."""',
                                  "new_string": f'"""Arithmetic helpers ({i})."""'}}
        scripts[prompt] = [
            {"tool_calls": [call], "usage": {"input_tokens": 2000, "output_tokens": 60}},
            {"text": "Done.", "usage": {"input_tokens": 2100, "output_tokens": 10}},
        ]
        task: dict[str, Any] = {"id": f"{prefix}-{i}", "repo": "repo", "prompt": prompt,
                                "permission_mode": "auto"}
        if i < failing:
            task["max_turns"] = 1  # stops after its first request: a failed task
        tasks.append(task)
    return scripts, tasks


@contextlib.contextmanager
def reclaiming_off() -> Iterator[None]:
    """The baseline: the removals of ``run.py`` switched off (as before they existed)."""
    import joiner.batch.run as run

    saved = run.tidy, run.drop_mirrors, run.sweep_others, run.Reclaimer.discard
    from joiner.batch.leftovers import Swept

    run.tidy = lambda *a, **k: Swept()  # type: ignore[assignment]
    run.drop_mirrors = lambda *a, **k: Swept()  # type: ignore[assignment]
    run.sweep_others = lambda *a, **k: Swept()  # type: ignore[assignment]
    run.Reclaimer.discard = lambda self, root: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        run.tidy, run.drop_mirrors, run.sweep_others, run.Reclaimer.discard = saved


class PeakSampler:
    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(tree_bytes(p) for p in self.paths if p.exists()))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_batch(root: Path, name: str, repo: Path, base_url: str, tasks: list[dict[str, Any]],
              reclaim: bool) -> dict[str, float]:
    home = root / f"home-{name}"
    home.mkdir()
    (home / "config.toml").write_text('model = "openai/loopback"\n' + PRICING)
    # the store made first: four first runs at once can race to create it (seen here once:
    # "is a SQLite database but not a Joiner session store"; the sessions room's to fix)
    from joiner.sessions import open_store

    open_store(home / "sessions.db").close()
    os.environ.update({"JOINER_HOME": str(home), "OPENAI_API_KEY": "bench",
                       "OPENAI_BASE_URL": base_url})
    work = root / f"work-{name}"
    work.mkdir()
    (work / "repo").symlink_to(repo)
    path = work / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    watched = [home / "batch", home / "shadow"]
    with PeakSampler(watched) as sampler, contextlib.redirect_stderr(io.StringIO()) as err:
        started = time.perf_counter()
        with contextlib.nullcontext() if reclaim else reclaiming_off():
            code = Batch(BatchOptions(path, concurrency=4)).run()
        wall = time.perf_counter() - started
    results = [json.loads(x) for x in (work / "tasks.results.jsonl").read_text().splitlines()]
    failing = sum(1 for t in tasks if "max_turns" in t)
    if len(results) != TASKS or sum(r["is_error"] for r in results) != failing \
            or not all(r["patch"] for r in results) or code != (1 if failing else 0):
        raise SystemExit(f"{name}: the batch did not give the expected results (exit {code})"
                         f"\n{err.getvalue()}")
    left = {p.name: tree_bytes(p) if p.exists() else 0 for p in watched}
    return {"wall": wall, "peak": sampler.peak, "batch": left["batch"],
            "shadow": left["shadow"], "left": left["batch"] + left["shadow"],
            "copies": sum(1 for r in results if Path(r["workdir"]).exists())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, help="a git repository (default: the sample)")
    parser.add_argument("--runs", type=int, default=3, help="batches of each kind")
    args = parser.parse_args()
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = args.repo.resolve() if args.repo else make_sample_repo(root / "sample")
        kinds = {"baseline (nothing removed)": (0, False), "policy, 8 done": (0, True),
                 "policy, 6 done + 2 failed": (2, True)}
        scripts: dict[str, list[Any]] = {}
        plans = {}
        for k, (label, (failing, reclaim)) in enumerate(kinds.items()):
            for run in range(args.runs):
                more, tasks = scripts_and_tasks(f"k{k}r{run}", failing)
                scripts.update(more)
                plans[(label, run)] = (tasks, reclaim)
        server = ConversationLoopback(scripts).start()
        print(f"repository {repo} ({tree_bytes(repo) / 1e3:.0f} KB on disk, .git included); "
              f"{TASKS} tasks, 4 at once, half with run_shell; median of {args.runs}; load "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        figures: dict[str, list[dict[str, float]]] = {label: [] for label in kinds}
        try:
            for run in range(args.runs):  # interleaved: load hits every kind alike
                for label in kinds:
                    tasks, reclaim = plans[(label, run)]
                    name = f"{list(kinds).index(label)}-{run}"
                    figures[label].append(one_batch(root, name, repo, server.openai_base_url,
                                                    tasks, reclaim))
        finally:
            server.stop()
            os.environ.clear()
            os.environ.update(saved_env)
    base = {key: statistics.median(f[key] for f in figures["baseline (nothing removed)"])
            for key in ("wall", "peak", "left")}
    print(f"{'':<28} {'left on disk':>14} {'(batch/shadow)':>18} {'peak':>10} "
          f"{'copies left':>11} {'wall':>8}")
    for label, runs in figures.items():
        med = {key: statistics.median(f[key] for f in runs) for key in runs[0]}
        print(f"{label:<28} {med['left'] / 1e3:9.0f} KB {med['left'] / base['left']:5.3f}x "
              f"({med['batch'] / 1e3:5.0f}/{med['shadow'] / 1e3:4.0f} KB) "
              f"{med['peak'] / 1e3:6.0f} KB {med['peak'] / base['peak']:4.2f}x "
              f"{med['copies']:11.0f} {med['wall']:6.2f} s {med['wall'] / base['wall']:4.2f}x")


if __name__ == "__main__":
    main()
