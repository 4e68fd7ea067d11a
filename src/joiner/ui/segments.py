"""Cutting a streamed Markdown answer into segments, so a frame redraws only the last one.

A segment closes at a blank line outside a code fence once it holds ``soft`` characters:
the cut is made when the next line arrives and starts a new block at the margin (not before
an indented line, which may continue a list item or be an indented code block, nor before a
list item, which may continue the list above: drawn apart, the pieces would not look as the
whole answer does). A code block longer than ``hard`` characters is cut too, its fence
closed at the end of one segment and reopened at the start of the next. Closed segments
never change again, so a 20,000-token answer costs the same per frame as a short one.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(?:\s|$)")  # may go on the list above it


class Segmenter:
    def __init__(self, soft: int = 500, hard: int = 4000) -> None:
        self.soft = soft
        self.hard = hard
        self.closed: list[str] = []
        self._open: list[str] = []  # complete lines of the open segment
        self._open_chars = 0
        self._partial = ""  # the last line, still being streamed
        self._fence: str | None = None  # the opening line of the fence we are inside
        self._fence_marker = ""
        self._cut = False  # a blank line ended a long enough segment: cut before a new block

    @property
    def current(self) -> str:
        """The open segment as it should be shown now (its unfinished last line included)."""
        return "".join(self._open) + self._partial

    def feed(self, text: str) -> None:
        if "\n" not in text:
            self._partial += text
            return
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line + "\n")

    def _line(self, line: str) -> None:
        blank = not line.strip()
        if self._cut and not blank:
            self._cut = False
            if not line[0].isspace() and not LIST_ITEM.match(line):
                self._close()
        self._open.append(line)
        self._open_chars += len(line)
        match = FENCE.match(line)
        if self._fence is None:
            if match:
                self._fence, self._fence_marker = line, match.group(1)
            elif blank and self._open_chars >= self.soft:
                self._cut = True
        elif match and set(stripped := line.strip()) == {self._fence_marker[0]} and len(
                stripped) >= len(self._fence_marker):
            self._fence = None
        elif self._open_chars >= self.hard:  # a huge code block: cut it, fence and all
            opening = self._fence
            self._open.append(self._fence_marker + "\n")
            self._close()
            self._open, self._open_chars = [opening], len(opening)

    def _close(self) -> None:
        self.closed.append("".join(self._open))
        self._open, self._open_chars = [], 0
