"""The local pool: up to N tasks at once on this machine, each a ``joiner -p`` process.

One asyncio loop starts tasks while fewer than N run and the batch budget is not
spent, and writes each result line the moment its task ends. SIGINT/SIGTERM stops the
runs (each records its interruption) and starts no new one; a run that had already
finished is still recorded, an interrupted one is not (a re-run does it again). A
second signal, or runs still going after a grace time, end them at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joiner.batch.child import STOP_GRACE_S, Stopper
from joiner.batch.progress import BatchProgress, Tally
from joiner.batch.results import ResultsFile
from joiner.batch.runner import TaskInterrupted, run_task
from joiner.batch.tasks import Task

Budget = Callable[[], bool]  # True once no new task may start


class BatchInterrupted(Exception):
    """SIGINT or SIGTERM stopped the batch."""


async def _run_one(task: Task, batch_dir: Path, tally: Tally, progress: BatchProgress,
                   stopper: Stopper) -> dict[str, Any]:
    def on_event(event: dict[str, Any]) -> None:
        tally.event(task.id, event)
        if event.get("type") == "usage":
            progress.update()

    return await run_task(task, batch_dir, on_event, on_warning=progress.note, stopper=stopper)


async def run_pool(tasks: list[Task], concurrency: int, batch_dir: Path, results: ResultsFile,
                   tally: Tally, progress: BatchProgress, budget_spent: Budget) -> list[Task]:
    """Run ``tasks``; returns those never started (the budget was spent).

    Raises ``BatchInterrupted`` after stopping the running tasks on SIGINT/SIGTERM."""
    queue = deque(tasks)
    running: dict[asyncio.Task[dict[str, Any]], Task] = {}
    loop = asyncio.get_running_loop()
    stopper = Stopper()
    signals = asyncio.Queue[int]()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signals.put_nowait, sig)
    signalled = asyncio.ensure_future(signals.get())
    try:
        while queue or running:
            while queue and len(running) < concurrency and not budget_spent():
                task = queue.popleft()
                tally.start(task.id)
                future = asyncio.ensure_future(_run_one(task, batch_dir, tally, progress,
                                                        stopper))
                running[future] = task
                progress.update()
            if not running:
                break  # budget spent: the rest is not started
            done, _ = await asyncio.wait([*running, signalled],
                                         return_when=asyncio.FIRST_COMPLETED)
            _record_done(done, running, results, tally, progress)
            if signalled.done():
                stopper.stop()
                await _wind_down(running, signals, results, tally, progress)
                raise BatchInterrupted()
        return list(queue)
    finally:
        signalled.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _record_done(done: set[asyncio.Future[Any]], running: dict[asyncio.Task[dict[str, Any]],
                 Task], results: ResultsFile, tally: Tally, progress: BatchProgress) -> None:
    for finished in done:
        if finished in running:
            task = running.pop(finished)  # type: ignore[arg-type]
            _record(finished, task, results, tally, progress)  # type: ignore[arg-type]


async def _wind_down(running: dict[asyncio.Task[dict[str, Any]], Task],
                     signals: asyncio.Queue[int], results: ResultsFile, tally: Tally,
                     progress: BatchProgress) -> None:
    """Let the stopped runs end and record those that had finished; a second signal, or
    the grace time, cancels the rest (their runs are killed)."""
    again = asyncio.ensure_future(signals.get())
    deadline = asyncio.get_running_loop().time() + STOP_GRACE_S + 5
    try:
        while running and not again.done():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            done, _ = await asyncio.wait([*running, again], timeout=left,
                                         return_when=asyncio.FIRST_COMPLETED)
            _record_done(done, running, results, tally, progress)
    finally:
        again.cancel()
    for future in running:
        future.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for task in running.values():
        tally.drop(task.id)
    running.clear()


def _record(finished: asyncio.Task[dict[str, Any]], task: Task, results: ResultsFile,
            tally: Tally, progress: BatchProgress) -> None:
    try:
        line = finished.result()
    except TaskInterrupted:
        tally.drop(task.id)
        progress.note(f"joiner: task {task.id} was interrupted; it runs again next time")
        progress.update()
        return
    results.append(line)
    tally.finish(task.id, line)
    progress.finished(line)
