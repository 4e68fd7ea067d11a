"""``joiner batch``: read the tasks, skip those already done, fan out, summarize.

The results file says what is done: a re-run of the same command skips every id
already in it (resume after a crash or Ctrl+C; nothing done twice, nothing lost).
Each task's copy lives under ``DATA_DIR/batch/<key>/`` where the key comes from
the results file's path, so a re-run finds (and replaces) an interrupted task's copy.

The batch budget counts what the tasks already in the results file cost, then each
task's spend as it goes; once it is reached no new task starts (running ones finish).

Disk (``reclaim.py``, ``leftovers.py``): a done task's copy is removed once its line is
durable; a failed task's copy is kept for inspection (its path is reported); the mirrors
go when every task is recorded; leftovers of this and older batches are swept as a run
starts. The summary says what was removed and what is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joiner.batch.leftovers import (
    RETENTION_DAYS,
    BatchBusy,
    BatchDirUnusable,
    drop_mirrors,
    holding,
    sweep_others,
    tidy,
)
from joiner.batch.local import BatchInterrupted, run_pool
from joiner.batch.progress import BatchProgress, Tally
from joiner.batch.ray_pool import RayStopped
from joiner.batch.reclaim import Reclaimer
from joiner.batch.results import Recorded, ResultsFile, keeps_copy, task_key
from joiner.batch.tasks import Task, TaskFile, read_tasks
from joiner.batch.workdir import task_dir_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class BatchError(Exception):
    """The batch cannot start; ``code`` is the exit code (2: bad usage)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class BatchOptions:
    tasks_path: Path
    output: Path | None = None  # default: TASKS.results.jsonl beside the tasks file
    concurrency: int | None = None  # default: the cores (local) or the cluster's CPUs (Ray)
    max_budget_usd: float | None = None
    ray: bool = False
    ray_address: str | None = None  # with ``ray``: None starts a local Ray


def default_output(tasks_path: Path) -> Path:
    return tasks_path.with_name(tasks_path.name.removesuffix(".jsonl") + ".results.jsonl")


def core_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def batch_dir_for(output: Path) -> Path:
    """Where the tasks' copies of this batch live (stable across re-runs)."""
    from joiner.config import data_dir

    key = hashlib.sha256(str(output.absolute()).encode()).hexdigest()[:12]
    return data_dir() / "batch" / key


def _load(options: BatchOptions) -> TaskFile:
    try:
        return read_tasks(options.tasks_path)
    except FileNotFoundError:
        raise BatchError(f"no tasks file {options.tasks_path}") from None
    except IsADirectoryError:
        raise BatchError(f"{options.tasks_path} is a directory, not a tasks file") from None
    except UnicodeDecodeError:
        raise BatchError(f"{options.tasks_path} is not UTF-8 text (one JSON task per line)") \
            from None
    except OSError as err:
        raise BatchError(f"cannot read {options.tasks_path}: {err.strerror}") from None


class Batch:
    """One invocation: ``Batch(options).run() -> exit code``; progress on stderr."""

    def __init__(self, options: BatchOptions) -> None:
        self.options = options
        self.output = options.output or default_output(options.tasks_path)
        self.results = ResultsFile(self.output)

    def run(self) -> int:
        if self.options.ray:
            from joiner.batch.ray_pool import import_ray

            import_ray()  # a missing extra is one line before anything starts
        found = _load(self.options)
        batch_dir = batch_dir_for(self.output)
        try:
            with holding(batch_dir, self.output, self.options.tasks_path):
                return self._run_held(found, batch_dir)
        except BatchBusy as err:
            raise BatchError(str(err)) from None
        except BatchDirUnusable as err:
            raise BatchError(str(err), EXIT_FAILED) from None

    def _run_held(self, found: TaskFile, batch_dir: Path) -> int:
        name = self.options.tasks_path.name
        recorded = self._recorded()
        todo = [t for t in found.tasks if task_key(t.id) not in recorded.ids]
        tally = Tally(len(todo), recorded)
        progress = BatchProgress(tally)
        for problem in found.problems:
            progress.note(f"joiner: {name}:{problem.line}: {problem.message} (not run)")
        for warning in found.warnings:
            progress.note(f"joiner: {name}:{warning.line}: {warning.message}")
        if not found.tasks and found.problems:
            self.results.close()
            raise BatchError(f"{name} has no valid task (see the lines above)")
        skipped = len(found.tasks) - len(todo)
        if skipped:
            progress.note(f"joiner: {skipped} of {len(found.tasks)} tasks already in "
                          f"{self.output}: skipped")
        budget = self.options.max_budget_usd

        def spent() -> bool:
            return budget is not None and tally.spent >= budget

        disk = _Disk(batch_dir, recorded)
        self.results.on_recorded = disk.recorded
        try:
            with progress:
                left = self._fan_out(todo, batch_dir, tally, progress, spent)
        except (BatchInterrupted, RayStopped) as stop:
            disk.finish(complete=False, runs_ended=isinstance(stop, BatchInterrupted))
            progress.note(f"joiner: interrupted: {tally.done + tally.failed} results written "
                          f"to {self.output}; run the same command again to do the other "
                          f"{len(todo) - tally.done - tally.failed}")
            return EXIT_INTERRUPTED
        finally:
            self.results.close()
            disk.reclaimer.close()  # the removals already given end, whatever happened
        complete = not left and all(task_key(t.id) in disk.ids for t in found.tasks)
        disk.finish(complete=complete, runs_ended=True)
        return self._summary(progress, tally, found, left, skipped, disk)

    def _recorded(self) -> Recorded:
        try:
            recorded = self.results.load()
            self.results.open()
        except IsADirectoryError:
            raise BatchError(f"--output {self.output} is a directory") from None
        except OSError as err:
            raise BatchError(f"cannot write the results to {self.output}: {err.strerror}") \
                from None
        return recorded

    def _fan_out(self, todo: list[Task], batch_dir: Path, tally: Tally, progress: BatchProgress,
                 spent: Callable[[], bool]) -> list[Task]:
        if self.options.ray:
            from joiner.batch.ray_pool import cluster_cpus, connect, import_ray, run_on_ray

            ray = import_ray()
            ours = connect(ray, self.options.ray_address)
            try:
                in_flight = self.options.concurrency or cluster_cpus(ray)
                return run_on_ray(ray, todo, in_flight, batch_dir, self.results, tally,
                                  progress, spent)
            finally:
                if ours:
                    ray.shutdown()
        concurrency = self.options.concurrency or core_count()
        return asyncio.run(run_pool(todo, concurrency, batch_dir, self.results, tally, progress,
                                    spent))

    def _summary(self, progress: BatchProgress, tally: Tally, found: TaskFile, left: list[Task],
                 skipped: int, disk: _Disk) -> int:
        if left:
            progress.note(f"joiner: batch budget ${self.options.max_budget_usd:g} reached "
                          f"(${tally.spent:.4f} spent): {len(left)} tasks not started; raise "
                          "--max-budget-usd and run the same command again to do them")
        progress.note(f"joiner: batch: {tally.done} done, {tally.failed} failed"
                      + (f", {skipped} already done" if skipped else "")
                      + (f", {len(found.problems)} malformed lines" if found.problems else "")
                      + f" · {tally.tokens:,} tokens · ${tally.spent:.4f} · results in "
                      f"{self.output}")
        if (line := disk.summary(self.output)) is not None:
            progress.note(line)
        failed = tally.failed or left or found.problems or tally.interrupted
        return EXIT_FAILED if failed else EXIT_OK


class _Disk:
    """The batch's copies on disk: removed as results are recorded, swept, summarized."""

    def __init__(self, batch_dir: Path, recorded: Recorded) -> None:
        import socket

        self.batch_dir = batch_dir
        self.host = socket.gethostname()
        self.ids = set(recorded.ids)
        self.kept = set(recorded.kept)
        self.reclaimer = Reclaimer()
        self.swept = tidy(batch_dir, self.kept)  # what an earlier run of this batch left
        self.others = sweep_others(batch_dir.parent, batch_dir)

    def recorded(self, line: dict[str, Any]) -> None:
        """A result line is durable: remove the task's copy unless the policy keeps it."""
        key = task_key(line["id"])
        self.ids.add(key)
        if keeps_copy(line):
            self.kept.add(key)
        elif line.get("workdir") is not None and line.get("host") in (None, self.host):
            self.reclaimer.discard(self.batch_dir / task_dir_name(str(line["id"])))

    def finish(self, complete: bool, runs_ended: bool) -> None:
        """After the tasks: wait for the removals; with no run left, remove the copies of
        unrecorded tasks (interrupted: a re-run makes fresh ones); the mirrors once every
        task is recorded (but those a kept copy borrows from)."""
        self.reclaimer.close()
        if runs_ended:
            self.swept.add(tidy(self.batch_dir, self.kept))
        if complete:
            self.swept.add(drop_mirrors(self.batch_dir))

    def summary(self, output: Path) -> str | None:
        """One line on what the batch removed and kept (None: nothing to say)."""
        freed = self.reclaimer.freed + self.swept.freed
        mirrors = self.swept.mirrors
        removed = [text for count, text in (
            (self.reclaimer.removed, f"{self.reclaimer.removed} done tasks' copies"),
            (self.swept.copies, f"{self.swept.copies} cop{'y' if self.swept.copies == 1 else 'ies'}"
                                f" an earlier run left"),
            (mirrors, f"{mirrors} repository mirror{'s' * (mirrors != 1)}")) if count]
        parts = [f"removed {', '.join(removed)} ({_size(freed)} freed)"] if removed else []
        kept = sorted(p for i in self.kept
                      if (p := self.batch_dir / task_dir_name(i)).is_dir())
        if kept:
            where = (f"the failed task's copy is kept for inspection: {kept[0]}" if len(kept) == 1
                     else f"the {len(kept)} failed tasks' copies are kept for inspection under "
                          f"{self.batch_dir} (each one's \"workdir\" in {output.name})")
            parts.append(f"{where}; removed after {RETENTION_DAYS} days, or by the next batch "
                         f"once {output.name} is gone")
        if self.others.batches or self.others.copies:
            parts.append(f"leftovers of older batches removed: {self.others.batches} whole, "
                         f"{self.others.copies} copies ({_size(self.others.freed)})")
        return "joiner: disk: " + "; ".join(parts) if parts else None


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
