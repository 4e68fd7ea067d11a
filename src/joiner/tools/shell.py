"""``run_shell``: a command in the workspace root, in its own process group, with a timeout.

The command runs under ``bash -c`` (``/bin/sh -c`` where there is no bash) with stdin closed, in a
new session, so at the timeout (or when the call is cancelled: an interrupt, the core's tool
timeout) the whole process group is killed: SIGTERM, then SIGKILL after a short grace.

Output is read as it comes and kept within ``shell_max_bytes`` per stream: the head and the tail
are kept and the middle is cut with a marker, so a command printing gigabytes costs no memory.
A background process that keeps the output pipes open does not hold the call: once the command
itself has exited, its output is collected for a moment and the call returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from typing import TYPE_CHECKING, Any

from joiner.core import ToolError, ToolOutput
from joiner.tools.base import WorkspaceTool

if TYPE_CHECKING:
    from joiner.tools.args import ShellArgs

KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
DRAIN_AFTER_EXIT = 0.5  # seconds to wait for the pipes once the command has exited


class HeadTail:
    """Keeps the first and last ``max_bytes / 2`` bytes of a stream and counts the rest."""

    def __init__(self, max_bytes: int) -> None:
        self.half = max(1, max_bytes // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.half:  # trim now and then, not at every chunk
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        tail = self.tail[-self.half:] if len(self.tail) > self.half else self.tail
        cut = self.total - len(self.head) - len(tail)
        head_text = self.head.decode("utf-8", errors="replace")
        tail_text = bytes(tail).decode("utf-8", errors="replace")
        if cut <= 0:
            return head_text + tail_text
        return (f"{head_text}\n… [{cut} bytes cut from the middle of the output; redirect it "
                f"to a file and grep or read parts of it to see more] …\n{tail_text}")


class RunShell(WorkspaceTool):
    name = "run_shell"
    kind = "execute"
    args_name = "ShellArgs"
    description = ("Run a shell command in the workspace root and get its exit code, stdout and "
                   "stderr. No input can be given (stdin is closed); long output is cut in the "
                   "middle. Killed after the timeout (default {default:g}s).")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        timeout = self.spec.parameters["properties"]["timeout"]
        timeout["description"] = timeout["description"].format(
            default=self.limits.shell_timeout, most=self.limits.shell_max_timeout)

    def describe(self) -> str:
        return self.description.format(default=self.limits.shell_timeout)

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        """The exact command, for the approval (what runs is this text, under bash -c)."""
        command = arguments.get("command")
        return command if isinstance(command, str) else None

    async def call(self, args: ShellArgs) -> ToolOutput:
        if not args.command.strip():
            raise ToolError("the command is empty")
        timeout = min(args.timeout or self.limits.shell_timeout, self.limits.shell_max_timeout)
        shell = shutil.which("bash") or "/bin/sh"
        try:
            process = await asyncio.create_subprocess_exec(
                shell, "-c", args.command, cwd=self.workspace.root,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except (OSError, ValueError) as err:
            raise ToolError(f"cannot start the command: {err}") from None
        out, err = HeadTail(self.limits.shell_max_bytes), HeadTail(self.limits.shell_max_bytes)
        assert process.stdout is not None and process.stderr is not None
        readers = [asyncio.create_task(_pump(process.stdout, out)),
                   asyncio.create_task(_pump(process.stderr, err))]
        timed_out = False
        try:
            try:
                await asyncio.wait_for(_exited(process), timeout)
            except TimeoutError:
                timed_out = True
                await _kill_group(process)
            _, running = await asyncio.wait(readers, timeout=DRAIN_AFTER_EXIT)
        except BaseException:  # cancelled: an interrupt or the core's own tool timeout
            await asyncio.shield(_kill_group(process))
            raise
        finally:
            for reader in readers:
                reader.cancel()
            _close_pipes(process)
        return _result(process.returncode, out, err, timed_out, timeout, bool(running))


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Return once the command has exited. ``Process.wait()`` alone is not enough: on Python
    3.11 it also waits for the output pipes to close, which a background child may hold open
    for hours; so its exit status is also polled (every 50 ms, from 50 ms on)."""
    waiting = asyncio.ensure_future(process.wait())
    try:
        while not waiting.done() and process.returncode is None:
            await asyncio.wait([waiting], timeout=0.05)
    finally:
        waiting.cancel()


async def _pump(stream: asyncio.StreamReader, sink: HeadTail) -> None:
    while chunk := await stream.read(1 << 16):
        sink.add(chunk)


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the command's whole process group, SIGKILL if it is still there after a grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_exited(process), KILL_GRACE)
            if not _group_alive(process.pid):
                return


def _close_pipes(process: asyncio.subprocess.Process) -> None:
    """Close our ends of the pipes, which a background process may still hold open (asyncio
    has no public way; without it each such call would leak two descriptors)."""
    transport = getattr(process, "_transport", None)
    if transport is not None and process.returncode is not None:
        transport.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _result(code: int | None, out: HeadTail, err: HeadTail, timed_out: bool, timeout: float,
            detached: bool) -> ToolOutput:
    parts = []
    if timed_out:
        parts.append(f"The command did not finish within {timeout:g}s and was killed (with its "
                     "whole process group). Run long jobs with a larger timeout, or in the "
                     "background with their output redirected to a file.")
    parts.append(f"exit code: {code}")
    stdout, stderr = out.text(), err.text()
    parts.append(f"stdout:\n{stdout.rstrip()}" if stdout else "stdout: (empty)")
    if stderr:
        parts.append(f"stderr:\n{stderr.rstrip()}")
    if detached:
        parts.append("(a background process still holds the output open; its further output "
                     "is not shown — redirect it to a file to see it)")
    return ToolOutput("\n".join(parts), is_error=timed_out,
                      meta={"exit_code": code, "timed_out": timed_out})
