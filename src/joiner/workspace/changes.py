"""File changes as recorded in ``tool_result`` events: the one source undo and redo read.

A tool that changes files puts into its ``ToolOutput.meta`` (and so into its ``tool_result``
event) the keys built by ``change_meta``:

- ``changes``: ``[{"path", "before", "after", "made_dirs"?}]``, ``before``/``after`` being
  ``FileVersion`` records (``None``: the file did not exist / no longer exists). The store keeps
  long contents once, as content-addressed blobs;
- ``diff``: the unified diff of all of them; ``stat``: ``{"files", "added", "removed"}``;
- ``files_modified``: their paths.
"""

from __future__ import annotations

import re
import stat as stat_module
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joiner.workspace.snapshot import FileVersion

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@dataclass(slots=True)
class FileChange:
    path: str  # workspace-relative, posix
    before: FileVersion | None
    after: FileVersion | None
    made_dirs: list[str] = field(default_factory=list)  # directories the change created

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": self.path,
            "before": None if self.before is None else self.before.to_record(),
            "after": None if self.after is None else self.after.to_record()}
        if self.made_dirs:
            record["made_dirs"] = list(self.made_dirs)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FileChange:
        return cls(str(record["path"]), FileVersion.from_record(record.get("before")),
                   FileVersion.from_record(record.get("after")),
                   [str(d) for d in record.get("made_dirs") or ()])


def file_change_meta(change: FileChange, diff: str) -> dict[str, Any]:
    """The ``changes`` and ``stat`` of one file tool call: ``change`` holds the very bytes the
    tool read and wrote (nothing is read again here)."""
    return {"changes": [change.to_record()], "stat": diff_stat(diff)}


def change_meta(changes: Sequence[FileChange]) -> dict[str, Any]:
    """``changes``, ``diff``, ``stat`` and ``files_modified`` for changes found after the fact."""
    diff = "".join(version_diff(c.path, c.before, c.after) for c in changes)
    return {"files_modified": [c.path for c in changes], "diff": diff, "stat": diff_stat(diff),
            "changes": [c.to_record() for c in changes]}


def _git_mode(version: FileVersion) -> str:
    if version.is_link:
        return "120000"
    return "100755" if version.mode & stat_module.S_IXUSR else "100644"


def version_diff(rel: str, before: FileVersion | None, after: FileVersion | None) -> str:
    """The unified diff from ``before`` to ``after``; a note for binary files and links."""
    from joiner.tools.diffs import make_diff

    if before is None and after is None:
        return ""
    head = ""
    if before is not None and after is not None and before.mode != after.mode:
        head = f"old mode {_git_mode(before)} ({before.mode:o})\nnew mode {_git_mode(after)} " \
               f"({after.mode:o})\n"
    old = "" if before is None else before.text()
    new = "" if after is None else after.text()
    if old is not None and new is not None and not _is_link(before) and not _is_link(after):
        diff = make_diff(rel, None if before is None else old, None if after is None else new)
        if diff or not head:
            return head + diff
    a = "/dev/null" if before is None else f"a/{rel}"
    b = "/dev/null" if after is None else f"b/{rel}"
    if before is not None and after is not None and before.data == after.data \
            and before.link == after.link:
        return f"--- {a}\n+++ {b}\n{head}"
    return f"--- {a}\n+++ {b}\n{head}Binary files {a} and {b} differ\n"


def _is_link(version: FileVersion | None) -> bool:
    return version is not None and version.is_link


def diff_stat(diff: str) -> dict[str, int]:
    """``{"files", "added", "removed"}`` of a unified diff, read hunk by hunk (so a removed
    line that starts with ``--`` is not taken for a file header)."""
    files = added = removed = 0
    old_left = new_left = 0
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                added += 1
                new_left -= 1
            elif line.startswith("-"):
                removed += 1
                old_left -= 1
            elif line.startswith(" ") or line == "":
                old_left -= 1
                new_left -= 1
            continue
        if line.startswith("+++ "):
            files += 1
        elif match := _HUNK.match(line):
            old_left = 1 if match.group(1) is None else int(match.group(1))
            new_left = 1 if match.group(2) is None else int(match.group(2))
    return {"files": files, "added": added, "removed": removed}
