"""What a batch leaves under ``DATA_DIR/batch``, and when it goes.

``DATA_DIR/batch/<key>/`` (one per results file) holds the tasks' copies, ``.mirrors/``
(Joiner's copies of the repositories' objects, which the copies borrow), ``batch.json``
(which results file the directory serves; its modification time is the batch's last run)
and ``.lock`` (held while a batch runs on it: a second ``joiner batch`` with the same
results file would run the same tasks twice, so it is refused).

When a batch runs it sweeps, before starting any task:

- its own directory: every copy but those of recorded failed tasks (a copy of a task that
  is not recorded is never reused: a re-run makes a fresh one), and what an interrupted
  removal or mirror copy left (``*.stale-*``, ``.partial-*``);
- other batches' directories that no batch is running on: the whole directory once its
  results file is gone (the user deleted it: the batch is forgotten) or once it has not run
  for ``RETENTION_DAYS`` (failed copies are kept that long for inspection); otherwise the
  copies a ``kill -9`` left (of tasks recorded as done, or not recorded). A directory made
  before ``batch.json`` existed goes after ``RETENTION_DAYS`` without change.

When a batch ends with every task recorded, the mirrors go, except those a kept copy still
borrows objects from (it would no longer work without them); they go with the last such
copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from joiner.batch.reclaim import (
    STALE_MARK,
    forget_shadow,
    is_stale,
    remove_copy,
    set_aside,
    tree_bytes,
)
from joiner.batch.results import read_recorded
from joiner.batch.workdir import task_dir_name

RETENTION_DAYS = 14
MARKER = "batch.json"
LOCK = ".lock"
MIRRORS = ".mirrors"
_OWN = {MARKER, LOCK, MIRRORS}

try:
    import fcntl
except ImportError:  # not POSIX: no lock (one batch per results file is then the user's affair)
    fcntl = None  # type: ignore[assignment]


class BatchBusy(Exception):
    """Another ``joiner batch`` is running with the same results file."""


class BatchDirUnusable(Exception):
    """The batch directory cannot be made or marked; the message says why."""


@dataclass(slots=True)
class Swept:
    batches: int = 0  # other batches' directories removed whole
    copies: int = 0  # copies removed (this batch's and others')
    mirrors: int = 0
    freed: int = 0  # bytes

    def add(self, other: Swept) -> None:
        self.batches += other.batches
        self.copies += other.copies
        self.mirrors += other.mirrors
        self.freed += other.freed


@contextlib.contextmanager
def holding(batch_dir: Path, output: Path, tasks_path: Path) -> Iterator[None]:
    """Hold ``batch_dir``'s lock for a run and mark the directory as this batch's (again at
    the end: its time is the last run). Raises ``BatchBusy`` or ``BatchDirUnusable``."""
    try:
        batch_dir.mkdir(parents=True, exist_ok=True)
        (batch_dir / LOCK).touch()
    except OSError as err:
        raise BatchDirUnusable(f"cannot use {batch_dir} for the tasks' copies: "
                               f"{err.strerror or err}") from None
    with _try_lock(batch_dir) as held:
        if not held:
            raise BatchBusy(f"another joiner batch is running with the results file {output}; "
                            "wait for it to end (or give another --output)")
        try:
            _mark(batch_dir, output, tasks_path)
        except OSError as err:
            raise BatchDirUnusable(f"cannot write in {batch_dir}: {err.strerror or err}") \
                from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                _mark(batch_dir, output, tasks_path)


@contextlib.contextmanager
def _try_lock(batch_dir: Path) -> Iterator[bool]:
    """An exclusive lock on the batch directory, taken without waiting: yields whether it
    was taken (a ``kill -9``-ed batch's lock is released by the kernel)."""
    handle: IO[bytes] | None = None
    try:
        handle = open(batch_dir / LOCK, "a+b")  # noqa: SIM115 (held across the yield)
    except OSError:
        yield False
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
        yield True
    finally:
        handle.close()


def _mark(batch_dir: Path, output: Path, tasks_path: Path) -> None:
    data = {"output": str(output.absolute()), "tasks": str(tasks_path.absolute())}
    temp = batch_dir / f"{MARKER}.tmp"
    temp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(temp, batch_dir / MARKER)


def _marker(batch_dir: Path) -> dict[str, str] | None:
    try:
        data = json.loads((batch_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("output"), str) else None


def _last_run(batch_dir: Path) -> float:
    for path in (batch_dir / MARKER, batch_dir):
        with contextlib.suppress(OSError):
            return path.stat().st_mtime
    return 0.0


# -- one batch's directory ---------------------------------------------------------------------
def tidy(batch_dir: Path, kept_ids: set[str]) -> Swept:
    """Remove every copy in ``batch_dir`` but those of ``kept_ids``, and stale pieces. Only
    while no task of this batch runs (its lock held, before or after the tasks)."""
    swept = Swept()
    keep = {task_dir_name(task_id) for task_id in kept_ids}
    try:
        entries = list(os.scandir(batch_dir))
    except OSError:
        return swept
    for entry in entries:
        if entry.name in _OWN or entry.name.endswith(".tmp") or entry.name in keep:
            continue
        path = Path(entry.path)
        size = tree_bytes(path) if entry.is_dir(follow_symlinks=False) else 0
        if is_stale(entry.name) or not entry.is_dir(follow_symlinks=False):
            if is_stale(entry.name):  # a removal cut short, maybe before its shadow's
                forget_shadow(path.with_name(entry.name.split(STALE_MARK)[0]))
            _remove(path)
        else:
            remove_copy(path)
            swept.copies += 1
        swept.freed += size
    mirrors = batch_dir / MIRRORS
    with contextlib.suppress(OSError):
        for entry in os.scandir(mirrors):
            if entry.name.startswith(".partial-") or is_stale(entry.name):
                swept.freed += tree_bytes(Path(entry.path))
                _remove(Path(entry.path))
    return swept


def borrowed_mirrors(batch_dir: Path) -> set[Path]:
    """The mirrors the copies in ``batch_dir`` borrow objects from (``alternates``)."""
    used: set[Path] = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir(batch_dir):
            if entry.name in _OWN or is_stale(entry.name):
                continue
            alternates = Path(entry.path) / ".git" / "objects" / "info" / "alternates"
            with contextlib.suppress(OSError):
                for line in alternates.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        used.add(Path(line.strip()).parent.resolve())
    return used


def drop_mirrors(batch_dir: Path) -> Swept:
    """Remove the mirrors no copy in ``batch_dir`` borrows from (the batch is complete)."""
    swept = Swept()
    mirrors = batch_dir / MIRRORS
    if not mirrors.is_dir():
        return swept
    used = borrowed_mirrors(batch_dir)
    for entry in list(os.scandir(mirrors)):
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) and path.resolve() in used:
            continue
        if entry.is_dir(follow_symlinks=False):
            swept.mirrors += 1
            swept.freed += tree_bytes(path)
        _remove(path)
    with contextlib.suppress(OSError):
        mirrors.rmdir()  # empty now: no copy borrows anything
    return swept


def _remove(path: Path) -> None:
    """Remove a file or tree; never raises (what stays is swept by the next run)."""
    if path.is_dir() and not path.is_symlink():
        try:
            stale = path if is_stale(path.name) else set_aside(path)
        except OSError:
            return
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


# -- other batches -----------------------------------------------------------------------------
def sweep_others(root: Path, own: Path, now: float | None = None) -> Swept:
    """Sweep the batch directories under ``root`` (``DATA_DIR/batch``) but ``own``."""
    now = time.time() if now is None else now
    swept = Swept()
    try:
        entries = [e for e in os.scandir(root) if Path(e.path) != own]
    except OSError:
        return swept
    for entry in entries:
        path = Path(entry.path)
        if is_stale(entry.name):  # a batch directory whose removal was cut short
            swept.freed += tree_bytes(path)
            _remove(path)
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        last_run = _last_run(path)  # before the lock file may touch the directory
        with _try_lock(path) as held:
            if held:
                swept.add(_sweep_one(path, now - last_run))
    return swept


def _sweep_one(batch_dir: Path, idle_s: float) -> Swept:
    marker = _marker(batch_dir)
    old = idle_s > RETENTION_DAYS * 86400
    if old or (marker is not None and not Path(marker["output"]).exists()):
        swept = Swept(batches=1, freed=tree_bytes(batch_dir))
        with contextlib.suppress(OSError):  # another batch's leftovers never fail this one
            for entry in list(os.scandir(batch_dir)):
                if entry.name not in _OWN and not is_stale(entry.name) \
                        and entry.is_dir(follow_symlinks=False):
                    remove_copy(Path(entry.path))  # its shadow repository too
        _remove(batch_dir)
        return swept
    if marker is None:
        return Swept()  # made before batch.json: left alone until it is old
    try:
        if not set(os.listdir(batch_dir)) - {MARKER, LOCK}:
            return Swept()  # nothing left to sweep: its results file is not read (it may be big)
    except OSError:
        return Swept()
    recorded = read_recorded(Path(marker["output"]))
    swept = tidy(batch_dir, recorded.kept)
    if recorded.ids and (batch_dir / MIRRORS).is_dir() \
            and not (set(_task_ids(marker)) - recorded.ids):
        swept.add(drop_mirrors(batch_dir))
    return swept


def _task_ids(marker: dict[str, str]) -> list[str]:
    """The ids of the marker's tasks file (empty if it cannot be read: mirrors then stay)."""
    from joiner.batch.tasks import read_tasks

    try:
        found = read_tasks(Path(marker.get("tasks", "")))
    except (OSError, UnicodeDecodeError):
        return ["?"]  # unknown: treated as not complete
    return [task.id for task in found.tasks] or ["?"]
