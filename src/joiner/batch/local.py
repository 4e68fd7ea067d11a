"""The local pool: up to N tasks at once on this machine, each a ``joiner -p`` process.

One asyncio loop starts tasks while fewer than N run and the batch budget is not
spent, writes each result line the moment its task ends, and on SIGINT/SIGTERM stops
the running tasks (their runs record the interruption) without recording them, so a
re-run does them again.
"""

from __future__ import annotations

import asyncio
import signal
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joiner.batch.progress import BatchProgress, Tally
from joiner.batch.results import ResultsFile
from joiner.batch.runner import TaskInterrupted, run_task
from joiner.batch.tasks import Task

Budget = Callable[[], bool]  # True once no new task may start


class BatchInterrupted(Exception):
    """SIGINT or SIGTERM stopped the batch."""


async def _run_one(task: Task, batch_dir: Path, tally: Tally,
                   progress: BatchProgress) -> dict[str, Any]:
    def on_event(event: dict[str, Any]) -> None:
        tally.event(task.id, event)
        if event.get("type") == "usage":
            progress.update()

    return await run_task(task, batch_dir, on_event, on_warning=progress.note)


async def run_pool(tasks: list[Task], concurrency: int, batch_dir: Path, results: ResultsFile,
                   tally: Tally, progress: BatchProgress, budget_spent: Budget) -> list[Task]:
    """Run ``tasks``; returns those never started (the budget was spent).

    Raises ``BatchInterrupted`` after stopping the running tasks on SIGINT/SIGTERM."""
    queue = deque(tasks)
    running: dict[asyncio.Task[dict[str, Any]], Task] = {}
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while queue or running:
            while queue and len(running) < concurrency and not stop.is_set() \
                    and not budget_spent():
                task = queue.popleft()
                tally.start(task.id)
                running[asyncio.ensure_future(_run_one(task, batch_dir, tally, progress))] = task
                progress.update()
            if not running:
                break  # budget spent: the rest is not started
            done, _ = await asyncio.wait([*running, stopper],
                                         return_when=asyncio.FIRST_COMPLETED)
            for finished in done:
                if finished is not stopper:
                    task = running.pop(finished)  # type: ignore[arg-type]
                    _record(finished, task, results, tally, progress)
            if stop.is_set():
                await _cancel_all(running, tally)
                raise BatchInterrupted()
        return list(queue)
    finally:
        stopper.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


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


async def _cancel_all(running: dict[asyncio.Task[dict[str, Any]], Task], tally: Tally) -> None:
    """Stop every running task (each stops its run) and wait for them; none is recorded."""
    for future in running:
        future.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for task in running.values():
        tally.drop(task.id)
    running.clear()
