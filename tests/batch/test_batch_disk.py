"""What ``joiner batch`` leaves on disk: a done task's copy goes once its result is on file, a
failed task's copy stays (with the mirror it borrows from) and is reported, and leftovers
(a kill -9, old or forgotten batches) are swept as a batch starts. Real processes, a real
model server, real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from batch_kit import batch_env, make_repo, read_results, task_scripts, write_tasks

from joiner.batch.leftovers import RETENTION_DAYS
from joiner.batch.workdir import task_dir_name
from joiner.testing.conversation_loopback import ConversationLoopback
from joiner.workspace.shadow import shadow_dir

JOINER = [sys.executable, "-m", "joiner"]
SHELL_PROMPT = "append a line to calc.py with the shell"


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = make_repo(root / "repo")
        scripts, self.tasks = task_scripts(4)
        scripts[SHELL_PROMPT] = [
            {"tool_calls": [{"name": "run_shell",
                             "arguments": {"command": "echo '# shell' >> calc.py"}}],
             "usage": {"input_tokens": 900, "output_tokens": 30}},
            {"text": "Appended.", "usage": {"input_tokens": 1000, "output_tokens": 10}},
        ]
        self.server = ConversationLoopback(scripts).start()
        self.env = batch_env(root / "home", self.server.openai_base_url)
        self.home = Path(self.env["JOINER_HOME"])

    def batch(self, tasks: list[dict[str, Any]], name: str = "tasks", code: int | None = 0
              ) -> subprocess.CompletedProcess[str]:
        path = write_tasks(self.root / f"{name}.jsonl", tasks)
        done = subprocess.run([*JOINER, "batch", str(path), "--concurrency", "2"],
                              cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=300)
        if code is not None:
            assert done.returncode == code, done.stderr
        return done

    def out(self, name: str = "tasks") -> Path:
        return self.root / f"{name}.results.jsonl"

    def batch_dirs(self) -> dict[str, Path]:
        """The batch directories, by the results file they serve."""
        found = {}
        for path in (self.home / "batch").iterdir():
            if not (path / "batch.json").exists():
                continue  # made before batch.json existed
            marker = json.loads((path / "batch.json").read_text())
            found[Path(marker["output"]).name] = path
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.server.stop()


def names(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def test_done_copies_go_a_failed_one_stays_with_its_mirror_and_is_reported(
        world: World) -> None:
    tasks = [*world.tasks[:3], {**world.tasks[3], "max_turns": 1},  # t4 fails: max_turns
             {"id": "sh", "repo": "repo", "prompt": SHELL_PROMPT, "permission_mode": "auto"}]
    done = world.batch(tasks, code=1)
    by_id = {r["id"]: r for r in read_results(world.out())}
    batch_dir = world.batch_dirs()["tasks.results.jsonl"]
    failed = by_id["t4"]
    assert failed["is_error"] and failed["stop_reason"] == "max_turns"
    assert failed["workdir_kept"] is True and Path(failed["workdir"]).is_dir()
    for task_id in ("t1", "t2", "t3", "sh"):
        assert by_id[task_id]["workdir_kept"] is False
        assert not Path(by_id[task_id]["workdir"]).exists()
    # the shell task's checkpoints (a shadow repository of its copy) went with the copy
    assert "+# shell" in by_id["sh"]["patch"]
    assert not shadow_dir(world.home, Path(by_id["sh"]["workdir"])).exists()
    # the failed copy still works as a git repository: its mirror is kept for it
    assert names(batch_dir) == [".lock", ".mirrors", "batch.json", task_dir_name("t4")]
    diff = subprocess.run(["git", "diff", "--stat"], cwd=failed["workdir"], check=True,
                          capture_output=True, text=True).stdout
    assert "calc.py" in diff
    assert "t4 failed (max_turns: " in done.stderr
    assert f"copy kept: {failed['workdir']}" in done.stderr
    assert "disk: removed 4 done tasks' copies (" in done.stderr
    assert "the failed task's copy is kept for inspection: " + failed["workdir"] in done.stderr

    # run again: everything is recorded, nothing runs, the failed copy stays for inspection
    again = world.batch(tasks, code=0)
    assert "5 of 5 tasks already in" in again.stderr
    assert Path(failed["workdir"]).is_dir()

    # the user deletes the results to start over: the next batch (any) forgets the old one
    world.out().unlink()
    other = world.batch(world.tasks[:1], name="other")
    assert list(world.batch_dirs()) == ["other.results.jsonl"]
    assert "leftovers of older batches removed: 1 whole" in other.stderr


def test_what_a_kill_minus_9_leaves_is_swept_at_the_next_run(world: World) -> None:
    world.batch(world.tasks)
    batch_dir = world.batch_dirs()["tasks.results.jsonl"]
    # as if killed between a result's line and its copy's removal, and during removals
    leftover = batch_dir / task_dir_name("t2")
    subprocess.run(["git", "clone", "-q", str(world.repo), str(leftover)], check=True)
    (batch_dir / f"{task_dir_name('t3')}.stale-0a1b2c3d").mkdir()  # cut before its shadow's
    orphan = shadow_dir(world.home, batch_dir / task_dir_name("t3"))
    orphan.mkdir(parents=True)
    (orphan / "HEAD").write_text("ref: refs/heads/master\n")
    (batch_dir / "not-recorded-9f8e7d6c").mkdir()  # a copy of a task that was interrupted
    (batch_dir / ".mirrors" / ".partial-1234abcd").mkdir(parents=True)
    again = world.batch(world.tasks)
    assert "4 of 4 tasks already in" in again.stderr
    assert names(batch_dir) == [".lock", "batch.json"]
    assert not orphan.exists()
    assert "disk: removed 2 copies an earlier run left (" in again.stderr


def test_old_and_forgotten_batches_are_swept_running_ones_left_alone(world: World) -> None:
    import fcntl

    for name in ("old", "recent", "running"):
        world.batch([{**world.tasks[0], "max_turns": 1}], name=name, code=1)  # a kept copy
    dirs = world.batch_dirs()
    old_time = time.time() - (RETENTION_DAYS + 1) * 86400
    for name in ("old", "running"):
        os.utime(dirs[f"{name}.results.jsonl"] / "batch.json", (old_time, old_time))
    legacy_new = world.home / "batch" / "0123456789ab"  # made before batch.json existed
    legacy_old = world.home / "batch" / "ba9876543210"
    for legacy in (legacy_new, legacy_old):
        (legacy / "t1-00000000").mkdir(parents=True)
    os.utime(legacy_old, (old_time, old_time))
    with open(dirs["running.results.jsonl"] / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a batch is running on it
        done = world.batch(world.tasks[:1], name="fresh")
    assert sorted(p.name for p in (world.home / "batch").iterdir()) == sorted(
        [legacy_new.name, *(p.name for k, p in world.batch_dirs().items())])
    assert sorted(world.batch_dirs()) == ["fresh.results.jsonl", "recent.results.jsonl",
                                          "running.results.jsonl"]
    kept = read_results(world.out("recent"))[0]["workdir"]
    assert Path(kept).is_dir()  # a recent failed copy is still there for inspection
    assert "leftovers of older batches removed: 2 whole" in done.stderr


def test_a_second_batch_on_the_same_results_is_refused(world: World) -> None:
    world.batch(world.tasks[:1])
    batch_dir = world.batch_dirs()["tasks.results.jsonl"]
    import fcntl

    with open(batch_dir / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = world.batch(world.tasks, code=2)
    assert done.stderr.count("\n") == 1
    assert "another joiner batch is running with the results file" in done.stderr
    assert len(read_results(world.out())) == 1  # nothing ran
