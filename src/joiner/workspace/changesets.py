"""A session's change sets and where undo/redo stand, read from its events alone.

A change set is everything the agent changed while answering one prompt: the ``changes`` of
the ``tool_result`` events after a ``user_prompt`` and before the next, merged per file (the
first recorded before, the last recorded after; a file changed and changed back is left out).

``undo`` and ``redo`` events move change sets between two stacks: ``applied`` (undo takes its
top) and ``undone`` (redo takes its top). Each operation is recorded as a ``begin`` event, the
files, then a ``done`` event; a ``begin`` with no ``done`` is an operation that was cut short
(``pending``), which the next operation of the same kind finishes. A new change after an undo
empties the redo stack, as in an editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from joiner.core.events import REDO, TOOL_RESULT, UNDO, USER_PROMPT, Event
from joiner.workspace.changes import FileChange

EVENT_TYPES = (USER_PROMPT, TOOL_RESULT, UNDO, REDO)


@dataclass(slots=True)
class ChangeSet:
    id: int  # the seq of the prompt's event (of its first change if there is no prompt)
    prompt: str
    changes: list[FileChange] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [c.path for c in self.changes]


@dataclass(slots=True)
class Pending:
    kind: str  # "undo" | "redo"
    change_set: int
    force: bool


@dataclass(slots=True)
class History:
    applied: list[ChangeSet] = field(default_factory=list)
    undone: list[ChangeSet] = field(default_factory=list)
    pending: Pending | None = None
    by_id: dict[int, ChangeSet] = field(default_factory=dict)


class _Builder:
    def __init__(self) -> None:
        self.history = History()
        self.prompt: tuple[int, str] | None = None
        self.records: dict[str, list[FileChange]] = {}
        self.first_seq: int | None = None

    def close(self) -> None:
        """The change set being gathered is complete: push it if it changed anything."""
        if not self.records:
            return
        changes = [merged for rs in self.records.values() if (merged := _merge(rs)) is not None]
        seq, text = self.prompt if self.prompt is not None else (self.first_seq or 0, "")
        self.records, self.first_seq = {}, None
        if not changes:
            return
        change_set = ChangeSet(seq, text, changes)
        while change_set.id in self.history.by_id:  # the same prompt, again after an undo
            change_set.id += 1_000_000_000
        self.history.by_id[change_set.id] = change_set
        self.history.applied.append(change_set)
        self.history.undone.clear()

    def feed(self, event: Event) -> None:
        if event.type == USER_PROMPT:
            self.close()
            message = event.data.get("message") or {}
            self.prompt = (event.seq or 0, str(message.get("text", "")))
        elif event.type == TOOL_RESULT:
            for record in event.data.get("changes") or ():
                if isinstance(record, dict) and isinstance(record.get("path"), str):
                    change = FileChange.from_record(record)
                    self.records.setdefault(change.path, []).append(change)
                    if self.first_seq is None:
                        self.first_seq = event.seq
        elif event.type in (UNDO, REDO):
            self.close()
            self._operation(event.type, event.data)

    def _operation(self, kind: str, data: dict[str, Any]) -> None:
        history = self.history
        change_set = history.by_id.get(int(data.get("change_set", -1)))
        if change_set is None:
            return
        if data.get("phase") == "begin":
            history.pending = Pending(kind, change_set.id, bool(data.get("force")))
            return
        source, target = ((history.applied, history.undone) if kind == UNDO
                          else (history.undone, history.applied))
        if change_set in source:
            source.remove(change_set)
        target.append(change_set)
        history.pending = None


def _merge(records: list[FileChange]) -> FileChange | None:
    before, after = records[0].before, records[-1].after
    if before is None and after is None:
        return None
    if before is not None and before.same_as(after):
        return None
    made = list(dict.fromkeys(d for r in records for d in r.made_dirs))
    return FileChange(records[0].path, before, after, made)


def read_history(events: Iterable[Event]) -> History:
    builder = _Builder()
    for event in events:
        builder.feed(event)
    builder.close()
    return builder.history
