"""Loop detection: the same tool call with the same result, or the same answer, again and again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from joiner.core.messages import Message

Verdict = Literal["ok", "warn", "stop"]


class LoopGuard:
    """Warns the model after ``warn_at`` identical turns in a row, stops the run at ``stop_at``."""

    def __init__(self, warn_at: int = 3, stop_at: int = 5) -> None:
        self.warn_at = warn_at
        self.stop_at = stop_at
        self._last: tuple | None = None
        self._repeats = 0
        self.note = ("You have made the same tool call with the same result several times in a "
                     "row. Do something different or give your answer.")
        self.message = "Stopped: the model repeated the same step without progress."

    def observe(self, answer: Message, results: Sequence[Message]) -> Verdict:
        key = (
            answer.text.strip(),
            tuple((c.name, c.arguments) for c in answer.tool_calls),
            tuple((r.text, r.is_error) for r in results),
        )
        self._repeats = self._repeats + 1 if key == self._last else 1
        self._last = key
        if self._repeats >= self.stop_at:
            return "stop"
        if self._repeats == self.warn_at:
            return "warn"
        return "ok"
