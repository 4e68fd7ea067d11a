"""Helpers of the batch tests: repositories, fingerprints, tasks files, the environment."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

GIT_ENV = {"GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@example.com",
           "GIT_COMMITTER_NAME": "u", "GIT_COMMITTER_EMAIL": "u@example.com"}
PRICING = '[pricing."openai/loopback"]\ninput_per_mtok = 3.0\noutput_per_mtok = 15.0\n'


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    """A git repository with a few files and two commits."""
    (path / "docs").mkdir(parents=True)
    (path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (path / "README.md").write_text("# calc\n")
    (path / "docs" / "guide.md").write_text("Use add().\n")
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "first")
    (path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    git(path, "commit", "-qam", "second")
    return path


def tree_fingerprint(root: Path) -> str:
    """Every file under ``root`` (``.git`` included): path, mode, bytes and mtime."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            path = Path(dirpath, name)
            st = path.lstat()
            digest.update(f"{path.relative_to(root)}|{st.st_mode}|{st.st_mtime_ns}|".encode())
            if path.is_file() and not path.is_symlink():
                digest.update(path.read_bytes())
        digest.update(f"dir:{Path(dirpath).relative_to(root)}|{len(dirnames)}".encode())
    return digest.hexdigest()


def edit_step(path: str, old: str, new: str, tokens: int = 1000,
              stall_s: float = 0.0) -> dict[str, Any]:
    step: dict[str, Any] = {
        "tool_calls": [{"name": "edit_file",
                        "arguments": {"path": path, "old_string": old, "new_string": new}}],
        "usage": {"input_tokens": tokens, "output_tokens": 50}}
    if stall_s:
        step["stall_s"] = stall_s
    return step


def task_scripts(count: int, stall_s: float | list[float] = 0.0, prefix: str = "task"
                 ) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
    """``count`` tasks on one repository, each adding its own function to calc.py; the
    first answer of task i comes after ``stall_s`` (or ``stall_s[i - 1]``) seconds."""
    scripts: dict[str, list[Any]] = {}
    tasks = []
    for i in range(1, count + 1):
        prompt = f"{prefix} {i}: add a function f{i} to calc.py"
        scripts[prompt] = [
            edit_step("calc.py", "    return a - b\n",
                      f"    return a - b\n\n\ndef f{i}():\n    return {i}\n",
                      stall_s=stall_s[i - 1] if isinstance(stall_s, list) else stall_s),
            {"text": f"Added f{i}.", "usage": {"input_tokens": 1100, "output_tokens": 20}},
        ]
        tasks.append({"id": f"t{i}", "repo": "repo", "prompt": prompt})
    return scripts, tasks


def write_tasks(path: Path, tasks: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()
                ) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks) + "".join(
        line + "\n" for line in extra_lines))
    return path


def batch_env(home: Path, base_url: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('model = "openai/loopback"\n' + PRICING)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("JOINER_", "OPENAI_", "ANTHROPIC_", "RAY_ADDRESS"))}
    return {**base, "JOINER_HOME": str(home), "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "test-key"}


def read_results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def engine_missing(what: str) -> None:
    """Skip when an engine is not installed, except in CI (``CI`` set): there, fail."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must run these tests (.ci/run installs it)", pytrace=False)
    pytest.skip(what)


def runs_under(directory: Path) -> list[int]:
    """Processes whose working directory is inside ``directory`` (the tasks' runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(Path(os.readlink(entry / "cwd"))).startswith(str(directory)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_no_runs(directory: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while runs_under(directory) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runs_under(directory) == [], "a task's run outlived the batch"
