"""The results file: one JSON line per finished task, durable as soon as it is written.

Each line is written with one ``write`` and then ``fsync``ed, so after a crash or a
``kill -9`` every recorded task is on disk and at most the line being written is cut.
Opening the file again drops such a cut last line (its task runs again) and reads the
ids already done, which a re-run skips. ``read_recorded`` reads another batch's file
without changing it (the sweep of old batches' copies, ``leftovers.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class Recorded:
    """What an existing results file already holds."""

    ids: set[str] = field(default_factory=set)
    cost_usd: float = 0.0  # spent by the recorded tasks (for the batch budget)
    tokens: int = 0
    failed: int = 0
    kept: set[str] = field(default_factory=set)  # ids whose copy is kept (``keeps_copy``)
    ignored_lines: list[int] = field(default_factory=list)  # not results (not JSON, no id)
    dropped_tail: bool = False  # a cut last line was removed


def task_key(value: Any) -> str:
    return str(value)


def keeps_copy(line: dict[str, Any]) -> bool:
    """Whether a recorded task's copy is kept for inspection: it failed, or its patch could
    not be taken (the copy then holds the only trace of its work). A done task's copy goes:
    its result line, patch included, is all a resume or a user needs."""
    if line.get("workdir") is None:
        return False  # no copy was made
    return bool(line.get("is_error")) or "patch_error" in line


def _tokens(usage: dict[str, Any]) -> int:
    return sum(int(usage.get(k) or 0) for k in ("input_tokens", "output_tokens",
                                                  "cache_read_tokens", "cache_write_tokens"))


class ResultsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        # called with each line once it is durable (the batch then removes a done task's copy)
        self.on_recorded: Callable[[dict[str, Any]], None] | None = None

    def load(self) -> Recorded:
        """The recorded results; a cut last line (no newline) is removed from the file."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Recorded()
        dropped = False
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with self.path.open("r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
            data = data[:keep]
            dropped = True
        recorded = _parse(data)
        recorded.dropped_tail = dropped
        return recorded

    def open(self) -> None:
        """Open (creating) the file for appending: OSError now rather than after a task."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if created:
                _fsync_dir(self.path.parent)

    def append(self, line: dict[str, Any]) -> None:
        """Write one result line and make it durable before returning."""
        self.open()
        assert self._fd is not None
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)
        if self.on_recorded is not None:
            self.on_recorded(line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_recorded(path: Path) -> Recorded:
    """What a results file holds, without changing it (a cut last line is not counted)."""
    try:
        data = path.read_bytes()
    except OSError:
        return Recorded()
    return _parse(data[: data.rfind(b"\n") + 1])


def _parse(data: bytes) -> Recorded:
    recorded = Recorded()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            recorded.ignored_lines.append(number)
            continue
        if not isinstance(line, dict) or line.get("id") is None:
            recorded.ignored_lines.append(number)
            continue
        recorded.ids.add(task_key(line["id"]))
        if keeps_copy(line):
            recorded.kept.add(task_key(line["id"]))
        usage = line.get("usage") if isinstance(line.get("usage"), dict) else {}
        recorded.cost_usd += float(usage.get("cost_usd") or 0.0)
        recorded.tokens += _tokens(usage)
        recorded.failed += bool(line.get("is_error"))
    return recorded


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
