"""The search tools: ``list_files`` and ``grep``, both through ripgrep (see ``ripgrep.py``).

Both honour ``.gitignore``/``.ignore``, skip hidden files and ``.git``, and cap what they return
(entries, matches, bytes) with a note saying how many more there are and how to narrow the call.
Globs are matched against paths relative to the ``path`` searched (the workspace root by
default): ``*.py`` matches at any depth, ``src/*.py`` only directly in ``src``. Results are sorted
by path, so the same call gives the same answer.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from joiner.core import ToolError, ToolOutput
from joiner.tools.base import WorkspaceTool
from joiner.tools.ripgrep import RgResult, check_failure, run_rg, workspace_args

if TYPE_CHECKING:
    from joiner.tools.args import GrepArgs, ListArgs

# Lines of rg output read at most before stopping it; beyond: "more than N".
COUNT_CEILING = 200_000



class ListFiles(WorkspaceTool):
    name = "list_files"
    kind = "read"
    args_name = "ListArgs"
    description = ("List the files under a directory (recursively), optionally matching a glob. "
                   "Ignored (.gitignore, .ignore) and hidden files are left out. Paths are "
                   "relative to the workspace root, sorted; at most {list_max_entries} per call.")

    def describe(self) -> str:
        return self.description.format(list_max_entries=self.limits.list_max_entries)

    async def call(self, args: ListArgs) -> ToolOutput:
        directory, prefix = self._directory(args.path)
        rg_args = ["--files", *workspace_args(self.workspace.root)]
        if args.pattern:
            rg_args += ["--glob", args.pattern]
        result = await run_rg(rg_args, directory, COUNT_CEILING, COUNT_CEILING)
        check_failure(result, "list_files")
        paths = sorted(prefix + line for line in result.lines if line)
        if not paths:
            where = f" under {prefix.rstrip('/')}" if prefix else ""
            what = f" matching {args.pattern!r}" if args.pattern else ""
            return ToolOutput(f"No files{what}{where} (ignored and hidden files are not listed).")
        shown, size = [], 0
        for path in paths[: self.limits.list_max_entries]:
            if size + len(path) + 1 > self.limits.list_max_bytes and shown:
                break
            shown.append(path)
            size += len(path) + 1
        text = "\n".join(shown)
        more = len(paths) - len(shown)
        if more or not result.complete:
            count = f"{more}" if result.complete else f"more than {more}"
            text += (f"\n… {count} more files: narrow the pattern (e.g. '*.py') or list a "
                     "subdirectory with path=…")
        return ToolOutput(text + _warnings(result))

    def _directory(self, path: str | None) -> tuple[Path, str]:
        """The directory to run rg in, and the prefix that makes its output root-relative."""
        resolved = self.workspace.resolve(path or ".")
        rel = self.workspace.relative(resolved)
        if not resolved.exists():
            raise ToolError(f"{rel} does not exist")
        if not resolved.is_dir():
            raise ToolError(f"{rel} is a file, not a directory (use read_file)")
        return resolved, "" if rel == "." else rel + "/"


class Grep(WorkspaceTool):
    name = "grep"
    kind = "read"
    args_name = "GrepArgs"
    description = ("Search file contents with a regular expression (ripgrep). Answers "
                   "`path:line:text` lines, sorted by path; ignored (.gitignore, .ignore), "
                   "hidden and binary files are skipped. At most {grep_max_matches} lines per "
                   "call.")

    def describe(self) -> str:
        return self.description.format(grep_max_matches=self.limits.grep_max_matches)

    async def call(self, args: GrepArgs) -> ToolOutput:
        if not args.pattern:
            raise ToolError("the pattern is empty: give a regular expression to search for")
        resolved = self.workspace.resolve(args.path or ".")
        rel = self.workspace.relative(resolved)
        if not resolved.exists():
            raise ToolError(f"{rel} does not exist")
        rg_args = [*workspace_args(self.workspace.root),
                   "--line-number", "--no-heading", "--with-filename", "--null",
                   "--max-columns", str(self.limits.grep_max_line_chars), "--max-columns-preview",
                   "-e", args.pattern]
        if args.glob:
            rg_args += ["--glob", args.glob]
        if resolved.is_dir():
            cwd, prefix = resolved, "" if rel == "." else rel + "/"
        else:
            cwd, prefix = self.workspace.root, ""
            rg_args += ["--", rel]
        ceiling = max(self.limits.grep_max_matches * 50, 10_000)
        result = await run_rg(rg_args, cwd, ceiling, ceiling)
        check_failure(result, "grep")
        return ToolOutput(self._format(result, prefix, args) + _warnings(result))

    def _format(self, result: RgResult, prefix: str, args: GrepArgs) -> str:
        entries = sorted((_parse(line, prefix) for line in result.lines if line),
                         key=lambda entry: entry[0])  # stable: lines stay in file order
        if not entries:
            where = f" in {args.path}" if args.path else ""
            return f"No matches for {args.pattern!r}{where}."
        shown: list[str] = []
        size = 0
        for path, rest in entries[: self.limits.grep_max_matches]:
            line = f"{path}:{rest}"
            if size + len(line) + 1 > self.limits.grep_max_bytes and shown:
                break
            shown.append(line)
            size += len(line) + 1
        more = len(entries) - len(shown)
        if more or not result.complete:
            count = f"{more}" if result.complete else f"more than {more}"
            shown.append(f"… {count} more matching lines: narrow the pattern, search a "
                         "subdirectory with path=…, or filter files with glob=…")
        return "\n".join(shown)


def _parse(line: str, prefix: str) -> tuple[str, str]:
    """``path NUL line:text`` (rg ``--null``) as (root-relative path, "line:text")."""
    path, sep, rest = line.partition("\0")
    if not sep:  # a message such as "binary file matches", prefixed "path: "
        path, _, rest = line.partition(": ")
        return str(PurePosixPath(prefix + path)), " " + rest
    number, _, text = rest.partition(":")
    return prefix + path, f"{number}:{text}"


def _warnings(result: RgResult) -> str:
    if result.returncode == 2 and result.errors:
        lines = result.errors.splitlines()
        shown = "\n".join(lines[:3])
        extra = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
        return f"\n(ripgrep reported problems{extra}:\n{shown})"
    return ""
