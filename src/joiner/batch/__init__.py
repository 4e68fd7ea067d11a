"""Batch runs: many headless tasks, each in an isolated copy of its repository.

Public API (the CLI's ``joiner batch`` uses these names):
- ``BatchOptions`` and ``Batch(options).run() -> exit code`` (``run.py``);
- ``read_tasks(path) -> TaskFile`` / ``parse_tasks(text, base)`` (``tasks.py``);
- ``prepare_workdir(repo, dest)`` / ``capture_patch(workdir)`` (``workdir.py``).

Rooms: this package sits beside ``runtime``; a task runs as a ``joiner -p`` process,
so it shares no state with the batch (see ``child.py`` for why).
"""

from joiner.batch.run import Batch, BatchError, BatchOptions
from joiner.batch.tasks import Task, TaskFile, parse_tasks, read_tasks
from joiner.batch.workdir import Workdir, WorkdirError, capture_patch, prepare_workdir

__all__ = [
    "Batch",
    "BatchError",
    "BatchOptions",
    "Task",
    "TaskFile",
    "Workdir",
    "WorkdirError",
    "capture_patch",
    "parse_tasks",
    "prepare_workdir",
    "read_tasks",
]
