"""Giving back the disk a batch used: a task's copy once its result is on file.

The policy (``results.keeps_copy``): a task that is done has its copy removed as soon as
its result line, patch included, is durable in the results file (``ResultsFile.append``
fsyncs it first). A resume never needs a copy: it skips every recorded id and makes a
fresh copy for any other task. A failed task's copy (or one whose patch could not be
taken) is kept for inspection; its path is the result's ``workdir``. What a ``kill -9``
leaves between the line and the removal is swept at the next run (``leftovers.py``).

A copy is first renamed aside (``NAME.stale-XXXX``, atomic: its name is free at once and
a half-removed copy is never mistaken for a task's), then deleted in a background thread,
so the batch goes on starting tasks meanwhile. The copy's shadow repository (the
checkpoints of a ``run_shell`` in it, under ``DATA_DIR/shadow``) goes with it: it serves
only that workspace, which no longer exists.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

STALE_MARK = ".stale-"


def is_stale(name: str) -> bool:
    return STALE_MARK in name


def tree_bytes(path: Path) -> int:
    """Disk used under ``path`` (allocated blocks, each hard-linked file once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (*dirnames, *filenames):
            try:
                info = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def set_aside(path: Path) -> Path | None:
    """Rename ``path`` to a stale name beside it; None if there is nothing there."""
    stale = path.with_name(f"{path.name}{STALE_MARK}{uuid.uuid4().hex[:8]}")
    try:
        path.rename(stale)
    except FileNotFoundError:
        return None
    return stale


def forget_shadow(workspace: Path) -> None:
    """Remove the shadow repository of a removed copy (unless a session still holds it)."""
    from joiner.config import data_dir
    from joiner.workspace.shadow_prune import remove_shadow

    try:
        remove_shadow(data_dir(), workspace)
    except OSError:
        pass


def remove_copy(root: Path) -> None:
    """Remove a task's copy and its shadow repository now (in this thread); never raises
    (a copy that cannot be renamed stays for the next sweep)."""
    forget_shadow(root)
    try:
        stale = set_aside(root)
    except OSError:
        return
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)


class Reclaimer:
    """Removes copies in a background thread: ``discard(root)``, then ``close()`` waits.

    ``removed`` counts the copies given; ``freed`` the bytes they used (measured before
    removal, in the same thread)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()
        self.removed = 0
        self.freed = 0

    def discard(self, root: Path) -> None:
        """Never raises (it runs as a result is recorded): a copy that cannot be renamed
        stays, and the next run's sweep tries again."""
        try:
            stale = set_aside(root)
        except OSError:
            return
        if stale is None:
            return
        self.removed += 1
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="joiner-reclaim")
        self._pending.append(self._pool.submit(self._remove, root, stale))

    def _remove(self, root: Path, stale: Path) -> None:
        size = tree_bytes(stale)
        forget_shadow(root)
        shutil.rmtree(stale, ignore_errors=True)
        with self._lock:
            self.freed += size

    def close(self) -> None:
        """Wait for the removals given so far."""
        for future in self._pending:
            future.exception()  # errors are ignored: the next run sweeps what is left
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
