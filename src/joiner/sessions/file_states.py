"""The workspace files as a session saw and changed them, rebuilt from its events.

Best effort from what the log records: ``write_file`` arguments (whole
contents), the unified ``diff`` of every change (applied to the known text),
``edit_file`` replacements, and whole-file ``read_file`` results. When a change
cannot be followed (a shell command, an unknown base), the content becomes
unknown (None) but every recorded diff stays listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from joiner.core.events import TOOL_CALL, TOOL_RESULT, Event
from joiner.sessions.patches import PatchMismatch, apply_diff, diff_target

_NUMBERED = re.compile(r"^ *(\d+)\t(.*)$")


@dataclass(slots=True)
class FileState:
    path: str
    content: str | None = None  # the text after the last recorded change, if known
    exists: bool | None = None  # None: unknown
    diffs: list[str] = field(default_factory=list)  # every change's diff, in order
    read: bool = False
    modified: bool = False
    last_seq: int | None = None  # the event that last touched it


def _arguments(call: dict[str, Any] | None) -> dict[str, Any]:
    if not call:
        return {}
    raw = call.get("arguments", "{}")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _from_numbered(text: str) -> str | None:
    """The file text of a whole-file ``read_file`` result, or None if it is not one."""
    lines = text.splitlines()
    out = []
    for expected, line in enumerate(lines, start=1):
        match = _NUMBERED.match(line)
        if not match or int(match.group(1)) != expected:
            return None
        out.append(match.group(2))
    return "\n".join(out) + "\n" if out else ""


class FileTracker:
    """Feeds on events in order; ``files`` is the state after the events seen."""

    def __init__(self) -> None:
        self.files: dict[str, FileState] = {}
        self._calls: dict[str, list[dict[str, Any]]] = {}  # call id -> pending calls

    def state(self, path: str) -> FileState:
        return self.files.setdefault(path, FileState(path))

    def feed(self, event: Event) -> None:
        if event.type == TOOL_CALL:
            self._calls.setdefault(str(event.data.get("id")), []).append(event.data)
        elif event.type == TOOL_RESULT:
            message = event.data.get("message", {})
            pending = self._calls.get(str(message.get("tool_call_id")), [])
            call = pending.pop(0) if pending else None
            if not message.get("is_error"):
                self._apply(event, call, message)

    def _apply(self, event: Event, call: dict[str, Any] | None, message: dict) -> None:
        name = (call or {}).get("name") or message.get("name")
        args = _arguments(call)
        for path in event.data.get("files_read") or ():
            state = self.state(str(path))
            state.read, state.last_seq = True, event.seq
            if (name == "read_file" and not args.get("offset") and not args.get("limit")
                    and state.content is None):
                text = _from_numbered(str(message.get("text", "")))
                if text is not None:
                    state.content, state.exists = text, True
        modified = [str(p) for p in event.data.get("files_modified") or ()]
        diff = event.data.get("diff")
        for path in modified:
            state = self.state(path)
            state.modified, state.last_seq = True, event.seq
            if isinstance(diff, str) and diff:
                state.diffs.append(diff)
            self._change(state, name, args, diff if len(modified) == 1 else None)

    @staticmethod
    def _change(state: FileState, name: str | None, args: dict, diff: Any) -> None:
        if name == "write_file" and isinstance(args.get("content"), str):
            state.content, state.exists = args["content"], True
            return
        if isinstance(diff, str) and diff:
            try:
                state.content = apply_diff(state.content if state.exists is not False else None,
                                           diff)
                state.exists = state.content is not None
                return
            except PatchMismatch:
                pass
            if diff_target(diff)[1]:
                state.content, state.exists = None, False
                return
        if name == "edit_file" and state.content is not None:
            old, new = args.get("old_string"), args.get("new_string")
            if isinstance(old, str) and isinstance(new, str) and old in state.content:
                count = -1 if args.get("replace_all") else 1
                state.content = state.content.replace(old, new, count)
                return
        state.content = None  # changed in a way we cannot follow


def file_states(events: Iterable[Event]) -> dict[str, FileState]:
    tracker = FileTracker()
    for event in events:
        tracker.feed(event)
    return tracker.files
