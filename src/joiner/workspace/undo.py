"""Undo and redo of a session's change sets: the library API of ``joiner undo``/``redo`` and
the TUI's palette.

    plan = plan_undo(store, session_id)       # what undo would do: files, diff, conflicts
    plan = apply_undo(store, session_id)      # do it (UndoConflict if files changed since)
    plan_redo(...) / apply_redo(...)          # the same, forwards

Undo reverts the most recent change set not undone yet (``changesets``): each file gets back
its exact bytes and mode, files the agent created are removed (and the directories made for
them, once empty), files it deleted come back. Redo re-applies the last undone change set. A
file that is no longer as the agent left it (for redo: as it was before the change) is a
conflict: nothing is changed unless ``force``.

Every operation is recorded in the session: an ``undo``/``redo`` event with ``phase: begin``
(the change set, ``force``), then each file replaced atomically (a temporary file and
``os.replace``), then one with ``phase: done`` listing what was done. An operation killed half
way is found by the next one of the same kind, which finishes it: each file is then either
still as expected (restored now) or already restored (left alone).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joiner.core.events import REDO, UNDO, Event
from joiner.workspace.changes import FileChange, diff_stat, version_diff
from joiner.workspace.changesets import EVENT_TYPES, ChangeSet, read_history
from joiner.workspace.snapshot import FileVersion, read_version, remove_empty_dirs, restore

if TYPE_CHECKING:
    from joiner.sessions.store import Store

# For tests of an interrupted undo: seconds to wait after each file (a real process is killed
# while it waits). Never set in normal use.
STEP_DELAY_ENV = "JOINER_UNDO_STEP_DELAY"


class UndoError(Exception):
    """Undo or redo cannot be done; the message is one line for the user. Nothing changed."""


class NothingToDo(UndoError):
    pass


class UndoConflict(UndoError):
    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


@dataclass(slots=True)
class PlannedFile:
    path: str
    action: str  # "restore" | "create" | "delete" | "skip" (already so) | "keep" (forced)
    conflict: str | None = None  # why the file is not as expected, if it is not
    diff: str = ""


@dataclass(slots=True)
class ChangePlan:
    """What an undo or redo does (or did): the change set, each file, the whole diff."""

    kind: str  # "undo" | "redo"
    session_id: str
    workspace: Path
    change_set: ChangeSet
    files: list[PlannedFile]
    resuming: bool = False  # finishes an operation that was cut short
    force: bool = False
    applied: bool = False
    stat: dict[str, int] = field(default_factory=dict)

    @property
    def diff(self) -> str:
        return "".join(f.diff for f in self.files)

    @property
    def conflicts(self) -> list[str]:
        return [f.path for f in self.files if f.conflict]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "session_id": self.session_id,
                "workspace": str(self.workspace), "change_set": self.change_set.id,
                "prompt": self.change_set.prompt, "resuming": self.resuming,
                "force": self.force, "applied": self.applied, "stat": self.stat,
                "files": [{"path": f.path, "action": f.action, "conflict": f.conflict}
                          for f in self.files], "diff": self.diff}


def plan_undo(store: Store, session_id: str, force: bool = False) -> ChangePlan:
    return _plan(store, session_id, UNDO, force)


def plan_redo(store: Store, session_id: str, force: bool = False) -> ChangePlan:
    return _plan(store, session_id, REDO, force)


def apply_undo(store: Store, session_id: str, force: bool = False) -> ChangePlan:
    return _apply(store, _plan(store, session_id, UNDO, force))


def apply_redo(store: Store, session_id: str, force: bool = False) -> ChangePlan:
    return _apply(store, _plan(store, session_id, REDO, force))


# -- planning -----------------------------------------------------------------------------------
def _plan(store: Store, session_id: str, kind: str, force: bool) -> ChangePlan:
    info = store.get(session_id)
    short = session_id[:12]
    if info.status == "running" and info.pid not in (None, os.getpid()):
        raise UndoError(f"session {short} is running (pid {info.pid}); {kind} it once the "
                        "run has finished")
    history = read_history(store.events(session_id, types=EVENT_TYPES))
    root = Path(info.workspace)
    resuming = False
    pending = history.pending
    if pending is not None and pending.kind != kind:
        raise UndoError(f"an interrupted {pending.kind} of session {short} is unfinished; "
                        f"run 'joiner {pending.kind} --session {short}' to finish it first")
    if pending is not None:
        change_set, resuming, force = history.by_id[pending.change_set], True, \
            force or pending.force
    else:
        stack = history.applied if kind == UNDO else history.undone
        if not stack:
            what = "no change of the agent left to undo" if kind == UNDO else "nothing to redo"
            raise NothingToDo(f"session {short}: {what}")
        change_set = stack[-1]
    if not root.is_dir():
        raise UndoError(f"the workspace of session {short}, {root}, no longer exists (moved or "
                        "deleted?); nothing was changed")
    files = [_plan_file(root, change, kind, force) for change in change_set.changes]
    return ChangePlan(kind, session_id, root, change_set, files, resuming, force,
                      stat=diff_stat("".join(f.diff for f in files)))


def _plan_file(root: Path, change: FileChange, kind: str, force: bool) -> PlannedFile:
    expected, target = ((change.after, change.before) if kind == UNDO
                        else (change.before, change.after))
    path = _path_in(root, change.path)
    if path is None:
        return PlannedFile(change.path, "keep", "its path leads outside the workspace")
    current = read_version(path)
    if _same(current, target):
        return PlannedFile(change.path, "skip")
    conflict = None
    if not _same(current, expected):
        conflict = ("deleted since" if current is None else "created since" if expected is None
                    else "changed since")
    if target is not None and not target.kept:
        conflict = f"its content was too large to keep ({target.size:,} bytes)"
        return PlannedFile(change.path, "keep", conflict)
    action = "delete" if target is None else "create" if current is None else "restore"
    if current is not None and not current.kept:
        diff = version_diff(change.path, None, target)  # we cannot show what is there
    else:
        diff = version_diff(change.path, current, target)
    return PlannedFile(change.path, action, conflict, diff)


def _same(a: FileVersion | None, b: FileVersion | None) -> bool:
    return (a is None and b is None) or (a is not None and a.same_as(b))


def _path_in(root: Path, rel: str) -> Path | None:
    """``root/rel`` if its directory is inside the workspace (the file itself may be a link)."""
    if not rel or rel.startswith("/") or ".." in rel.split("/"):
        return None
    path = root / rel
    parent = Path(os.path.realpath(path.parent))
    real_root = Path(os.path.realpath(root))
    if parent != real_root and real_root not in parent.parents:
        return None
    return parent / path.name


# -- applying -----------------------------------------------------------------------------------
def _apply(store: Store, plan: ChangePlan) -> ChangePlan:
    kind, short = plan.kind, plan.session_id[:12]
    conflicts = plan.conflicts
    if conflicts and not plan.force:
        shown = ", ".join(f"{f.path} ({f.conflict})" for f in plan.files if f.conflict)
        raise UndoConflict(f"{kind} refused: not as the agent left them: {shown}; nothing was "
                           "changed (use --force to overwrite them)", conflicts)
    change_set = plan.change_set
    if not plan.resuming:
        store.append(plan.session_id, Event(kind, {
            "phase": "begin", "change_set": change_set.id, "prompt": change_set.prompt[:200],
            "force": plan.force, "files": [f.path for f in plan.files]}))
    delay = float(os.environ.get(STEP_DELAY_ENV) or 0)
    by_path = {c.path: c for c in change_set.changes}
    done: list[dict[str, Any]] = []
    for planned in plan.files:
        if planned.action in ("skip", "keep"):
            done.append({"path": planned.path, "action": planned.action})
            continue
        change = by_path[planned.path]
        target = change.before if kind == UNDO else change.after
        path = _path_in(plan.workspace, planned.path)
        assert path is not None
        try:
            restore(path, target)
        except OSError as err:
            raise UndoError(f"{kind} stopped at {planned.path}: {err.strerror or err}; run "
                            f"'joiner {kind} --session {short}' again to finish it") from None
        if target is None and kind == UNDO:
            remove_empty_dirs(plan.workspace, change.made_dirs)
        done.append({"path": planned.path, "action": planned.action})
        if delay:
            time.sleep(delay)
    store.append(plan.session_id, Event(kind, {
        "phase": "done", "change_set": change_set.id, "force": plan.force,
        "resumed": plan.resuming, "files": done, "stat": plan.stat}))
    plan.applied = True
    return plan
