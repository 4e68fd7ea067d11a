"""Running ripgrep (the ``rg`` binary of the ``ripgrep`` wheel from PyPI).

ripgrep honours ``.gitignore``, ``.ignore`` and ``.rgignore``, and skips hidden files and
directories (so ``.git``) and binary files; it never descends into an ignored directory, so a huge
ignored ``node_modules`` costs nothing. The user's ripgrep config file is not read
(``--no-config``), so results do not depend on it.

In a git repository ripgrep stops at the repository's boundary (a ``.gitignore`` of a parent
directory outside the repository, such as a dotfiles repository's ``*`` in the home directory,
does not apply). A workspace that is no git repository still gets its ``.gitignore`` honoured,
through ``--no-require-git``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from joiner.core import ToolError

BASE_ARGS = ("--no-config", "--color", "never")
EXE = "rg.exe" if sys.platform == "win32" else "rg"


@cache
def rg_binary() -> str:
    """Where ``rg`` is: next to the interpreter (the venv's bin), the wheel's files, then PATH."""
    candidates = [Path(sys.executable).parent / EXE, Path(sysconfig.get_path("scripts")) / EXE]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("ripgrep")
        candidates += [Path(str(dist.locate_file(f))) for f in dist.files or ()
                       if f.name == EXE]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("rg")
    if found:
        return found
    raise ToolError("ripgrep (rg) is not installed: reinstall joiner, which depends on the "
                    "'ripgrep' package, or install ripgrep on the PATH")


@dataclass(slots=True)
class RgResult:
    lines: list[str]  # the first ``keep`` lines of output (decoded)
    total: int  # lines seen in all
    complete: bool  # False: rg was stopped after ``ceiling`` lines, there may be more
    errors: str  # rg's stderr (warnings or the reason it failed)
    returncode: int | None


def workspace_args(root: Path) -> list[str]:
    """Arguments that depend on the workspace: is it a git repository?"""
    return [] if (root / ".git").exists() else ["--no-require-git"]


async def run_rg(args: list[str], cwd: Path, keep: int, ceiling: int) -> RgResult:
    """Run ``rg`` with ``args`` in ``cwd``; keep ``keep`` lines, count up to ``ceiling``.

    rg is stopped once ``ceiling`` lines were seen (the answer is "more than that"), and killed if
    the call is cancelled.
    """
    if any("\x00" in arg for arg in args):
        raise ToolError("a pattern or glob cannot contain a NUL character")
    try:
        process = await asyncio.create_subprocess_exec(
            rg_binary(), *BASE_ARGS, *args, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except (OSError, ValueError) as err:
        raise ToolError(f"cannot start ripgrep: {err}") from None
    assert process.stdout is not None and process.stderr is not None
    errors_task = asyncio.create_task(_read_capped(process.stderr, 64 * 1024))
    lines: list[str] = []
    total = 0
    complete = True
    pending = b""
    try:
        while chunk := await process.stdout.read(1 << 16):
            complete_lines, newline, pending = (pending + chunk).rpartition(b"\n")
            if not newline:  # no complete line yet: all of it is pending
                continue
            parts = complete_lines.decode("utf-8", errors="replace").split("\n")
            if len(lines) < keep:
                lines += parts[: keep - len(lines)]
            total += len(parts)
            if total >= ceiling:
                complete = False
                process.kill()
                break
        if pending and complete:
            total += 1
            if len(lines) < keep:
                lines.append(pending.decode("utf-8", errors="replace"))
        await process.wait()
        errors = (await errors_task).decode("utf-8", errors="replace").strip()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        errors_task.cancel()
        raise
    return RgResult(lines, total, complete, errors, process.returncode)


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> bytes:
    """Read to the end of ``stream`` (so the writer never blocks), keeping ``cap`` bytes."""
    kept = bytearray()
    while chunk := await stream.read(1 << 16):
        kept += chunk[: max(0, cap - len(kept))]
    return bytes(kept)


def check_failure(result: RgResult, what: str) -> None:
    """Raise a ``ToolError`` with rg's message if it failed and found nothing."""
    if result.returncode == 2 and not result.total:
        message = "\n".join(result.errors.splitlines()[:6]).removeprefix("rg: ")
        raise ToolError(f"{what} failed: {message or 'ripgrep exited with status 2'}")
