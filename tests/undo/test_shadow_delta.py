"""Snapshots from the watcher's paths are the very trees a full ``git add -A`` gives.

The shadow repository redoes only the paths inotify saw change (``shadow_delta``), writing
git objects itself; each test compares with git's own answer for the same workspace (a full
``git add -A`` into a separate index), and ``git fsck`` checks the objects written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joiner.workspace.shadow import ShadowError, ShadowRepo

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not sys.platform.startswith(
    "linux"), reason="needs git and inotify")

FILES = ["a.txt", "b.py", "d/c.txt", "d/e/f.txt", "g/h.txt", "x.log", "build/o.o", "d/y.log",
         "d/build.txt", "run.sh"]
DIRS = ["d", "d/e", "g", "build", "new/deeper"]


class Shadow:
    """A shadow repository of ``root`` that counts its full scans."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.repo = ShadowRepo(root, git_dir)
        self.full_scans = 0
        scan = self.repo._full_scan

        def counted() -> str:
            self.full_scans += 1
            return scan()

        self.repo._full_scan = counted  # type: ignore[method-assign]

    def reference(self, *pathspecs: str) -> str:
        """The tree git itself makes of the workspace now (a fresh index of its own)."""
        index = self.repo.git_dir / "reference-index"
        index.unlink(missing_ok=True)
        env = {**self.repo.env, "GIT_INDEX_FILE": str(index)}
        git = ["git", "-c", "core.splitIndex=false"]
        subprocess.run([*git, "add", "-A", "--", ".", *pathspecs], env=env, cwd=self.repo.workspace,
                       check=True, capture_output=True)
        return subprocess.run([*git, "write-tree"], env=env, cwd=self.repo.workspace,
                              check=True, capture_output=True, text=True).stdout.strip()

    def fsck(self) -> None:
        done = subprocess.run(["git", "fsck", "--strict", "--no-dangling"],
                              env=self.repo._bare_env(), capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".gitignore").write_text("*.log\nbuild/\n")
    (ws / "a.txt").write_text("a\n")
    (ws / "d" / "e").mkdir(parents=True)
    (ws / "d" / "c.txt").write_text("c\n")
    (ws / "d" / "e" / "f.txt").write_text("f\n")
    yield ws


def _do(root: Path, op: str, k: int, v: int) -> None:
    path = root / FILES[k % len(FILES)]
    folder = root / DIRS[k % len(DIRS)]
    if op in ("write", "append", "chmod", "link", "touch"):
        for parent in reversed(path.relative_to(root).parents[:-1]):
            if (root / parent).is_symlink() or (root / parent).is_file():
                (root / parent).unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
    if op == "write":
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_symlink():
            path.unlink()
        path.write_bytes([b"one\n", b"two\n", b"", b"\x00\xff binary"][v])
    elif op == "append" and path.is_file() and not path.is_symlink():
        with path.open("ab") as handle:
            handle.write(b"more\n")
    elif op == "chmod" and path.is_file() and not path.is_symlink():
        path.chmod(0o755 if v % 2 else 0o644)
    elif op == "link" and not path.is_dir():
        path.unlink(missing_ok=True)
        path.symlink_to(["a.txt", "../a.txt", "missing", "d"][v])
    elif op == "touch" and path.is_file():
        os.utime(path)
    elif op == "delete" and (path.is_file() or path.is_symlink()):
        path.unlink()
    elif op == "rmtree" and folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    elif op == "mkdir":
        if folder.is_file() or folder.is_symlink():
            folder.unlink()
        if not folder.parent.is_dir():
            return
        folder.mkdir(exist_ok=True)
        if v % 2:
            (folder / f"in{v}.txt").write_text(f"{v}\n")
    elif op == "file-over-dir" and folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
        folder.write_text("now a file\n")
    elif op == "rename" and path.is_file() and not path.is_symlink():
        os.replace(path, root / f"moved{v}.txt")
    elif op == "dir-to-link" and folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)  # its files are reported gone; through the link they are not
        folder.symlink_to(os.path.relpath(root / ["g", "d", "new", "build"][v],
                                          folder.parent))


OPS = st.lists(st.lists(st.tuples(
    st.sampled_from(["write", "append", "chmod", "link", "touch", "delete", "rmtree", "mkdir",
                     "file-over-dir", "rename", "dir-to-link"]),
    st.integers(0, 9), st.integers(0, 3)), min_size=1, max_size=6), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=OPS)
def test_watched_snapshots_equal_gits_own(batches: list[list[tuple[str, int, int]]],
                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("delta")
    root = base / "ws"
    root.mkdir()
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "a.txt").write_text("a\n")
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "e" / "f.txt").write_text("f\n")
    shadow = Shadow(root, base / "shadow")
    try:
        tree = shadow.repo.snapshot()
        for batch in batches:
            for op in batch:
                _do(root, *op)
            new = shadow.repo.snapshot()
            assert new == shadow.reference()
            assert shadow.repo.changes(tree, new) == [
                c for c in shadow.repo._diff_tree(tree, new)]
            tree = new
        assert shadow.full_scans == 1  # the first: all the others came from the watcher
        shadow.fsck()
        shadow.repo._watcher.broken = True  # type: ignore[union-attr]
        assert shadow.repo.snapshot() == tree  # a full scan agrees, the index given our files
    finally:
        shadow.repo.close()


def test_nothing_changed_costs_nothing_and_a_change_no_git_process(root: Path,
                                                                    tmp_path: Path) -> None:
    shadow = Shadow(root, tmp_path / "shadow")
    try:
        first = shadow.repo.snapshot()
        (root / "a.txt").write_text("warm up\n")  # starts the long-lived git processes
        second = shadow.repo.snapshot()

        def no_git(*args: object, **kwargs: object) -> bytes:
            raise AssertionError(f"a git process was run: {args}")

        shadow.repo._run = no_git  # type: ignore[method-assign]
        assert shadow.repo.unchanged_tree() == second  # what a command's "before" asks first
        assert shadow.repo.snapshot() == second
        (root / "d" / "c.txt").write_text("changed\n")
        (root / "new.txt").write_text("new\n")
        assert shadow.repo.unchanged_tree() is None
        third = shadow.repo.snapshot()
        assert shadow.repo.unchanged_tree() == third
        changes = shadow.repo.changes(second, third)
        assert [(c.path, c.before is None, c.after is None) for c in changes] == [
            ("d/c.txt", False, False), ("new.txt", True, False)]
        contents = shadow.repo.blobs([e.sha for c in changes for e in (c.before, c.after) if e])
        assert sorted(contents.values()) == [b"c\n", b"changed\n", b"new\n"]
        assert shadow.full_scans == 1 and first != second != third
    finally:
        shadow.repo.close()
    assert third == shadow.reference()


def test_a_recorded_file_stays_when_gitignore_comes_to_ignore_it(root: Path,
                                                                  tmp_path: Path) -> None:
    shadow = Shadow(root, tmp_path / "shadow")
    try:
        shadow.repo.snapshot()
        (root / "n.txt").write_text("n\n")
        recorded = shadow.repo.snapshot()
        with (root / ".gitignore").open("a") as handle:
            handle.write("n.txt\nlater.txt\n")
        (root / "later.txt").write_text("ignored from the start\n")
        after = shadow.repo.snapshot()  # a .gitignore changed: a full scan
        assert shadow.full_scans == 2
        assert [c.path for c in shadow.repo.changes(recorded, after)] == [".gitignore"]
        (root / "n.txt").write_text("n2\n")  # still recorded, as git keeps tracked files
        (root / "later2.txt").write_text("x\n")
        latest = shadow.repo.snapshot()
        assert [c.path for c in shadow.repo.changes(after, latest)] == ["later2.txt",
                                                                       "n.txt"]
        assert shadow.full_scans == 2
    finally:
        shadow.repo.close()


def test_nested_repositories_and_ignored_directories(root: Path, tmp_path: Path) -> None:
    shadow = Shadow(root, tmp_path / "shadow")
    try:
        start = shadow.repo.snapshot()
        (root / "build" / "deep").mkdir(parents=True)
        (root / "build" / "deep" / "out.o").write_text("o\n")
        (root / "d" / "e" / "trace.log").write_text("log\n")
        assert shadow.repo.snapshot() == start and shadow.full_scans == 1
        nested = root / "vendor" / "lib"
        nested.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(nested)], check=True)
        (nested / "lib.c").write_text("int x;\n")
        with_nested = shadow.repo.snapshot()
        assert shadow.full_scans == 2  # a new nested repository: git's full scan decides
        assert shadow.repo.changes(start, with_nested) == []  # its files are its git's
        (nested / "lib.c").write_text("int y;\n")
        assert shadow.repo.snapshot() == with_nested and shadow.full_scans == 2
        # git cannot add a repository with no commit: it is left out
        assert with_nested == shadow.reference(":(exclude)vendor/lib")
        (root / "vendor" / "lib" / "more.c").write_text("int z;\n")
        (root / "vendor" / "lib" / "sub").mkdir()
        (root / "vendor" / "lib" / "sub" / "deep.c").write_text("int d;\n")
        (root / "vendor" / "top.c").write_text("int t;\n")
        top = shadow.repo.snapshot()
        assert [c.path for c in shadow.repo.changes(with_nested, top)] == ["vendor/top.c"]
        assert shadow.full_scans == 2
        subprocess.run(["git", "-C", str(nested), "-c", "user.email=t@example.com", "-c",
                        "user.name=t", "commit", "-q", "--allow-empty", "-m", "one"],
                       check=True)
        shutil.rmtree(nested / ".git")  # no longer a repository: its files are ours now
        files = shadow.repo.snapshot()
        assert shadow.full_scans == 3
        assert [c.path for c in shadow.repo.changes(top, files)] == [
            "vendor/lib/lib.c", "vendor/lib/more.c", "vendor/lib/sub/deep.c"]
    finally:
        shadow.repo.close()


def test_a_lost_shadow_repository_is_an_error_not_a_wrong_answer(root: Path,
                                                                   tmp_path: Path) -> None:
    shadow = Shadow(root, tmp_path / "shadow")
    try:
        before = shadow.repo.snapshot()
        shutil.rmtree(tmp_path / "shadow")  # deleted under a running session
        (root / "a.txt").write_text("after the loss\n")
        after = shadow.repo.snapshot()  # made again by a full scan
        assert shadow.full_scans == 2 and after == shadow.reference()
        with pytest.raises(ShadowError):
            shadow.repo.changes(before, after)  # the checkpointer then stops recording
    finally:
        shadow.repo.close()


def test_nothing_is_read_through_a_directory_that_became_a_link(root: Path,
                                                                tmp_path: Path) -> None:
    (root / "g").mkdir()
    (root / "g" / "c.txt").write_text("g's own\n")  # what d/c.txt would be through a link
    shadow = Shadow(root, tmp_path / "shadow")
    try:
        start = shadow.repo.snapshot()
        shutil.rmtree(root / "d")
        (root / "d").symlink_to("g")
        after = shadow.repo.snapshot()
        assert after == shadow.reference()
        assert [(c.path, c.after and c.after.mode) for c in shadow.repo.changes(start, after)] \
            == [("d", "120000"), ("d/c.txt", None), ("d/e/f.txt", None)]
        assert shadow.full_scans == 1
    finally:
        shadow.repo.close()
