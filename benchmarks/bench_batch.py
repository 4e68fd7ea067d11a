"""``joiner batch``: 64 scripted tasks against the loopback model server, ratios in one run.

Each task edits one file of one repository in two model requests; the server answers
each request after LATENCY seconds (a model's think time), so a task is mostly waiting,
as real ones are. Measured:

1. the local pool with 1, 2 and 4 tasks at once: tasks/s and the speed-up over 1;
   the cost of a task apart from the model's time (copy, ``joiner -p`` process, patch);
2. local Ray (4 CPUs) against the local pool at 4 at once: Ray's overhead per task
   (its start-up is reported apart; a warm-up batch runs first).

Run: ``.venv/bin/python benchmarks/bench_batch.py [--quick] [--tasks N] [--latency S]``.
Wall-clock times on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from joiner.batch import Batch, BatchOptions
from joiner.testing.conversation_loopback import ConversationLoopback

PRICING = '[pricing."openai/loopback"]\ninput_per_mtok = 3.0\noutput_per_mtok = 15.0\n'


def arg(name: str, default: float) -> float:
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    for i in range(40):  # a small project
        (path / f"module_{i}.py").write_text(f"def f{i}():\n    return {i}\n" * 20)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=path, check=True, env=env)
    return path


def scripts_and_tasks(prefix: str, count: int, latency: float
                      ) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
    scripts, tasks = {}, []
    for i in range(count):
        prompt = f"{prefix} {i}: add a function to module_{i % 40}.py"
        edit = {"path": f"module_{i % 40}.py", "old_string": "def f", "new_string": "def g",
                "replace_all": True}
        scripts[prompt] = [
            {"tool_calls": [{"name": "edit_file", "arguments": edit}], "stall_s": latency,
             "usage": {"input_tokens": 2000, "output_tokens": 60}},
            {"text": "Done.", "stall_s": latency,
             "usage": {"input_tokens": 2100, "output_tokens": 10}},
        ]
        tasks.append({"id": f"{prefix}-{i}", "repo": "repo", "prompt": prompt})
    return scripts, tasks


def run(root: Path, name: str, tasks: list[dict[str, Any]], concurrency: int,
        ray: bool = False) -> float:
    path = root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        code = Batch(BatchOptions(path, concurrency=concurrency, ray=ray)).run()
    wall = time.perf_counter() - started
    results = [json.loads(x) for x in (root / f"{name}.results.jsonl").read_text().splitlines()]
    if code != 0 or len(results) != len(tasks) or any(r["is_error"] or not r["patch"]
                                                      for r in results):
        raise SystemExit(f"{name}: the batch failed (exit {code})")
    return wall


def main() -> None:
    count = int(arg("--tasks", 16 if "--quick" in sys.argv else 64))
    latency = arg("--latency", 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_repo(root / "repo")
        scripts: dict[str, list[Any]] = {}
        runs = {}
        for name in ("c1", "c2", "c4", "ray4", "warm"):
            more, tasks = scripts_and_tasks(name, 4 if name == "warm" else count, latency)
            scripts.update(more)
            runs[name] = tasks
        server = ConversationLoopback(scripts).start()
        home = root / "home"
        home.mkdir()
        (home / "config.toml").write_text('model = "openai/loopback"\n' + PRICING)
        os.environ.update({"JOINER_HOME": str(home), "OPENAI_API_KEY": "bench",
                           "OPENAI_BASE_URL": server.openai_base_url})
        os.environ.pop("JOINER_STORE_URL", None)
        print(f"{count} tasks, 2 model requests each answered after {latency}s; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        walls = {}
        for n in (1, 2, 4):
            walls[n] = run(root, f"c{n}", runs[f"c{n}"], n)
            print(f"local pool, {n} at once: {walls[n]:7.1f} s  {count / walls[n]:5.2f} tasks/s  "
                  f"speed-up {walls[1] / walls[n]:4.2f}x over 1 at once "
                  f"(load {os.getloadavg()[0]:.1f})")
        overhead = walls[1] / count - 2 * latency
        print(f"a task apart from the model's time (copy, joiner -p process, patch): "
              f"{overhead:.2f} s ({overhead / (walls[1] / count):.0%} of a task here)")

        import ray

        started = time.perf_counter()
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        run(root, "warm", runs["warm"], 4, ray=True)
        ray_wall = run(root, "ray4", runs["ray4"], 4, ray=True)
        ray.shutdown()
        server.stop()
        print(f"local Ray, 4 at once: {ray_wall:7.1f} s  {count / ray_wall:5.2f} tasks/s vs the "
              f"local pool at 4: {ray_wall / walls[4]:4.2f}x; Ray's overhead per task "
              f"{(ray_wall - walls[4]) / count * 1000:+.0f} ms (Ray's start-up, apart: "
              f"{ray_start:.1f} s)")


if __name__ == "__main__":
    main()
