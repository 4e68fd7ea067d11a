"""One task from start to result line: its own copy, its run, its patch.

The same coroutine runs a task in the local pool and inside a Ray worker.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joiner.batch.child import ChildOutcome, OnEvent, Stopper, child_command, run_child
from joiner.batch.results import keeps_copy
from joiner.batch.tasks import Task
from joiner.batch.workdir import (
    Workdir,
    WorkdirError,
    capture_patch,
    prepare_workdir,
    task_dir_name,
)

RESULT_KEYS = ("id", "session_id", "is_error", "result", "stop_reason", "usage",
               "files_modified", "patch", "workdir")
EMPTY_USAGE = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
               "cache_write_tokens": 0, "cost_usd": None}


class TaskInterrupted(Exception):
    """The task's run was interrupted: it is not recorded, so a re-run does it again."""


def result_line(task: Task, outcome: ChildOutcome | None, patch: str,
                workdir: Workdir | None, error: str | None = None) -> dict[str, Any]:
    """The results file's line for a task: the run's own result object (``joiner -p``'s
    JSON, built by ``headless.result_object``) plus the task id, patch and workdir."""
    result = outcome.result if outcome is not None else None
    if result is None:
        usage = (outcome.usage if outcome is not None and outcome.usage else None) or EMPTY_USAGE
        reason = error or (outcome.failure if outcome is not None else "the run did not start")
        result = {"session_id": None, "result": reason, "is_error": True, "num_turns": 0,
                  "usage": {k: usage.get(k, v) for k, v in EMPTY_USAGE.items()},
                  "files_modified": [], "stop_reason": "error", "model": task.model}
    line = {"id": task.id, **{k: result.get(k) for k in RESULT_KEYS[1:7]},
            "patch": patch, "workdir": None if workdir is None else str(workdir.cwd)}
    line["num_turns"] = result.get("num_turns", 0)
    line["model"] = result.get("model", task.model)
    line["host"] = socket.gethostname()  # where the workdir is (a Ray cluster has several machines)
    # whether the copy stays after the result is recorded (a done task's goes: reclaim.py)
    line["workdir_kept"] = keeps_copy(line)
    return line


async def run_task(task: Task, batch_dir: Path, on_event: OnEvent | None = None,
                   env: dict[str, str] | None = None,
                   on_warning: Callable[[str], None] | None = None,
                   stopper: Stopper | None = None) -> dict[str, Any]:
    """Copy the task's repo under ``batch_dir``, run the task there, return its result line.

    Raises ``TaskInterrupted`` when the run was interrupted (by us or a signal)."""
    try:
        workdir = await asyncio.to_thread(prepare_workdir, Path(task.repo),
                                          batch_dir / task_dir_name(task.id))
    except WorkdirError as err:
        return result_line(task, None, "", None, str(err))
    if stopper is not None and stopper.stopped:
        raise TaskInterrupted(task.id)
    outcome = await run_child(child_command(task), workdir.cwd, task.prompt, on_event, env,
                              stopper)
    for warning in outcome.warnings if on_warning is not None else ():
        on_warning(warning)
    if outcome.result is not None and outcome.result.get("stop_reason") == "interrupted":
        raise TaskInterrupted(task.id)
    if outcome.result is None and outcome.returncode in (130, -2, -15):
        raise TaskInterrupted(task.id)
    try:
        patch = await asyncio.to_thread(capture_patch, workdir)
    except WorkdirError as err:
        line = result_line(task, outcome, "", workdir)
        line["patch_error"] = str(err)
        line["workdir_kept"] = keeps_copy(line)
        return line
    return result_line(task, outcome, patch, workdir)


def run_task_blocking(task_data: dict[str, Any], batch_key: str,
                      driver_host: str | None = None) -> dict[str, Any] | None:
    """``run_task`` for a Ray worker: plain data in, the result line out (None: interrupted).

    The copy goes under the data dir of the machine the task runs on (``batch/KEY``). On
    the batch's own machine the batch removes a done task's copy once its line is on file;
    on another machine, which the batch cannot reach, the worker removes it here, with its
    patch in hand (a line lost with the batch would be run again anyway, in a fresh copy)."""
    from joiner.config import data_dir

    task = Task.from_dict(task_data)
    batch_dir = data_dir() / "batch" / batch_key
    try:
        line = asyncio.run(run_task(task, batch_dir))
    except TaskInterrupted:
        return None
    if driver_host not in (None, socket.gethostname()) and line["workdir"] is not None \
            and not line["workdir_kept"]:
        from joiner.batch.reclaim import remove_copy

        remove_copy(batch_dir / task_dir_name(task.id))
    return line
