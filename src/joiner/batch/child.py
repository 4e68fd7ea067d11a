"""One task's run: a ``joiner -p - --output-format stream-json`` process in its workdir.

A process per task (rather than many sessions on one event loop) isolates what can
go wrong in a run: a crash in native code (the embedded model), a blocking call in a
tool or MCP server, memory growth; each run also gets its own working directory,
signal handling and MCP servers, exactly as a user's ``joiner -p`` would. The cost is
the interpreter's start-up per task (``benchmarks/bench_batch.py`` measures it).

The prompt goes on stdin (``-p -``): any length, and never mistaken for an option.
The child is in its own session, so a Ctrl+C in the terminal reaches only the batch,
which stops its children itself (SIGTERM: they record the interruption); on Linux
the child also gets SIGTERM if the batch process dies (``PR_SET_PDEATHSIG``), so a
killed batch leaves no orphan run behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joiner.batch.tasks import Task

LINE_LIMIT = 1 << 28  # a stream-json line holds whole tool outputs
STOP_GRACE_S = 10.0  # after SIGTERM, before SIGKILL
STDERR_KEPT = 8192  # characters of the child's stderr kept for an error message
PR_SET_PDEATHSIG = 1

OnEvent = Callable[[dict[str, Any]], None]


class Stopper:
    """Stops every run at once (SIGTERM: each records its interruption and ends), and no
    new run starts after it; runs that already ended are not affected."""

    def __init__(self) -> None:
        self.stopped = False
        self.procs: set[asyncio.subprocess.Process] = set()

    def stop(self) -> None:
        self.stopped = True
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)


@dataclass(slots=True)
class ChildOutcome:
    result: dict[str, Any] | None  # the contract's result object, when one was printed
    returncode: int
    stderr: str
    usage: dict[str, Any] | None = None  # the last running totals seen (for a crashed run)
    warnings: list[str] = field(default_factory=list)

    @property
    def failure(self) -> str:
        """One line saying why there is no result."""
        lines = [ln for ln in self.stderr.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else ""
        if self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            return f"the run was killed by {name}" + (f" ({last})" if last else "")
        return last.removeprefix("joiner: ") or f"the run exited with code {self.returncode}"


def child_command(task: Task) -> list[str]:
    """The ``joiner`` command line for a task (the prompt is sent on stdin)."""
    argv = [sys.executable, "-m", "joiner", "-p", "-", "--output-format", "stream-json",
            "--permission-mode", task.permission_mode]
    if task.model:
        argv += ["--model", task.model]
    if task.max_turns is not None:
        argv += ["--max-turns", str(task.max_turns)]
    if task.max_budget_usd is not None:
        argv += ["--max-budget-usd", repr(task.max_budget_usd)]
    return argv


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)

    return preexec


async def run_child(argv: list[str], cwd: Path, prompt: str, on_event: OnEvent | None = None,
                    env: dict[str, str] | None = None,
                    stopper: Stopper | None = None) -> ChildOutcome:
    """Run one headless joiner; ``on_event`` sees each stream-json event as it comes.

    Cancelling this coroutine stops the child (SIGTERM, then SIGKILL after a grace time);
    ``stopper.stop()`` asks it to stop and lets it finish (its result says interrupted)."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=str(cwd), env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=LINE_LIMIT,
        start_new_session=True, preexec_fn=_die_with_parent())
    if stopper is not None:
        stopper.procs.add(proc)
        if stopper.stopped:
            stopper.stop()
    try:
        return await _talk(proc, prompt, on_event)
    finally:
        if stopper is not None:
            stopper.procs.discard(proc)


async def _talk(proc: asyncio.subprocess.Process, prompt: str,
                on_event: OnEvent | None) -> ChildOutcome:
    outcome = ChildOutcome(None, 0, "")
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    err_task = asyncio.ensure_future(_read_stderr(proc.stderr, outcome))
    try:
        proc.stdin.write(prompt.encode("utf-8", errors="replace"))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await proc.stdin.drain()
        proc.stdin.close()
        await _read_events(proc.stdout, outcome, on_event)
        await err_task
        outcome.returncode = await proc.wait()
    except BaseException:
        err_task.cancel()
        await _stop(proc)
        raise
    return outcome


async def _read_events(stdout: asyncio.StreamReader, outcome: ChildOutcome,
                       on_event: OnEvent | None) -> None:
    while line := await stdout.readline():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("type") == "usage" and isinstance(event.get("totals"), dict):
            outcome.usage = event["totals"]
        elif event.get("type") == "result":
            outcome.result = {k: v for k, v in event.items() if k != "type"}
        if on_event is not None:
            on_event(event)


async def _read_stderr(stderr: asyncio.StreamReader, outcome: ChildOutcome) -> None:
    kept = ""
    while line := await stderr.readline():
        text = line.decode("utf-8", errors="replace")
        kept = (kept + text)[-STDERR_KEPT:]
        if text.startswith("joiner: ") and "resume with" not in text:
            outcome.warnings.append(text.strip())
    outcome.stderr = kept


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM (the run records the interruption), SIGKILL if it does not end in time."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.shield(asyncio.wait_for(proc.wait(), STOP_GRACE_S))
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(proc.wait())
