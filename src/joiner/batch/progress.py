"""What a batch has done so far, and how it is shown on stderr.

``Tally`` counts tasks done, failed and running, and the tokens and dollars spent
(the results already on file, the finished tasks, and the running ones as their
``usage`` events arrive); the batch budget reads ``Tally.spent``. ``BatchProgress``
shows it as a Rich progress bar when stderr is a terminal, else as one line per
finished task (logs and CI stay readable).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from joiner.batch.results import Recorded

TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _tokens(usage: dict[str, Any] | None) -> int:
    return sum(int((usage or {}).get(k) or 0) for k in TOKEN_KINDS)


def _cost(usage: dict[str, Any] | None) -> float:
    return float((usage or {}).get("cost_usd") or 0.0)


class Tally:
    def __init__(self, total: int, recorded: Recorded | None = None) -> None:
        self.total = total  # tasks to run in this invocation
        self.done = 0
        self.failed = 0
        self.interrupted = 0
        self.running: dict[str, dict[str, Any] | None] = {}  # id -> its latest usage totals
        self.past_cost = recorded.cost_usd if recorded else 0.0
        self.past_tokens = recorded.tokens if recorded else 0
        self.finished_cost = 0.0
        self.finished_tokens = 0

    def start(self, task_id: str) -> None:
        self.running[task_id] = None

    def event(self, task_id: str, event: dict[str, Any]) -> None:
        if event.get("type") == "usage" and task_id in self.running:
            self.running[task_id] = event.get("totals")

    def finish(self, task_id: str, line: dict[str, Any]) -> None:
        self.running.pop(task_id, None)
        if line.get("is_error"):
            self.failed += 1
        else:
            self.done += 1
        self.finished_cost += _cost(line.get("usage"))
        self.finished_tokens += _tokens(line.get("usage"))

    def drop(self, task_id: str) -> None:
        """The task was interrupted: not counted, it runs again next time."""
        self.running.pop(task_id, None)
        self.interrupted += 1

    @property
    def spent(self) -> float:
        """Dollars spent by this batch: recorded, finished and running tasks."""
        live = sum(_cost(u) for u in self.running.values())
        return self.past_cost + self.finished_cost + live

    @property
    def tokens(self) -> int:
        live = sum(_tokens(u) for u in self.running.values())
        return self.past_tokens + self.finished_tokens + live

    def summary(self) -> str:
        return (f"{self.done} done · {self.failed} failed · {len(self.running)} running · "
                f"{self.tokens:,} tokens · ${self.spent:.4f}")


class BatchProgress:
    """``with BatchProgress(tally):`` … ``progress.update()`` after each change."""

    def __init__(self, tally: Tally, console: Console | None = None) -> None:
        self.tally = tally
        self.console = console or Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal
        self._seen_warnings: set[str] = set()
        self._progress: Progress | None = None
        self._bar: Any = None

    def __enter__(self) -> BatchProgress:
        if self.live:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=self.console,
                refresh_per_second=8)
            self._progress.__enter__()
            self._bar = self._progress.add_task("batch", total=self.tally.total,
                                                stats=self.tally.summary())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self.update()
            self._progress.__exit__(None, None, None)
            self._progress = None

    def update(self) -> None:
        if self._progress is not None:
            t = self.tally
            self._progress.update(self._bar, completed=t.done + t.failed, stats=t.summary())

    def finished(self, line: dict[str, Any]) -> None:
        """A task's result was recorded: one line when there is no live bar; a failed task's
        line (with where its copy is kept) also above the bar."""
        self.update()
        failed = bool(line.get("is_error"))
        if self.live and not failed:
            return
        t = self.tally
        status = "failed" if failed else "done"
        reason = f" ({line.get('stop_reason')}: {_one_line(line.get('result'))})" \
            if failed else ""
        kept = f" · copy kept: {line['workdir']}" if line.get("workdir_kept") else ""
        self.console.print(f"[{t.done + t.failed}/{t.total}] {line['id']} {status}{reason}"
                           f"{kept} · {t.summary()}", markup=False, soft_wrap=True)

    def note(self, text: str) -> None:
        """A message above the bar, each distinct one once."""
        if text in self._seen_warnings:
            return
        self._seen_warnings.add(text)
        self.console.print(text, markup=False, soft_wrap=True)


def _one_line(value: Any, limit: int = 120) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
