"""``joiner batch --ray`` on a real local Ray (one small instance for the module): the same
results and resume as the local pool, and a task whose worker dies is run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_kit import (
    batch_env,
    engine_missing,
    make_repo,
    read_results,
    runs_under,
    task_scripts,
    tree_fingerprint,
    wait_no_runs,
    write_tasks,
)

from joiner.batch import Batch, BatchOptions
from joiner.testing.conversation_loopback import ConversationLoopback

JOINER = [sys.executable, "-m", "joiner"]


class RayWorld:
    """One repo, one model server and one JOINER_HOME for the module: Ray's workers start
    with the environment of the process that starts Ray, so it is set before ``ray.init``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = make_repo(root / "repo")
        scripts: dict[str, list[Any]] = {}
        self.tasks: dict[str, list[dict[str, Any]]] = {}
        for name, count, stall in (("plain", 8, 0.0), ("kill", 8, 1.0), ("die", 3, 2.5)):
            more, tasks = task_scripts(count, stall, prefix=name)
            scripts.update(more)
            self.tasks[name] = tasks
        self.server = ConversationLoopback(scripts).start()
        self.env = batch_env(root / "home", self.server.openai_base_url)
        self.home = Path(self.env["JOINER_HOME"])

    def requests_per_prompt(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.server.requests:
            first = next(m for m in request.body["messages"] if m["role"] == "user")
            counts[first["content"]] = counts.get(first["content"], 0) + 1
        return counts


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayWorld]:
    try:
        import ray
    except ImportError:
        engine_missing("Ray is not installed (pip install 'joiner[ray]')")
    made = RayWorld(tmp_path_factory.mktemp("ray"))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(made.env)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield made
    finally:
        ray.shutdown()
        os.environ.clear()
        os.environ.update(saved)
        made.server.stop()


def test_eight_tasks_on_ray_give_eight_patches_and_resume_skips_them(world: RayWorld) -> None:
    tasks = write_tasks(world.root / "plain.jsonl", world.tasks["plain"])
    out = world.root / "plain.results.jsonl"
    before = tree_fingerprint(world.repo)
    assert Batch(BatchOptions(tasks, ray=True)).run() == 0
    results = read_results(out)
    assert sorted(r["id"] for r in results) == [f"t{i}" for i in range(1, 9)]
    for r in results:
        n = r["id"][1:]
        assert not r["is_error"] and r["result"] == f"Added f{n}."
        assert f"+def f{n}():" in r["patch"] and r["patch"].count("+def f") == 1
    assert len({r["workdir"] for r in results}) == 8
    assert not any(Path(r["workdir"]).exists() for r in results)  # done: copies removed
    assert tree_fingerprint(world.repo) == before
    assert Batch(BatchOptions(tasks, ray=True)).run() == 0  # all done: nothing submitted
    assert len(read_results(out)) == 8


def test_the_command_killed_half_way_then_run_again_on_ray(world: RayWorld) -> None:
    """``joiner batch --ray=auto`` joins the running Ray; kill -9 it, then run it again."""
    tasks = write_tasks(world.root / "kill.jsonl", world.tasks["kill"])
    out = world.root / "kill.results.jsonl"
    command = [*JOINER, "batch", str(tasks), "--ray=auto", "--concurrency", "2"]
    batch = subprocess.Popen(command, env=world.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.exists() and len(out.read_text().splitlines()) >= 3):
        assert time.monotonic() < deadline and batch.poll() is None
        time.sleep(0.05)
    batch.kill()
    batch.wait()
    first = read_results(out)
    recorded = {r["id"]: r for r in first}
    wait_no_runs(world.home / "batch", timeout=60)  # Ray stops the dead driver's tasks
    asked = world.requests_per_prompt()

    done = subprocess.run(command, env=world.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = read_results(out)
    assert results[: len(first)] == first
    assert sorted(r["id"] for r in results) == [f"t{i}" for i in range(1, 9)]
    after = world.requests_per_prompt()
    for task in world.tasks["kill"]:
        if task["id"] in recorded:
            assert after[task["prompt"]] == asked[task["prompt"]] == 2
    assert f"{len(first)} of 8 tasks already in" in done.stderr


def test_a_task_whose_worker_dies_is_run_again(world: RayWorld) -> None:
    tasks = write_tasks(world.root / "die.jsonl", world.tasks["die"])
    out = world.root / "die.results.jsonl"
    batch_dir = world.home / "batch"
    killed: list[int] = []

    prompts = {t["prompt"] for t in world.tasks["die"]}

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            asked = world.requests_per_prompt()
            if sum(asked.get(p, 0) for p in prompts) < 2:  # both runs in their first request
                time.sleep(0.05)
                continue
            for pid in runs_under(batch_dir):
                status = Path(f"/proc/{pid}/status").read_text()
                parent = int(next(ln.split()[1] for ln in status.splitlines()
                                  if ln.startswith("PPid:")))
                cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
                if b"ray" in cmdline.lower():
                    os.kill(parent, signal.SIGKILL)  # the Ray worker running the task
                    killed.append(parent)
                    return
            time.sleep(0.05)

    import threading

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    code = Batch(BatchOptions(tasks, ray=True)).run()
    killer.join()
    assert killed, "no Ray worker was found running a task"
    assert code == 0
    results = read_results(out)
    assert sorted(r["id"] for r in results) == ["t1", "t2", "t3"]
    assert all(not r["is_error"] and "+def f" in r["patch"] for r in results)
    asked = world.requests_per_prompt()
    # the killed task's first request, then its whole conversation again
    assert sorted(asked[t["prompt"]] for t in world.tasks["die"]) == [2, 2, 3]
