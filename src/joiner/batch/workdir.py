"""Isolated copies of a task's repository, and the patch of what the task changed.

A git repository is copied with ``git clone --shared --no-checkout`` and a detached
checkout of the source's HEAD commit. The user's repository is only read: unlike
``git worktree add`` (which writes an entry under the repository's ``.git/worktrees``
and locks the checked-out branch), a shared clone writes nothing there. It borrows the
source's object store through ``.git/objects/info/alternates``, so nothing is copied
and it is as quick as a worktree for a large history. Its ``origin`` remote is removed,
so nothing a task runs can push into the user's repository. (The clone needs the
objects of that HEAD commit to stay in the source: pruning them by rewriting history
there breaks old workdirs, not their recorded patches.)

A directory outside any git repository is copied (symlinks kept as links, sockets and
pipes skipped) and a baseline commit is made in the copy, so both kinds have their patch
computed the same way: ``git add -A`` then ``git diff --cached --binary HEAD`` (new,
deleted, renamed and binary files; ignored files are not part of it).

Uncommitted changes in the user's repository are not part of a task's copy: a task
starts from the repository's HEAD, as the issue asks.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_S = 600.0
# Settings that keep patches plain and applicable whatever the user's git config says.
_GIT_CONFIG = ("-c", "core.quotepath=false", "-c", "diff.noprefix=false",
               "-c", "diff.mnemonicPrefix=false", "-c", "core.hooksPath=/dev/null",
               "-c", "commit.gpgSign=false", "-c", "user.name=joiner batch",
               "-c", "user.email=batch@joiner.invalid", "-c", "advice.detachedHead=false")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class WorkdirError(Exception):
    """A task's copy cannot be made; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Workdir:
    root: Path  # the copy (a git work tree)
    cwd: Path  # where the task runs: the repo's place inside the copy
    source_commit: str | None  # None for a copied plain directory


def git(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        env.pop(name, None)
    try:
        done = subprocess.run(["git", *_GIT_CONFIG, *args], cwd=cwd, env=env,
                              capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise WorkdirError("git is not installed; batch runs need it to copy repositories "
                           "and compute patches") from None
    except subprocess.TimeoutExpired:
        raise WorkdirError(f"git {args[0]} took over {GIT_TIMEOUT_S:.0f}s in {cwd}") from None
    if check and done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise WorkdirError(f"git {args[0]} failed in {cwd}: "
                           f"{reason[-1] if reason else f'exit {done.returncode}'}")
    return done


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
    if not dest.exists() and not dest.is_symlink():
        return
    stale = dest.with_name(f"{dest.name}.stale-{uuid.uuid4().hex[:8]}")
    dest.rename(stale)
    shutil.rmtree(stale, ignore_errors=True)


def prepare_workdir(repo: Path, dest: Path) -> Workdir:
    """A fresh copy of ``repo`` at ``dest`` (any earlier copy there is replaced)."""
    if not repo.is_dir():
        raise WorkdirError(f"repo {repo} is not a directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _clear(dest)
    top = _git_top(repo)
    try:
        if top is not None:
            return _clone(repo, top, dest)
        return _copy(repo, dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _clone(repo: Path, top: Path, dest: Path) -> Workdir:
    head = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top, check=False)
    if head.returncode != 0:
        raise WorkdirError(f"the git repository {top} has no commit yet; commit first "
                           "(a task starts from the repository's HEAD)")
    commit = head.stdout.decode().strip()
    git(["clone", "--quiet", "--shared", "--no-checkout", "--", str(top), str(dest)], dest.parent)
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
    return Workdir(dest, dest, None)


def capture_patch(workdir: Workdir) -> str:
    """The task's changes to its copy as a git patch (empty when it changed nothing)."""
    git(["add", "-A"], workdir.root)
    done = git(["diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "--no-textconv",
                "--find-renames", "HEAD"], workdir.root)
    return done.stdout.decode("utf-8", errors="replace")
