"""Fan-out on Ray: each task a Ray task (``runner.run_task_blocking``) with retries.

``ray.init()`` starts a local Ray when no address is given, else joins ``ray://…`` or
``auto``; Ray's dashboard and logging behave as Ray's own defaults say. At most
``in_flight`` tasks are submitted at once (the cluster's CPUs by default), so the batch
budget is checked before each new one and the results stream back with ``ray.wait``
and are written as they come. A worker that dies has its task re-run by Ray
(``max_retries``); the re-run replaces the dead attempt's copy of the repository.

On a cluster, every node must see the task's ``repo`` path (the copies are made where
the task runs) and have Joiner and its keys in its own environment: the batch never
ships API keys through Ray.
"""

from __future__ import annotations

import signal
import socket
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joiner.batch.progress import BatchProgress, Tally
from joiner.batch.results import ResultsFile
from joiner.batch.tasks import Task

MAX_RETRIES = 3  # re-runs after a worker dies
WAIT_S = 0.25

INSTALL_HINT = ("--ray needs Ray, which is not installed; install it with: "
                "pip install 'joiner[ray]'")


class RayMissing(Exception):
    pass


class RayStopped(Exception):
    """SIGINT or SIGTERM stopped the batch."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing(INSTALL_HINT) from None
    return ray


def connect(ray: Any, address: str | None) -> bool:
    """Join ``address`` (``auto``, ``ray://…``, host:port) or start a local Ray; False when
    this process was already connected (then it is not ours to shut down)."""
    if ray.is_initialized():
        return False
    ray.init(address=address or None, log_to_driver=False)
    return True


def _remote(ray: Any) -> Any:
    from joiner.batch.runner import run_task_blocking

    return ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(
        run_task_blocking)


def cluster_cpus(ray: Any) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_on_ray(ray: Any, tasks: list[Task], in_flight: int, batch_dir: Path,
               results: ResultsFile, tally: Tally, progress: BatchProgress,
               budget_spent: Callable[[], bool]) -> list[Task]:
    """Run ``tasks`` on the connected Ray; returns those never started (budget spent).

    Each worker makes its copies under its own machine's data dir, ``batch/<the name of
    batch_dir>`` (the same directory when Ray runs here); a worker on another machine
    removes a done task's copy itself (``runner.run_task_blocking``)."""
    remote = _remote(ray)
    here = socket.gethostname()
    queue = deque(tasks)
    pending: dict[Any, Task] = {}
    stopped = _StopOnSignal()
    try:
        while queue or pending:
            while queue and len(pending) < in_flight and not budget_spent() and not stopped.hit:
                task = queue.popleft()
                pending[remote.remote(task.to_dict(), batch_dir.name, here)] = task
                tally.start(task.id)
            progress.update()
            if stopped.hit:  # record what already finished, then stop the rest
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                for ref in ready:
                    _record(ray, ref, pending.pop(ref), results, tally, progress)
                _cancel(ray, pending, tally)
                raise RayStopped()
            if not pending:
                break
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
            for ref in ready:
                _record(ray, ref, pending.pop(ref), results, tally, progress)
        return list(queue)
    finally:
        stopped.restore()


def _record(ray: Any, ref: Any, task: Task, results: ResultsFile, tally: Tally,
            progress: BatchProgress) -> None:
    from joiner.batch.runner import result_line

    try:
        line = ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        tally.drop(task.id)
        return
    except ray.exceptions.RayError as err:  # retries used up: the worker kept dying
        line = result_line(task, None, "", None, f"the Ray task failed: {_first_line(err)}")
    if line is None:  # the run was interrupted inside the worker
        tally.drop(task.id)
        progress.note(f"joiner: task {task.id} was interrupted; it runs again next time")
        return
    results.append(line)
    tally.finish(task.id, line)
    progress.finished(line)


def _cancel(ray: Any, pending: dict[Any, Task], tally: Tally) -> None:
    """Stop the submitted tasks: their workers die, and with them their runs (SIGTERM)."""
    for ref, task in pending.items():
        try:
            ray.cancel(ref, force=True)
        except Exception:  # already finished or gone
            pass
        tally.drop(task.id)
    pending.clear()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class _StopOnSignal:
    """SIGINT/SIGTERM set ``hit`` (the loop then cancels) instead of raising mid-call."""

    def __init__(self) -> None:
        self.hit = False
        self._old = {sig: signal.signal(sig, self._set) for sig in (signal.SIGINT,
                                                                      signal.SIGTERM)}

    def _set(self, signum: int, frame: Any) -> None:
        self.hit = True

    def restore(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
