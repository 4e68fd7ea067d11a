"""Reading ``TASKS.jsonl``: one task per line, each problem reported with its line number.

A line is ``{"id": "…", "repo": "…", "prompt": "…"}`` with optional ``model``,
``permission_mode`` (default ``accept-edits``), ``max_turns`` and ``max_budget_usd``.
Blank lines and lines starting with ``#`` are skipped. A malformed line is a
``Problem`` (line number and one-line reason) and the other lines still run.
A relative ``repo`` is taken from the directory of the tasks file, so a tasks file
means the same thing from wherever the batch is started.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PERMISSION_MODES = ("default", "accept-edits", "plan", "auto")
DEFAULT_PERMISSION_MODE = "accept-edits"
KNOWN_KEYS = frozenset({"id", "repo", "prompt", "model", "permission_mode", "max_turns",
                        "max_budget_usd"})


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    repo: str  # absolute path
    prompt: str
    model: str | None = None
    permission_mode: str = DEFAULT_PERMISSION_MODE
    max_turns: int | None = None
    max_budget_usd: float | None = None
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for sending a task to a Ray worker)."""
        return {"id": self.id, "repo": self.repo, "prompt": self.prompt, "model": self.model,
                "permission_mode": self.permission_mode, "max_turns": self.max_turns,
                "max_budget_usd": self.max_budget_usd, "line": self.line}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class TaskFile:
    tasks: list[Task] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # lines not run
    warnings: list[Problem] = field(default_factory=list)  # lines run anyway


class BadTask(ValueError):
    """One line cannot be a task; the message says why."""


def _text(data: dict[str, Any], key: str, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadTask(f'"{key}" is missing')
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadTask(f'"{key}" must be a non-empty string')
    return value


def _task_id(data: dict[str, Any]) -> str:
    value = data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        raise BadTask('"id" is missing')
    if not isinstance(value, str) or not value.strip():
        raise BadTask('"id" must be a non-empty string')
    return value


def _positive_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadTask(f'"{key}" must be a whole number of at least 1, not {value!r}')
    return value


def _budget(data: dict[str, Any]) -> float | None:
    value = data.get("max_budget_usd")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or value <= 0:
        raise BadTask(f'"max_budget_usd" must be a positive number of US dollars, not {value!r}')
    return float(value)


def load_line(text: str) -> dict[str, Any]:
    """The JSON object of one line; raises ``BadTask``."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise BadTask(f"not JSON ({err})") from None
    if not isinstance(data, dict):
        raise BadTask(f"a task must be a JSON object, not {type(data).__name__}")
    return data


def parse_task(data: dict[str, Any], line: int, base: Path) -> Task:
    """One line's object as a ``Task``; raises ``BadTask``."""
    task_id = _task_id(data)
    repo = _text(data, "repo", True)
    prompt = _text(data, "prompt", True)
    model = _text(data, "model", False)
    if model is not None and "/" not in model.strip("/"):
        raise BadTask(f'"model" must be PROVIDER/MODEL (e.g. openai/gpt-5), not {model!r}')
    mode = data.get("permission_mode", DEFAULT_PERMISSION_MODE)
    if mode not in PERMISSION_MODES:
        raise BadTask(f'"permission_mode" must be one of {", ".join(PERMISSION_MODES)}, '
                      f"not {mode!r}")
    assert repo is not None and prompt is not None
    return Task(task_id, str((base / Path(repo).expanduser()).absolute()), prompt, model, mode,
                _positive_int(data, "max_turns"), _budget(data), line)


def parse_tasks(text: str, base: Path) -> TaskFile:
    """Every line of a tasks file: the tasks in order, and the problems by line number.

    A repeated id is a problem on its later lines (ids key the results file)."""
    found = TaskFile()
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = load_line(stripped)
            task = parse_task(data, number, base)
        except BadTask as err:
            found.problems.append(Problem(number, str(err)))
            continue
        if task.id in seen:
            found.problems.append(Problem(number, f"id {task.id!r} was already used on line "
                                                  f"{seen[task.id]}; ids must be unique"))
            continue
        seen[task.id] = number
        unknown = sorted(set(data) - KNOWN_KEYS)
        if unknown:
            found.warnings.append(Problem(number, "ignored unknown keys: " + ", ".join(unknown)))
        found.tasks.append(task)
    return found


def read_tasks(path: Path) -> TaskFile:
    """``parse_tasks`` of a file; OSError and UnicodeDecodeError propagate."""
    return parse_tasks(path.read_text(encoding="utf-8"), path.parent.absolute())
