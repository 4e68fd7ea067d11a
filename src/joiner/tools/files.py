"""The file tools: ``read_file``, ``write_file``, ``edit_file``.

Paths go through the workspace guard; file work runs in a thread so a large file never blocks the
event loop; writes are atomic and serialized per file (``PathLocks``), so two edits of one file
in the same turn both land.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joiner.core import ToolError, ToolOutput
from joiner.tools.base import WorkspaceTool
from joiner.tools.diffs import TextLines, diff_changes, make_diff
from joiner.tools.edits import Replacement, find_all, line_numbers, replace_at
from joiner.tools.fileio import (
    SNIFF_BYTES,
    Source,
    check_regular,
    encode_text,
    looks_binary,
    read_existing,
    read_source,
    write_atomic,
)
from joiner.workspace.changes import FileChange, file_change_meta
from joiner.workspace.snapshot import FileVersion, missing_dirs

if TYPE_CHECKING:
    from joiner.tools.args import EditArgs, ReadArgs, WriteArgs



class ReadFile(WorkspaceTool):
    name = "read_file"
    kind = "read"
    args_name = "ReadArgs"
    description = ("Read a text file. Lines come numbered like `cat -n` (number, tab, text); the "
                   "numbers are not part of the file. At most {read_max_lines} lines per call "
                   "by default: a note says how to read on with `offset`.")

    def describe(self) -> str:
        return self.description.format(read_max_lines=self.limits.read_max_lines)

    async def call(self, args: ReadArgs) -> ToolOutput:
        path = self.workspace.resolve(args.path)
        rel = self.workspace.relative(path)
        start = max(args.offset or 1, 1)
        limit = args.limit or self.limits.read_max_lines
        text = await asyncio.to_thread(self._read, path, rel, start, limit)
        return ToolOutput(text, meta={"files_read": [rel]})

    def _read(self, path: Path, rel: str, start: int, limit: int) -> str:
        check_regular(path, rel)
        try:
            with path.open("rb") as handle:
                if looks_binary(handle.read(SNIFF_BYTES)):
                    raise ToolError(f"{rel} is a binary file; read_file shows text files only")
                handle.seek(0)
                return self._numbered(handle, rel, start, limit)
        except FileNotFoundError:
            raise ToolError(f"{rel} does not exist (list_files shows what does)") from None
        except OSError as err:
            raise ToolError(f"cannot read {rel}: {err.strerror or err}") from None

    def _numbered(self, handle: Any, rel: str, start: int, limit: int) -> str:
        max_bytes, max_chars = self.limits.read_max_bytes, self.limits.read_max_line_chars
        out: list[str] = []
        size = 0
        number = 0
        for raw in handle:
            number += 1
            if number < start:
                continue
            line = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
            if len(line) > max_chars:
                line = f"{line[:max_chars]} … [{len(line) - max_chars} more characters]"
            entry = f"{number:6}\t{line}\n"
            if out and (len(out) >= limit or size + len(entry) > max_bytes):
                more = _count_lines_left(handle, raw)
                out.append(f"… {more} more lines: read on with offset={number}\n")
                break
            out.append(entry)
            size += len(entry)
        if not out:
            if number == 0:
                return f"({rel} is empty)"
            raise ToolError(f"{rel} has {number} lines; offset {start} is past its end")
        return "".join(out)


def _count_lines_left(handle: Any, current: bytes) -> int:
    """Lines from ``current`` (already read) to the end of the file, counted in big chunks."""
    newlines, last = 0, b""
    while chunk := handle.read(1 << 20):
        newlines += chunk.count(b"\n")
        last = chunk[-1:]
    unterminated = last not in (b"", b"\n")  # the file's last line has no newline
    return 1 + newlines + unterminated


class WriteFile(WorkspaceTool):
    name = "write_file"
    kind = "edit"
    records_changes = True  # its tool_result carries the file's before/after (undo)
    args_name = "WriteArgs"
    description = ("Create a file or replace its whole content. To change part of an existing "
                   "file, prefer edit_file.")

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        args = self.parse(arguments)
        path = self.workspace.resolve(args.path)
        rel = self.workspace.relative(path)
        before = await asyncio.to_thread(read_existing, path, rel)
        return await asyncio.to_thread(make_diff, rel, None if before is None else before.text,
                                       args.content)

    async def call(self, args: WriteArgs) -> ToolOutput:
        path = self.workspace.resolve(args.path)
        rel = self.workspace.relative(path)
        async with self.locks(path):
            return await asyncio.to_thread(self._write, path, rel, args.content)

    def _write(self, path: Path, rel: str, content: str) -> ToolOutput:
        before = read_existing(path, rel)  # the exact bytes and mode, for undo
        data = encode_text(rel, content)
        if before is not None and before.data == data:
            return ToolOutput(f"{rel} already has this content; nothing changed.")
        made = [] if before is not None else missing_dirs(self.workspace.root, path)
        mode = write_atomic(path, rel, data, None if before is None else before.mode)
        lines = content.count("\n") + (bool(content) and not content.endswith("\n"))
        verb = "Created" if before is None else "Wrote"
        diff = make_diff(rel, None if before is None else before.text, content)
        change = FileChange(rel, None if before is None else _version(before),
                            FileVersion.of_file(mode, data, content), made)
        return ToolOutput(f"{verb} {rel} ({lines} lines).", meta={
            "files_modified": [rel], "diff": diff, **file_change_meta(change, diff)})


class EditFile(WorkspaceTool):
    name = "edit_file"
    kind = "edit"
    records_changes = True  # its tool_result carries the file's before/after (undo)
    args_name = "EditArgs"
    description = ("Replace text in a file: old_string must match the file's text exactly, once "
                   "(or set replace_all). Read the file first.")

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        args = self.parse(arguments)
        path = self.workspace.resolve(args.path)
        rel = self.workspace.relative(path)
        return await asyncio.to_thread(self._preview, path, rel, args)

    def _preview(self, path: Path, rel: str, args: EditArgs) -> str:
        source = read_source(path, rel)
        plan = _plan_edit(source.text, rel, args)
        return diff_changes(rel, TextLines(source.text, plan.replacement.starts),
                            plan.replacement.changes)

    async def call(self, args: EditArgs) -> ToolOutput:
        path = self.workspace.resolve(args.path)
        rel = self.workspace.relative(path)
        async with self.locks(path):
            return await asyncio.to_thread(self._edit, path, rel, args)

    def _edit(self, path: Path, rel: str, args: EditArgs) -> ToolOutput:
        """Read once, write once; the diff from the replaced regions only; the bytes read and
        written are the change's before and after (for undo)."""
        source = read_source(path, rel)
        plan = _plan_edit(source.text, rel, args)
        after = plan.replacement.after
        data = encode_text(rel, after)
        mode = write_atomic(path, rel, data, source.mode)
        diff = diff_changes(rel, TextLines(source.text, plan.replacement.starts),
                            plan.replacement.changes)
        change = FileChange(rel, _version(source), FileVersion.of_file(mode, data, after))
        count = len(plan.lines)
        where = f"line {plan.lines[0]}" if count == 1 else f"lines {_some(plan.lines)}"
        return ToolOutput(
            f"Edited {rel}: replaced {count} occurrence{'s' * (count != 1)} (at {where}).",
            meta={"files_modified": [rel], "diff": diff, **file_change_meta(change, diff)})


def _version(source: Source) -> FileVersion:
    return FileVersion.of_file(source.mode, source.data, source.text if source.exact else None)


@dataclass(slots=True)
class EditPlan:
    before: str
    lines: list[int]  # 1-based lines where old_string starts
    replacement: Replacement


def _strings(before: str, args: EditArgs) -> tuple[str, str]:
    """old/new as they occur in the file: a file with CRLF endings matches LF-only strings.
    (The cheap tests first: the common edit has no newline, and the file is not scanned.)"""
    old, new = args.old_string, args.new_string
    if "\n" in old and "\r" not in old and "\r\n" in before and old not in before:
        return old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
    return old, new


def _plan_edit(before: str, rel: str, args: EditArgs) -> EditPlan:
    if not args.old_string:
        raise ToolError("old_string is empty: give the exact text to replace (to create a file "
                        "or replace all of it, use write_file)")
    if args.old_string == args.new_string:
        raise ToolError("old_string and new_string are the same; nothing would change")
    old, new = _strings(before, args)
    starts = find_all(before, old)
    if not starts:
        hint = ""
        if old.strip() and old.strip() in before:
            hint = " (it does occur with different leading or trailing whitespace)"
        raise ToolError(f"old_string was not found in {rel}{hint}; the file is unchanged. "
                        "Read the file again and copy the text exactly, including whitespace "
                        "and indentation")
    if len(starts) > 1 and not args.replace_all:
        lines = line_numbers(before, starts)
        raise ToolError(f"old_string occurs {len(starts)} times in {rel} (lines {_some(lines)}); "
                        "the file is unchanged. Include more surrounding lines to make it "
                        "unique, or set replace_all to true to change every occurrence")
    replacement = replace_at(before, starts, old, new)
    return EditPlan(before, replacement.lines, replacement)


def _some(numbers: list[int], shown: int = 20) -> str:
    text = ", ".join(map(str, numbers[:shown]))
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")
