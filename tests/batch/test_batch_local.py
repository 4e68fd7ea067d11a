"""``joiner batch`` as a user runs it, on the local pool: real processes, a real model server
(the conversation loopback), real git repositories."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from batch_kit import (
    batch_env,
    git,
    make_repo,
    read_results,
    task_scripts,
    tree_fingerprint,
    wait_no_runs,
    write_tasks,
)

from joiner.batch.runner import RESULT_KEYS
from joiner.testing.conversation_loopback import ConversationLoopback

JOINER = [sys.executable, "-m", "joiner"]
TASK_COST = (2100 * 3 + 70 * 15) / 1e6  # two requests at the configured price


class Setup:
    def __init__(self, root: Path, count: int = 8, stall_s: float | list[float] = 0.0) -> None:
        self.root = root
        self.repo = make_repo(root / "repo")
        scripts, self.tasks = task_scripts(count, stall_s)
        self.server = ConversationLoopback(scripts).start()
        self.env = batch_env(root / "home", self.server.openai_base_url)
        self.tasks_file = write_tasks(root / "tasks.jsonl", self.tasks)
        self.out = root / "out.jsonl"
        self.prompts = {t["prompt"]: t["id"] for t in self.tasks}

    def batch(self, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*JOINER, "batch", str(self.tasks_file), "--output", str(self.out),
                               *args], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=300)
        if code is not None:
            assert done.returncode == code, done.stderr
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*JOINER, "batch", str(self.tasks_file), "--output",
                                 str(self.out), *args], cwd=self.root, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def requests_per_task(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.server.requests:
            first = next(m for m in request.body["messages"] if m["role"] == "user")
            task = self.prompts.get(first["content"] if isinstance(first["content"], str)
                                    else first["content"][0]["text"])
            if task:
                counts[task] = counts.get(task, 0) + 1
        return counts

    def wait_for_lines(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.out.exists() and len(self.out.read_text().splitlines()) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} results after {timeout}s")

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def setup(tmp_path: Path) -> Any:
    made: list[Setup] = []

    def make(count: int = 8, stall_s: float | list[float] = 0.0) -> Setup:
        made.append(Setup(tmp_path, count, stall_s))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def assert_patch_applies(repo: Path, patch: str, tmp: Path) -> Path:
    check = tmp / f"check-{abs(hash(patch))}"
    subprocess.run(["git", "clone", "-q", str(repo), str(check)], check=True)
    (tmp / "p.patch").write_text(patch)
    subprocess.run(["git", "-C", str(check), "apply", str(tmp / "p.patch")], check=True)
    return check


def test_eight_tasks_four_at_once_give_eight_patches_and_leave_the_repo_alone(
        setup: Any, tmp_path: Path) -> None:
    s = setup(8, stall_s=0.3)
    before = tree_fingerprint(s.repo)
    done = s.batch("--concurrency", "4")
    results = read_results(s.out)
    assert sorted(r["id"] for r in results) == [f"t{i}" for i in range(1, 9)]
    for r in results:
        assert set(RESULT_KEYS) <= set(r)
        n = r["id"][1:]
        assert not r["is_error"] and r["stop_reason"] == "end_turn"
        assert r["result"] == f"Added f{n}." and r["files_modified"] == ["calc.py"]
        assert f"+def f{n}():" in r["patch"] and r["patch"].count("+def f") == 1
        assert r["usage"]["cost_usd"] == pytest.approx(TASK_COST)
        assert r["workdir_kept"] is False and not Path(r["workdir"]).exists()  # reclaimed
        check = assert_patch_applies(s.repo, r["patch"], tmp_path)
        assert f"def f{n}():" in (check / "calc.py").read_text()
    assert len({r["session_id"] for r in results}) == 8
    assert len({r["workdir"] for r in results}) == 8
    assert tree_fingerprint(s.repo) == before
    assert git(s.repo, "status", "--porcelain") == ""
    # four ran at once: when one finished, three were still running
    running = [int(m) for m in re.findall(r"(\d+) running", done.stderr)]
    assert max(running) == 3 and len(running) == 8
    assert "batch: 8 done, 0 failed" in done.stderr
    # nothing is left of the copies and the mirror but the batch's marker and lock
    batch_dirs = list((Path(s.env["JOINER_HOME"]) / "batch").iterdir())
    assert len(batch_dirs) == 1
    assert sorted(p.name for p in batch_dirs[0].iterdir()) == [".lock", "batch.json"]
    assert "disk: removed 8 done tasks' copies, 1 repository mirror (" in done.stderr
    listed = json.loads(subprocess.run([*JOINER, "sessions", "list", "--all", "--json"],
                                       env=s.env, capture_output=True, text=True,
                                       check=True).stdout)
    assert {x["id"] for x in listed} == {r["session_id"] for r in results}
    assert {x["workspace"] for x in listed} == {r["workdir"] for r in results}

    again = s.batch("--concurrency", "4")  # everything is done: nothing runs
    assert "8 of 8 tasks already in" in again.stderr
    assert len(read_results(s.out)) == 8 and sum(s.requests_per_task().values()) == 16


def test_killed_half_way_then_run_again_finishes_the_rest_without_redoing_any(
        setup: Any) -> None:
    s = setup(8, stall_s=1.0)
    batch = s.start("--concurrency", "2")
    s.wait_for_lines(3)
    batch.kill()  # kill -9: no chance to clean up
    batch.wait()
    wait_no_runs(Path(s.env["JOINER_HOME"]) / "batch")  # its runs died with it
    first = read_results(s.out)
    recorded = {r["id"] for r in first}
    assert 3 <= len(recorded) < 8
    asked = s.requests_per_task()

    s.batch("--concurrency", "2")
    results = read_results(s.out)
    assert sorted(r["id"] for r in results) == [f"t{i}" for i in range(1, 9)]
    assert results[: len(first)] == first  # the recorded lines are kept as they were
    after = s.requests_per_task()
    for task_id in recorded:  # nothing recorded was asked again
        assert after[task_id] == asked[task_id] == 2
    assert all(not r["is_error"] and f"def f{r['id'][1:]}" in r["patch"] for r in results)
    # the copies of the killed run's interrupted tasks and of every done task are gone
    (batch_dir,) = (Path(s.env["JOINER_HOME"]) / "batch").iterdir()
    assert sorted(p.name for p in batch_dir.iterdir()) == [".lock", "batch.json"]


def test_ctrl_c_stops_running_tasks_records_none_of_them_and_exits_130(setup: Any) -> None:
    s = setup(6, stall_s=[0.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    batch = s.start("--concurrency", "3")
    s.wait_for_lines(1)  # t1 is done, t2 and t3 wait for their model's first answer
    batch.send_signal(signal.SIGINT)
    _, err = batch.communicate(timeout=60)
    assert batch.returncode == 130, err
    assert "interrupted" in err and "run the same command again" in err
    wait_no_runs(Path(s.env["JOINER_HOME"]) / "batch")
    recorded = read_results(s.out)
    assert all(not r["is_error"] for r in recorded)  # no interrupted task was recorded
    listed = json.loads(subprocess.run([*JOINER, "sessions", "list", "--all", "--json"],
                                       env=s.env, capture_output=True, text=True,
                                       check=True).stdout)
    statuses = sorted(x["status"] for x in listed)
    assert [r["id"] for r in recorded] == ["t1"]
    assert statuses == ["done", "interrupted", "interrupted"]  # no new task started
    s.batch("--concurrency", "3")
    assert sorted(r["id"] for r in read_results(s.out)) == [f"t{i}" for i in range(1, 7)]


def test_malformed_lines_are_reported_with_their_number_and_the_rest_run(setup: Any) -> None:
    s = setup(3)
    write_tasks(s.tasks_file, s.tasks[:2], ("{broken", json.dumps({"id": "t9", "repo": "repo"})))
    with s.tasks_file.open("a") as f:
        f.write(json.dumps(s.tasks[2]) + "\n")
    done = s.batch(code=1)
    assert "tasks.jsonl:3: not JSON" in done.stderr
    assert 'tasks.jsonl:4: "prompt" is missing (not run)' in done.stderr
    assert sorted(r["id"] for r in read_results(s.out)) == ["t1", "t2", "t3"]
    assert "2 malformed lines" in done.stderr


def test_the_batch_budget_stops_starting_new_tasks(setup: Any) -> None:
    s = setup(8)
    done = s.batch("--concurrency", "1", "--max-budget-usd", "0.01", code=1)
    assert len(read_results(s.out)) == 2  # 1 task: $0.00735 < $0.01; 2 tasks: $0.0147
    assert "batch budget $0.01 reached ($0.0147 spent): 6 tasks not started" in done.stderr
    again = s.batch("--concurrency", "1", "--max-budget-usd", "0.01", code=1)
    assert len(read_results(s.out)) == 2 and "6 tasks not started" in again.stderr
    s.batch("--concurrency", "1", "--max-budget-usd", "1")
    assert len(read_results(s.out)) == 8


def test_failing_tasks_are_recorded_with_their_error(setup: Any, tmp_path: Path) -> None:
    s = setup(1)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "calc.py").write_text("    return a - b\n")
    write_tasks(s.tasks_file, [
        {"id": "missing", "repo": "nowhere", "prompt": "p"},
        {"id": "no-script", "repo": "repo", "prompt": "a prompt the server has no answer for"},
        {"id": "bad-model", "repo": "repo", "prompt": "p", "model": "nope/model"},
        {"id": "turns", "repo": "repo", "prompt": s.tasks[0]["prompt"], "max_turns": 1},
        {"id": "plain", "repo": "plain", "prompt": s.tasks[0]["prompt"]},
    ])
    before = tree_fingerprint(plain)
    done = s.batch("--concurrency", "2", code=1)
    by_id = {r["id"]: r for r in read_results(s.out)}
    assert by_id["missing"]["is_error"] and "is not a directory" in by_id["missing"]["result"]
    assert by_id["missing"]["workdir"] is None and by_id["missing"]["patch"] == ""
    assert by_id["no-script"]["stop_reason"] == "error" and by_id["no-script"]["session_id"]
    assert "unknown provider 'nope'" in by_id["bad-model"]["result"]
    assert by_id["bad-model"]["stop_reason"] == "error"
    assert by_id["turns"]["stop_reason"] == "max_turns" and "+def f1" in by_id["turns"]["patch"]
    assert not by_id["plain"]["is_error"] and "+def f1():" in by_id["plain"]["patch"]
    assert tree_fingerprint(plain) == before
    assert "batch: 1 done, 4 failed" in done.stderr


def test_usage_mistakes_are_one_line_and_exit_2(setup: Any) -> None:
    s = setup(1)
    cases = [
        (["batch", "missing.jsonl"], "no tasks file missing.jsonl"),
        (["batch", str(s.tasks_file), "--concurrency", "0"], "--concurrency"),
        (["batch", str(s.tasks_file), "--max-budget-usd", "lots"], "not a number"),
        (["batch", "--ray", str(s.tasks_file)], "put --ray after TASKS.jsonl"),
        (["batch"], "give the tasks file"),
        (["batch", str(s.tasks_file), "--output", "/proc/nope/out.jsonl"],
         "cannot write the results to /proc/nope/out.jsonl"),
    ]
    for args, message in cases:
        done = subprocess.run([*JOINER, *args], cwd=s.root, env=s.env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_without_ray_installed_ray_mode_says_how_to_install_it(setup: Any) -> None:
    s = setup(1)
    code = ("import sys; sys.modules['ray'] = None; from joiner.cli import main; "
            f"sys.argv = ['joiner', 'batch', {str(s.tasks_file)!r}, '--ray']; main()")
    done = subprocess.run([sys.executable, "-c", code], env=s.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == ("joiner: --ray needs Ray, which is not installed; install it with: "
                           "pip install 'joiner[ray]'\n")
    assert not s.out.exists()
