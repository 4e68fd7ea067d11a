"""An answer as a column of blocks (one per segment) and where each block's lines sit.

A block is drawn lazily: until it is needed on screen it only has an estimated height;
then it is drawn as a draft (plain text, while its segment still grows or the stream is
too fast to format every piece) or as Markdown (its final look). A Markdown drawing can be
spread over several turns of the event loop (``Drawing``), so one long block never holds
the loop. Blocks are separated by one blank line, as Markdown separates its paragraphs.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterator

from joiner.ui.markdown_render import estimate_height
from joiner.ui.packed_lines import Line

DRAFT, MARKDOWN = "draft", "markdown"
Key = tuple[int, bool, str]  # (width, dark theme, DRAFT | MARKDOWN): what the lines were drawn for


class Block:
    __slots__ = ("closed", "drawing", "height", "key", "lines", "source")

    def __init__(self, source: str, closed: bool) -> None:
        self.source = source
        self.closed = closed  # the source is final
        self.lines: list[Line] | None = None
        self.key: Key | None = None
        self.height = 0
        self.drawing: Drawing | None = None  # a Markdown drawing under way

    def estimate(self, width: int) -> None:
        """Forget the lines (the width or the text changed) and guess the height."""
        self.lines, self.key, self.drawing = None, None, None
        self.height = estimate_height(self.source, width)

    def set_lines(self, key: Key, lines: list[Line]) -> None:
        self.lines, self.key, self.height, self.drawing = lines, key, len(lines), None

    @property
    def final(self) -> bool:
        return self.key is not None and self.key[2] == MARKDOWN


class Drawing:
    """A block's Markdown lines, produced a few at a time until ``advance`` says done."""

    def __init__(self, key: Key, lines: Iterator[Line]) -> None:
        self.key = key
        self._lines = lines
        self.done: list[Line] = []

    def advance(self, deadline: float) -> bool:
        clock, add = time.perf_counter, self.done.append
        for line in self._lines:
            add(line)
            if clock() > deadline:
                return False
        return True


class Column:
    """The blocks of one answer and the first line of each (one blank line between).

    Two views of the same blocks: ``starts``/``height`` as the blocks are now, and the
    layout Textual was last given (``lay_out``), which is what lines are drawn from. A block
    that changes off screen moves the lines below it only once Textual lays the answer out
    again, so a frame never shows half of one layout and half of the next.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.starts: list[int] = []
        self.height = 0
        self._laid_starts: list[int] = []
        self._laid_heights: list[int] = []
        self.laid_height = 0

    def reflow(self) -> None:
        """Recount where the blocks start now."""
        starts, y = [], 0
        for block in self.blocks:
            starts.append(y)
            y += block.height + 1
        self.starts, self.height = starts, max(0, y - 1)

    def lay_out(self) -> bool:
        """Draw from the blocks as they are now; True if a line moved."""
        self.reflow()
        heights = [block.height for block in self.blocks]
        moved = heights != self._laid_heights
        self._laid_starts, self._laid_heights = self.starts, heights
        self.laid_height = self.height
        return moved

    @property
    def stale(self) -> bool:
        """Blocks changed height since the last layout."""
        return len(self.blocks) != len(self._laid_heights) or any(
            block.height != laid for block, laid in zip(self.blocks, self._laid_heights,
                                                        strict=True))

    def line(self, y: int) -> tuple[Block, int] | None:
        """The block and row shown on line ``y`` of the last layout (None: a blank line)."""
        starts = self._laid_starts
        index = bisect_right(starts, y) - 1
        if index < 0 or index >= len(self.blocks):
            return None
        row = y - starts[index]
        return (self.blocks[index], row) if row < self._laid_heights[index] else None

    def span(self, top: int, bottom: int) -> range:
        """The indexes of the blocks with a line in rows ``top`` to ``bottom`` of the layout."""
        starts = self._laid_starts
        if not starts or bottom <= top:
            return range(0)
        first = max(0, bisect_right(starts, max(top, 0)) - 1)
        last = min(bisect_right(starts, bottom - 1), len(self.blocks))
        return range(first, max(first, last))
