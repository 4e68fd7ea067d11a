"""Isolated copies of a task's repository, and the patch of what the task changed.

A git repository is copied in two steps, so the user's repository is only ever read:

1. once per batch and HEAD commit, a Joiner-owned copy of its objects (``mirror.py``:
   ``git clone --mirror --no-hardlinks`` under the batch's data dir);
2. per task, ``git clone --shared --no-checkout`` of that copy and a detached checkout of
   the commit: nothing is copied (the objects are borrowed through
   ``objects/info/alternates``), so it is as quick as a worktree.

Why not ``git worktree add``: it writes an entry under the repository's
``.git/worktrees`` (and keeps the checked-out branch locked). Why not a shared clone of
the user's repository itself: git *freshens* (re-touches) an object it would write that
already exists in an alternate, so a task running ``git add`` or ``git commit`` in its copy
would change modification times inside the user's ``.git``; with the mirror in between, it
changes Joiner's copy only. The copy's ``origin`` remote is removed, so nothing a task runs
can push anywhere.

A directory outside any git repository is copied (symlinks kept as links, sockets and
pipes skipped) and a baseline commit is made in the copy. Both kinds get their patch the
same way: new files marked with ``git add --intent-to-add``, then ``git diff --binary
BASE`` of the work tree against the starting commit (new, deleted, renamed and binary
files, and commits the task made; ignored files are not part of it).

Uncommitted changes in the user's repository are not part of a task's copy: a task
starts from the repository's HEAD, as the issue asks.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from joiner.batch.git import WorkdirError, git
from joiner.batch.mirror import mirror_of
from joiner.batch.reclaim import set_aside

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Workdir:
    root: Path  # the copy (a git work tree)
    cwd: Path  # where the task runs: the repo's place inside the copy
    base: str  # the commit the task starts from (the patch is against it)
    copied: bool = False  # a plain directory copied (base is the copy's baseline commit)


def task_dir_name(task_id: str) -> str:
    """A directory name for a task id: readable, and distinct for distinct ids."""
    readable = _UNSAFE.sub("_", task_id).strip("._")[:60] or "task"
    return f"{readable}-{hashlib.sha256(task_id.encode()).hexdigest()[:8]}"


def _git_top(repo: Path) -> Path | None:
    done = git(["rev-parse", "--show-toplevel"], repo, check=False)
    if done.returncode != 0:
        return None
    return Path(done.stdout.decode().strip())


def _clear(dest: Path) -> None:
    """Move a leftover copy (an earlier, interrupted attempt) aside, then delete it.

    The rename is atomic: a process still running in the old copy goes on in the
    moved directory and cannot touch the new one."""
    stale = set_aside(dest)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)


def prepare_workdir(repo: Path, dest: Path, mirrors: Path | None = None) -> Workdir:
    """A fresh copy of ``repo`` at ``dest`` (any earlier copy there is replaced).

    ``mirrors``: where the copies of repositories' objects are kept (default: beside
    ``dest``, in ``.mirrors``)."""
    if not repo.is_dir():
        raise WorkdirError(f"repo {repo} is not a directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _clear(dest)
    top = _git_top(repo)
    try:
        if top is not None:
            return _clone(repo, top, dest, mirrors or dest.parent / ".mirrors")
        return _copy(repo, dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _clone(repo: Path, top: Path, dest: Path, mirrors: Path) -> Workdir:
    head = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top, check=False)
    if head.returncode != 0:
        raise WorkdirError(f"the git repository {top} has no commit yet; commit first "
                           "(a task starts from the repository's HEAD)")
    commit = head.stdout.decode().strip()
    mirror = mirror_of(top, commit, mirrors)
    git(["clone", "--quiet", "--shared", "--no-checkout", "--", str(mirror), str(dest)],
        dest.parent)
    git(["remote", "remove", "origin"], dest)
    git(["checkout", "--quiet", "--detach", commit], dest)
    inside = repo.resolve().relative_to(top.resolve())
    if not (dest / inside).is_dir():
        raise WorkdirError(f"{repo} is inside the git repository {top} but not in its HEAD "
                           "commit; commit it there first")
    return Workdir(dest, dest / inside, commit)


def _skip_special(directory: str, names: list[str]) -> set[str]:
    """Sockets, pipes and devices cannot be copied (reading a pipe would block)."""
    skipped = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            skipped.add(name)
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped


def _copy(repo: Path, dest: Path) -> Workdir:
    try:
        shutil.copytree(repo, dest, symlinks=True, ignore=_skip_special)
    except (OSError, shutil.Error) as err:
        raise WorkdirError(f"cannot copy {repo} to {dest}: {err}") from None
    git(["init", "--quiet"], dest)
    git(["add", "-A"], dest)
    git(["commit", "--quiet", "--no-verify", "--allow-empty", "-m", "joiner batch: baseline"],
        dest)
    base = git(["rev-parse", "HEAD"], dest).stdout.decode().strip()
    return Workdir(dest, dest, base, copied=True)


def capture_patch(workdir: Workdir) -> str:
    """The task's changes to its copy as a git patch (empty when it changed nothing)."""
    untracked = git(["ls-files", "--others", "--exclude-standard", "-z"], workdir.root).stdout
    if untracked:
        git(["add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"],
            workdir.root, stdin=untracked)
    done = git(["diff", "--binary", "--no-color", "--no-ext-diff", "--no-textconv",
                "--find-renames", workdir.base, "--"], workdir.root)
    return done.stdout.decode("utf-8", errors="replace")
