"""Checkpoints around the tools that change the workspace, recorded in their ``tool_result``.

``Checkpointer.wrap(tools)`` wraps every tool that may change files:

- the file tools (``records_changes = True``: ``write_file``, ``edit_file``) capture the exact
  before/after of the file they change themselves (``changes.capture``); the wrapper only
  makes them wait while a shell command is being snapshotted;
- every other non-read tool (``run_shell``, MCP tools), whose effects are unknown in advance,
  runs between two snapshots of the workspace (``shadow.ShadowRepo``): the paths that differ,
  with their before/after contents, become the call's ``changes``, ``diff`` and ``stat``.
  Such calls run one at a time (an exclusive lock), so one command's changes are never
  mixed with another's; file edits run concurrently with each other, not with them.

Read tools are left as they are: reads need no snapshot (nor does the ``plan`` mode, which
offers only read tools).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from joiner.core import Tool, ToolError, ToolOutput
from joiner.workspace.changes import FileChange, change_meta
from joiner.workspace.shadow import RawChange, ShadowError, ShadowRepo
from joiner.workspace.snapshot import MAX_KEPT_BYTES, FileVersion


class WorkspaceLock:
    """Many shared holders (file edits) or one exclusive holder (a snapshotted command)."""

    def __init__(self) -> None:
        self._shared = 0
        self._exclusive = False
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._exclusive)
            self._shared += 1
        try:
            yield
        finally:
            async with self._changed:
                self._shared -= 1
                self._changed.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._exclusive and self._shared == 0)
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()


class Checkpointer:
    """Snapshots for one workspace, shared by the wrapped tools of a session."""

    def __init__(self, workspace: Path, shadow: ShadowRepo | None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.root = Path(os.path.realpath(workspace))
        self.shadow = shadow
        self.warn = warn or (lambda line: None)
        self.lock = WorkspaceLock()
        self._disabled: str | None = None

    def close(self) -> None:
        """Stop watching the workspace (also done when the checkpointer is collected); the
        session ends: prune the shadow repository if due (at most once a day, in a process
        of its own, see ``shadow_prune``)."""
        if self.shadow is not None:
            from joiner.workspace.shadow_prune import schedule_prune

            self.shadow.close()
            schedule_prune(self.shadow.git_dir)

    def wrap(self, tools: Sequence[Tool]) -> list[Tool]:
        return [tool if tool.kind == "read" else CheckpointedTool(tool, self) for tool in tools]

    async def around(self, run: Callable[[], Any]) -> ToolOutput:
        """Run ``run()`` between two snapshots; its output gets the changes found."""
        before = await self._snapshot()
        try:
            output: ToolOutput = await run()
        except ToolError as err:  # what the core would answer, with the changes made anyway
            output = ToolOutput(f"Error: {err}", True)
        if before is None:
            return output
        try:
            changes = await asyncio.to_thread(self._changes_since, before)
        except ShadowError as err:
            self._disable(str(err))
            return output
        if changes:
            meta = change_meta(changes)
            output.meta = {**output.meta, **meta}
            output.text += "\n" + _summary(changes, meta["stat"])
        return output

    async def _snapshot(self) -> str | None:
        if self.shadow is None or self._disabled is not None:
            return None
        if not self.shadow.available:
            self._disable("git is not installed")
            return None
        unchanged = self.shadow.unchanged_tree()  # the usual case: no thread, no I/O
        if unchanged is not None:
            return unchanged
        try:
            return await asyncio.to_thread(self.shadow.snapshot)
        except ShadowError as err:
            self._disable(str(err))
            return None

    def _disable(self, reason: str) -> None:
        if self._disabled is None:
            self._disabled = reason
            self.warn(f"shell commands' file changes are not recorded (undo cannot revert "
                      f"them): {reason}")

    def _changes_since(self, before: str) -> list[FileChange]:
        """The snapshot after a command and what changed since ``before`` (one thread)."""
        assert self.shadow is not None
        raw = self.shadow.changes(before, self.shadow.snapshot())
        contents = self.shadow.blobs([e.sha for c in raw for e in (c.before, c.after)
                                      if e is not None and e.mode != "160000"])
        return [self._file_change(c, contents) for c in raw]

    def _file_change(self, raw: RawChange, contents: dict[str, bytes]) -> FileChange:
        after = None if raw.after is None else _version(raw.after.mode, contents[raw.after.sha])
        if after is not None and not after.is_link:
            after = FileVersion(_exact_mode(self.root / raw.path, after.mode), after.data,
                                size=after.size)
        before = None
        if raw.before is not None:
            before = _version(raw.before.mode, contents[raw.before.sha])
            if after is not None and not before.is_link and not after.is_link:
                before = FileVersion(_mode_like(after.mode, raw.before.mode), before.data,
                                     size=before.size)
        made = [] if raw.before is not None else _new_dirs(raw.path)
        return FileChange(raw.path, before, after, made)


class CheckpointedTool:
    """A tool whose changes to the workspace are recorded (see the module docstring)."""

    def __init__(self, tool: Tool, checkpointer: Checkpointer) -> None:
        self.tool = tool
        self.checkpointer = checkpointer
        self.spec = tool.spec
        self.kind = tool.kind
        self.records_changes = bool(getattr(tool, "records_changes", False))

    def __getattr__(self, name: str) -> Any:  # source, name, description... of the tool
        return getattr(self.tool, name)

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return await self.tool.preview(arguments)

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        lock = self.checkpointer.lock
        if self.records_changes:
            async with lock.shared():
                return await self.tool.run(arguments)
        async with lock.exclusive():
            return await self.checkpointer.around(lambda: self.tool.run(arguments))


def _version(git_mode: str, data: bytes) -> FileVersion:
    if git_mode == "120000":
        return FileVersion(0o777, link=os.fsdecode(data), size=len(data))
    mode = 0o755 if git_mode == "100755" else 0o644
    if len(data) > MAX_KEPT_BYTES:
        return FileVersion(mode, None, size=len(data))
    return FileVersion(mode, data, size=len(data))


def _exact_mode(path: Path, fallback: int) -> int:
    """The file's permission bits now (git keeps only the executable bit)."""
    try:
        info = os.lstat(path)
    except OSError:
        return fallback
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else fallback


def _mode_like(after_mode: int, git_before: str) -> int:
    """The before mode of a file that still exists: its mode now, with the executable bits
    it had then (where readable), as git's checkout would set them."""
    was_executable = git_before == "100755"
    if bool(after_mode & stat.S_IXUSR) == was_executable:
        return after_mode
    if was_executable:
        return after_mode | ((after_mode & 0o444) >> 2)
    return after_mode & ~0o111


def _new_dirs(rel: str) -> list[str]:
    """Parents of a created file that hold nothing else tracked now: removable on undo
    once they are empty again (``rmdir`` never removes a directory with anything in it)."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _summary(changes: Sequence[FileChange], stat_: dict[str, int]) -> str:
    names = []
    for change in changes[:20]:
        verb = "created" if change.before is None else "deleted" if change.after is None \
            else "modified"
        names.append(f"{change.path} ({verb})")
    more = f" and {len(changes) - 20} more" if len(changes) > 20 else ""
    return (f"files changed: {stat_['files']} (+{stat_['added']} -{stat_['removed']}): "
            + ", ".join(names) + more)
