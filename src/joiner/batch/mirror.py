"""Joiner's own copy of a repository's objects, which the tasks' copies borrow from.

One per source repository and HEAD commit, under the batch's data dir:
``git clone --mirror --no-hardlinks`` copies the object files (a file copy, no
repacking; hard links would share the files, and their modification times, with the
user's repository). Tasks on the same repository start at once: a lock file makes one
of them copy while the others wait, and the copy appears under its final name only
when complete, so an interrupted copy is never used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joiner.batch.git import WorkdirError, git


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (``flock``; elsewhere a directory made atomically)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        while True:
            try:
                os.mkdir(path.with_suffix(".lockdir"))
                break
            except FileExistsError:
                time.sleep(0.05)
        try:
            yield
        finally:
            os.rmdir(path.with_suffix(".lockdir"))
        return
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def mirror_of(top: Path, commit: str, mirrors: Path) -> Path:
    """The bare copy of ``top``'s objects holding ``commit`` (made if needed)."""
    key = hashlib.sha256(str(top.resolve()).encode()).hexdigest()[:12]
    mirror = mirrors / f"{top.name[:40]}-{key}-{commit[:12]}.git"
    if (mirror / "HEAD").exists():
        return mirror
    mirrors.mkdir(parents=True, exist_ok=True)
    with _locked(mirrors / f"{key}.lock"):
        if (mirror / "HEAD").exists():  # another task made it meanwhile
            return mirror
        partial = mirrors / f".partial-{uuid.uuid4().hex[:8]}"
        try:
            git(["clone", "--quiet", "--mirror", "--no-hardlinks", "--", str(top), str(partial)],
                mirrors)
            if git(["cat-file", "-e", f"{commit}^{{commit}}"], partial, check=False).returncode:
                raise WorkdirError(f"commit {commit[:12]} of {top} is missing from its copy "
                                   "(the repository changed during the copy?); run again")
            partial.rename(mirror)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return mirror
