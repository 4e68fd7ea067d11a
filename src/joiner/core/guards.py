"""Loop detection: the same tool calls with the same results, or the same answer, again and again.

A turn repeats the one before it when it makes the same tool calls (name and arguments, JSON
compared as values) and gets the same results, whatever the answer's text says; or when the
answer itself (text and calls) is the same, whatever the results. After ``warn_at`` such turns
in a row the model gets a note (appended to the turn's last tool result, recorded as a
``loop_note`` event so a resumed session sends it again); at ``stop_at`` the run stops.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from joiner.core.messages import Message

Verdict = Literal["ok", "warn", "stop"]
NOTE_PREFIX = "\n\n[joiner] "


def with_note(text: str, note: str) -> str:
    """A tool result's text with the guard's note added (the one place that formats it)."""
    return f"{text}{NOTE_PREFIX}{note}"


def _arguments_key(arguments: str) -> str:
    """Arguments as a canonical JSON text, so spacing and key order do not hide a repeat."""
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except ValueError:
        return arguments


class LoopGuard:
    """Warns the model after ``warn_at`` repeated turns in a row, stops the run at ``stop_at``."""

    def __init__(self, warn_at: int = 3, stop_at: int = 5) -> None:
        self.warn_at = warn_at
        self.stop_at = stop_at
        self._last: tuple[tuple, tuple] | None = None
        self._repeats = 0
        self.note = ("You have repeated the same step several times in a row (the same tool "
                     "calls with the same results, or the same answer). Do something different "
                     "or give your answer.")
        self.message = "Stopped: the model repeated the same step without progress."

    def observe(self, answer: Message, results: Sequence[Message]) -> Verdict:
        calls = tuple((c.name, _arguments_key(c.arguments)) for c in answer.tool_calls)
        step = (calls, tuple((r.text, r.is_error) for r in results))
        said = (answer.text.strip(), calls)
        last, self._last = self._last, (step, said)
        repeated = last is not None and (step == last[0] or said == last[1])
        self._repeats = self._repeats + 1 if repeated else 1
        if self._repeats >= self.stop_at:
            return "stop"
        if self._repeats == self.warn_at:
            return "warn"
        return "ok"
