"""A task's copy of its repository: isolated, at HEAD, the user's repository untouched,
and a patch that applies to the repository."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from batch_kit import git, make_repo, tree_fingerprint

from joiner.batch.workdir import WorkdirError, capture_patch, prepare_workdir, task_dir_name


def edit_everything(root: Path) -> None:
    (root / "calc.py").write_text("def add(a, b):\n    return a + b  # fixed\n")
    (root / "new dir").mkdir()
    (root / "new dir" / "ñew file.txt").write_text("créé\n")
    (root / "README.md").unlink()
    (root / "logo.bin").write_bytes(bytes(range(256)) * 4)
    (root / "docs" / "guide.md").rename(root / "docs" / "manual.md")


def test_a_git_repository_is_copied_at_head_and_left_untouched(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "calc.py").write_text("uncommitted change\n")  # not part of the task's copy
    (repo / "scratch.txt").write_text("untracked\n")
    before = tree_fingerprint(repo)
    head = git(repo, "rev-parse", "HEAD")

    work = prepare_workdir(repo, tmp_path / "batch" / "t1")
    assert work.root == work.cwd == tmp_path / "batch" / "t1"
    assert work.base == head and not work.copied
    assert (work.root / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert not (work.root / "scratch.txt").exists()
    assert git(work.root, "remote") == ""  # nothing can be pushed back into the user's repo
    assert git(work.root, "rev-parse", "HEAD") == head

    edit_everything(work.root)
    patch = capture_patch(work)
    assert "diff --git a/calc.py b/calc.py" in patch and "+new dir/ñew file.txt" not in patch
    assert "new dir/ñew file.txt" in patch and "deleted file mode" in patch
    assert "GIT binary patch" in patch and "rename from docs/guide.md" in patch
    assert tree_fingerprint(repo) == before  # files, .git included, byte for byte

    # the patch applies to the user's repository at HEAD (checked in another clone)
    check = tmp_path / "check"
    subprocess.run(["git", "clone", "-q", str(repo), str(check)], check=True)
    (tmp_path / "p.patch").write_text(patch)
    subprocess.run(["git", "-C", str(check), "apply", "--index", str(tmp_path / "p.patch")],
                   check=True)
    assert (check / "new dir" / "ñew file.txt").read_text() == "créé\n"
    assert (check / "logo.bin").read_bytes() == bytes(range(256)) * 4


def test_no_change_is_an_empty_patch(tmp_path: Path) -> None:
    work = prepare_workdir(make_repo(tmp_path / "repo"), tmp_path / "w")
    assert capture_patch(work) == ""


def test_a_subdirectory_of_a_repository_runs_in_its_place(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    work = prepare_workdir(repo / "docs", tmp_path / "w")
    assert work.root == tmp_path / "w" and work.cwd == tmp_path / "w" / "docs"
    (work.cwd / "guide.md").write_text("changed\n")
    assert "diff --git a/docs/guide.md b/docs/guide.md" in capture_patch(work)


def test_a_plain_directory_is_copied_with_a_baseline(tmp_path: Path) -> None:
    src = tmp_path / "plain"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("x = 1\n")
    (src / "link").symlink_to("pkg/mod.py")
    os.mkfifo(src / "pipe")  # would block a naive copy
    before = tree_fingerprint(src)
    work = prepare_workdir(src, tmp_path / "w")
    assert work.copied and work.cwd == tmp_path / "w"
    assert os.readlink(work.root / "link") == "pkg/mod.py"
    assert not (work.root / "pipe").exists()
    assert (work.root / ".git").is_dir()  # the copy is its own workspace root
    assert capture_patch(work) == ""
    (work.root / "pkg" / "mod.py").write_text("x = 2\n")
    patch = capture_patch(work)
    assert "-x = 1\n+x = 2" in patch
    assert tree_fingerprint(src) == before and not (src / ".git").exists()


def test_an_earlier_copy_is_replaced(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    dest = tmp_path / "w"
    first = prepare_workdir(repo, dest)
    (first.root / "leftover.txt").write_text("from an interrupted attempt\n")
    second = prepare_workdir(repo, dest)
    assert not (second.root / "leftover.txt").exists()
    assert capture_patch(second) == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("w")] == ["w"]


def test_unusable_repositories_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkdirError, match="is not a directory"):
        prepare_workdir(tmp_path / "missing", tmp_path / "w1")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(WorkdirError, match="has no commit yet"):
        prepare_workdir(empty, tmp_path / "w2")
    repo = make_repo(tmp_path / "repo")
    (repo / "untracked_dir").mkdir()
    (repo / "untracked_dir" / "f").write_text("x")
    with pytest.raises(WorkdirError, match="not in its HEAD commit"):
        prepare_workdir(repo / "untracked_dir", tmp_path / "w3")
    assert not (tmp_path / "w3").exists()


def test_task_dir_names_are_safe_and_distinct() -> None:
    names = {task_dir_name(i) for i in ("a/b", "a_b", "../../etc", "", "x" * 300, "ü")}
    assert len(names) == 6
    for name in names:
        assert "/" not in name and not name.startswith(".") and len(name) <= 69
    assert task_dir_name("a/b") == "a_b-" + hashlib.sha256(b"a/b").hexdigest()[:8]


def test_changes_the_task_committed_are_in_its_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    before = tree_fingerprint(repo)
    work = prepare_workdir(repo, tmp_path / "w")
    (work.root / "calc.py").write_text("committed by the agent\n")
    git(work.root, "commit", "-qam", "agent commit")
    (work.root / "later.txt").write_text("not committed\n")
    patch = capture_patch(work)
    assert "+committed by the agent" in patch and "+not committed" in patch
    assert tree_fingerprint(repo) == before


def test_tasks_on_one_repository_share_one_copy_of_its_objects(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    repo = make_repo(tmp_path / "repo")
    batch = tmp_path / "batch"
    with ThreadPoolExecutor(4) as pool:
        works = list(pool.map(lambda i: prepare_workdir(repo, batch / f"t{i}"), range(6)))
    mirrors = [p for p in (batch / ".mirrors").iterdir() if p.suffix == ".git"]
    assert len(mirrors) == 1 and not list((batch / ".mirrors").glob(".partial-*"))
    for work in works:
        alternates = (work.root / ".git" / "objects" / "info" / "alternates").read_text()
        assert alternates.strip() == str(mirrors[0] / "objects")
    (repo / "calc.py").write_text("new head\n")
    git(repo, "commit", "-qam", "third")
    later = prepare_workdir(repo, batch / "t9")
    assert (later.root / "calc.py").read_text() == "new head\n"
    assert len([p for p in (batch / ".mirrors").iterdir() if p.suffix == ".git"]) == 2
