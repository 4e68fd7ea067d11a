"""Giving back the disk of shadow repositories: old snapshots' objects, and orphaned repositories.

What needs a shadow repository's objects: undo never does. A checkpoint records each changed
file's exact before/after bytes in the session's events (``changes.FileChange``, the store's
blobs); undo and redo read those alone. The objects serve only snapshots still to be taken:

- git's index (the stat cache of the next full scan): its entries and cached trees must
  exist, or the next ``write-tree`` would fail;
- a live session's last snapshot (in memory, the ``before`` of its next command, and the
  base of its watched snapshots).

So a prune keeps what the index reaches, and runs only when no session holds the repository
(each live ``ShadowRepo`` holds a shared ``flock`` on ``joiner.live``; the pruner tries an
exclusive one, without waiting, and gives up if a session is there). A session that starts
during the prune only writes or re-touches objects (git "freshens" an object it would write
that exists; so does ``ObjectWriter``), so objects newer than the moment of the check are
kept, as ``git gc`` does with ``--prune=<date>``. The kept objects are packed (one file
instead of one per workspace file: the bulk of the disk), unreachable ones deleted.

When: as a session ends (``Checkpointer.close``), at most once a day per repository (a
stamp file; a new repository waits a day), in a separate, low-priority process that outlives
the session: the user waits for none of it. Each git command it runs is bounded in time.
The same process removes, at most once a day, shadow repositories whose workspace no
longer exists and that nothing used for ``ORPHAN_DAYS``.

    python -m joiner.workspace.shadow_prune GIT_DIR    # what the background process runs
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no prune (a live session could not be told apart)
    fcntl = None  # type: ignore[assignment]

LIVE = "joiner.live"  # shared-locked by every live session
PRUNING = "joiner-prune.lock"  # one prune at a time
STAMP = "joiner-pruned"  # its modification time: the last prune (or the creation)
WORKSPACE_MARK = "joiner-workspace"  # the workspace's path
SWEPT = ".joiner-swept"  # in DATA_DIR/shadow: the last sweep of orphans
PRUNE_EVERY_S = 86400.0
ORPHAN_DAYS = 7
MARGIN_S = 2.0  # objects touched less than this before the check are kept (clock steps)
GIT_TIMEOUT_S = 600.0


@dataclass(slots=True)
class PruneReport:
    done: bool
    reason: str = ""  # why not done
    objects_before: int = 0
    objects_after: int = 0
    bytes_before: int = 0  # disk used by the objects (allocated blocks)
    bytes_after: int = 0
    seconds: float = 0.0


# -- the sessions' side ---------------------------------------------------------------------------
def hold_live(git_dir: Path) -> int | None:
    """A shared lock saying a session uses the repository's objects; ``os.close`` it to let go.

    Blocking: the pruner holds its exclusive lock only for the instant of its check."""
    if fcntl is None:
        return None
    fd = os.open(git_dir / LIVE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return None
    return fd


def stamp(git_dir: Path, when: float | None = None) -> None:
    """Mark the repository as pruned (or new) at ``when`` (default: now)."""
    path = git_dir / STAMP
    path.touch()
    if when is not None:
        os.utime(path, (when, when))


def prune_due(git_dir: Path, now: float | None = None) -> bool:
    """A day since the last prune (or since it was made); a repository from before stamps
    were written is due at once."""
    if fcntl is None or not (git_dir / "HEAD").exists():
        return False
    try:
        last = (git_dir / STAMP).stat().st_mtime
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return (time.time() if now is None else now) - last >= PRUNE_EVERY_S


def schedule_prune(git_dir: Path) -> bool:
    """If a prune is due, start it in a detached, low-priority process; True if started.

    Never raises: a session's end must not fail for it."""
    try:
        if not prune_due(git_dir):
            return False
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        subprocess.Popen([sys.executable, "-m", "joiner.workspace.shadow_prune", str(git_dir)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env, start_new_session=True,
                         close_fds=True)
        return True
    except Exception:  # never on the user's path: no error of this may reach it
        return False


# -- the pruner ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _try_flock(path: Path, shared: bool = False) -> Iterator[bool]:
    """A lock taken without waiting: yields whether it was taken."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            assert fcntl is not None
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def is_live(git_dir: Path) -> bool:
    """Whether a session holds the repository now."""
    if fcntl is None:
        return True
    with _try_flock(git_dir / LIVE) as free:
        return not free


def _git_env(git_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_DIR=str(git_dir), LC_ALL="C", GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def _git(git_dir: Path, *args: str, timeout_s: float) -> None:
    # one thread (the user's work goes first); no delta search: what is kept is one version
    # of each file, and deltas between different files save little (measured: none)
    subprocess.run(["git", "-c", "pack.threads=1", "-c", "pack.window=0", *args],
                   env=_git_env(git_dir), cwd=git_dir, stdin=subprocess.DEVNULL,
                   capture_output=True, check=True, timeout=timeout_s)


def object_usage(git_dir: Path) -> tuple[int, int]:
    """(objects, bytes on disk) of the repository: loose objects and packs."""
    count = size = 0
    objects = git_dir / "objects"
    with contextlib.suppress(OSError):
        for fan in os.scandir(objects):
            if len(fan.name) == 2 and fan.is_dir():
                for entry in os.scandir(fan.path):
                    count += 1
                    size += entry.stat(follow_symlinks=False).st_blocks * 512
    with contextlib.suppress(OSError):
        for entry in os.scandir(objects / "pack"):
            size += entry.stat(follow_symlinks=False).st_blocks * 512
            if entry.name.endswith(".idx"):
                count += _packed_count(Path(entry.path))
    return count, size


def _packed_count(idx: Path) -> int:
    """Objects in a pack, from its index's fan-out table (version 2: after 8 bytes)."""
    with contextlib.suppress(OSError), idx.open("rb") as f:
        head = f.read(8 + 256 * 4)
        if head[:4] == b"\xfftOc" and len(head) == 8 + 1024:
            return int.from_bytes(head[-4:], "big")
    return 0


def prune(git_dir: Path, margin_s: float = MARGIN_S,
          timeout_s: float = GIT_TIMEOUT_S) -> PruneReport:
    """Pack what the index reaches and delete the unreachable objects older than the check.

    Skipped (``done`` False, ``reason`` says why) while a session holds the repository or
    another prune runs. Raises ``subprocess.SubprocessError`` if git fails or times out."""
    if fcntl is None:
        return PruneReport(False, "no file locks here")
    if not (git_dir / "HEAD").exists():
        return PruneReport(False, "no shadow repository")
    started = time.perf_counter()
    with _try_flock(git_dir / PRUNING) as alone:
        if not alone:
            return PruneReport(False, "another prune is running")
        with _try_flock(git_dir / LIVE) as free:
            if not free:
                return PruneReport(False, "a session is using it")
            cutoff = int(time.time() - margin_s)
        # from here a new session may start: it only writes or re-touches objects (newer
        # than the cutoff), or uses what the index reaches
        stamp(git_dir)
        report = PruneReport(True)
        report.objects_before, report.bytes_before = object_usage(git_dir)
        expire = f"@{cutoff}"
        _git(git_dir, "repack", "-d", "-A", f"--unpack-unreachable={expire}", "-q",
             "--no-write-bitmap-index", timeout_s=timeout_s)
        _git(git_dir, "prune", f"--expire={expire}", timeout_s=timeout_s)
        report.objects_after, report.bytes_after = object_usage(git_dir)
    report.seconds = time.perf_counter() - started
    return report


# -- whole repositories --------------------------------------------------------------------------
def _set_aside_and_remove(git_dir: Path) -> bool:
    """Rename the repository aside and delete it, unless a session holds it. The exclusive
    lock on ``joiner.live`` is held across the rename: a session cannot start using the
    repository between the check and the move (it waits for the lock, then finds it gone)."""
    stale = git_dir.with_name(f".{git_dir.name}.stale-{uuid.uuid4().hex[:8]}")
    if fcntl is None:
        return False
    with _try_flock(git_dir / LIVE) as free:
        if not free:
            return False
        try:
            git_dir.rename(stale)
        except OSError:
            return False
    shutil.rmtree(stale, ignore_errors=True)
    return True


def remove_shadow(data_dir: Path, workspace: Path) -> bool:
    """Remove the shadow repository of a workspace that is gone (a batch task's copy), unless
    a session holds it. Its sessions' undo is not affected (it reads only their events)."""
    from joiner.workspace.shadow import shadow_dir

    git_dir = shadow_dir(data_dir, workspace)
    if not git_dir.is_dir():
        return False
    return _set_aside_and_remove(git_dir)


def _last_use(git_dir: Path) -> float:
    times = [0.0]
    for name in ("index", STAMP, "joiner.lock", LIVE, ""):
        with contextlib.suppress(OSError):
            times.append((git_dir / name).stat().st_mtime)
    return max(times)


def sweep_orphans(shadow_root: Path, now: float | None = None) -> int:
    """Remove the shadow repositories whose workspace no longer exists and that nothing used
    for ``ORPHAN_DAYS`` (at most once a day); returns how many went."""
    now = time.time() if now is None else now
    mark = shadow_root / SWEPT
    with contextlib.suppress(OSError):
        if now - mark.stat().st_mtime < PRUNE_EVERY_S:
            return 0
    with contextlib.suppress(OSError):
        mark.touch()
    removed = 0
    with contextlib.suppress(OSError):
        for entry in list(os.scandir(shadow_root)):
            git_dir = Path(entry.path)
            if entry.name.startswith(".") and ".stale-" in entry.name:
                shutil.rmtree(git_dir, ignore_errors=True)  # a removal cut short
                continue
            try:
                workspace = (git_dir / WORKSPACE_MARK).read_text(encoding="utf-8").strip()
            except OSError:
                continue  # not ours to judge (no mark: made before marks were written)
            if not workspace or os.path.exists(workspace) or \
                    now - _last_use(git_dir) < ORPHAN_DAYS * 86400:
                continue
            removed += _set_aside_and_remove(git_dir)
    return removed


def main(argv: list[str]) -> int:
    """The background process: prune one repository, then sweep orphans beside it."""
    with contextlib.suppress(OSError):
        os.nice(10)
    git_dir = Path(argv[0])
    code = 0
    try:
        prune(git_dir)
    except (OSError, subprocess.SubprocessError):
        code = 1
    with contextlib.suppress(OSError):
        sweep_orphans(git_dir.parent)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
