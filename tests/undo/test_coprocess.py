"""The long-lived git processes of a shadow repository: many requests, git's own ignore rules,
and a process that died started again."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from joiner.workspace.coprocess import CatFile, IgnoreCheck
from joiner.workspace.gitobjects import ShadowError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("*.log\n!keep.log\nbuild/\n")
    env = {**os.environ, "GIT_DIR": str(tmp_path / ".git"), "GIT_WORK_TREE": str(tmp_path)}
    return tmp_path, env


def test_ignore_check_answers_as_git_for_thousands_of_long_paths(
        repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    check = IgnoreCheck("git", env, root)
    try:
        deep = ("d" * 200 + "/") * 3  # answers larger than a pipe holds, in all
        paths = [f"{deep}f{i}.{'log' if i % 2 else 'txt'}".encode() for i in range(3000)]
        assert check.ignored(paths) == set(paths[1::2])
        assert check.ignored([b"keep.log", b"x.log", b"build/a.o", b"src/a.py"]) == {
            b"x.log", b"build/a.o"}
    finally:
        check.close()


def test_cat_file_reads_many_objects_and_survives_its_process_dying(
        repo: tuple[Path, dict[str, str]]) -> None:
    root, env = repo
    blobs = {os.urandom(70_000) for _ in range(5)}
    shas = {subprocess.run(["git", "hash-object", "-w", "--stdin"], input=data, env=env,
                           capture_output=True, check=True).stdout.decode().strip(): data
            for data in blobs}
    cat = CatFile("git", {k: v for k, v in env.items() if k != "GIT_WORK_TREE"}, root)
    try:
        assert {s: d for s, (_k, d) in cat.read(list(shas) * 40).items()} == shas
        assert cat._process is not None
        cat._process.kill()
        cat._process.wait()
        assert {s: d for s, (_k, d) in cat.read(list(shas)).items()} == shas
        with pytest.raises(ShadowError, match="lost the object"):
            cat.read(["0" * 40])
    finally:
        cat.close()
