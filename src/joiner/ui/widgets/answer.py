"""An assistant answer: streamed in batches, drawn only where it is seen, Markdown at rest.

Text deltas are appended to a list and shown at most ``FLUSH_HZ`` times a second (``FAST_HZ``
while the stream outruns any reader: a frame of a tall terminal costs ~10 ms). The
answer is cut into segments (``Segmenter``), one block each (``answer_blocks``), and the
widget draws its lines itself (Textual's line API), so a frame costs what is on screen
whatever the length of the answer or of the conversation:

- a block gets lines only when it comes into view; until then it has an estimated height;
- while the stream is fast (more than ``FAST_CHARS`` new characters a frame) blocks in view
  are drawn as drafts (their plain text); a slow stream shows the growing segment as
  Markdown at once;
- a finished block becomes Markdown in slices of at most ``SLICE_S`` per turn of the event
  loop (the ones in view first), so no frame waits on a long code block's highlighting.

While it streams, the garbage collector's young passes run a few milliseconds after each of
its frames instead of inside them (``gc_policy.PassesAfterFrames``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from joiner.ui import gc_policy
from joiner.ui.answer_blocks import DRAFT, MARKDOWN, Block, Column, Drawing, Key
from joiner.ui.markdown_render import draft, lines, markdown
from joiner.ui.packed_lines import Line, unpack
from joiner.ui.segments import Segmenter
from joiner.ui.timers import call_after

FLUSH_HZ = 30
FAST_HZ = 6
FAST_CHARS = 160  # new characters in one frame above which the view shows drafts (~1,200 tok/s)
SYNC_CHARS = 1000  # a longer block (a long code block) becomes Markdown in slices only
SLICE_S = 0.004  # the longest one turn of the loop spends turning blocks into Markdown
SYNC_S = 0.003  # Markdown a batch draws at once for the view (past it: drafts, then slices)


class View(NamedTuple):
    """The rows of an answer in view, whether the view keeps to the end as it grows, and
    how many rows of the view are below the answer."""

    top: int
    bottom: int
    following: bool
    below: int


class AssistantMessage(Widget):
    """An answer; ``feed`` buffers deltas, a timer shows them in batches."""

    DEFAULT_CLASSES = "assistant-message"

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._segments = Segmenter()
        self._column = Column()
        self._pending: list[str] = [text] if text else []
        self._shown: list[str] = [text] if text else []  # everything fed, flushed or not
        self._scheduled = False
        self._ready = False
        self._done = bool(text)  # the answer is whole: every block ends as Markdown
        self._fast = False
        self._width = 0  # the content width of the last layout
        self._dark = True
        self._settling = False
        self._budget_until = 0.0
        self._layout_due = False  # blocks off screen changed height: lay out when convenient
        self._change_due = False  # a ``_changed`` is queued (blocks drawn during a frame)
        self._gc = gc_policy.PassesAfterFrames(self, lambda: self._done)
        self.flushes = 0  # how many batches the stream was shown in (the benchmark reads it)

    # -- text ---------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        if len(self._shown) > 1:
            self._shown[:] = ["".join(self._shown)]
        return self._shown[0] if self._shown else ""

    @property
    def source(self) -> str:
        """What the blocks show, joined (the text once every flush is done)."""
        return "".join(self._segments.closed) + self._segments.current

    @property
    def settled(self) -> bool:
        """The answer is whole and every block is drawn as Markdown at the current width."""
        key = self._key(MARKDOWN)
        return self._done and not self._pending and not self._column.stale and all(
            block.key == key for block in self._column.blocks)

    @property
    def unsettled(self) -> int:
        """How many blocks are not drawn as Markdown at the current width yet."""
        key = self._key(MARKDOWN)
        return sum(block.key != key for block in self._column.blocks)

    @property
    def settled_in_view(self) -> bool:
        """Like ``settled``, for the lines in view only: what the user sees is final."""
        view = self._view()
        if not self._done or self._pending or view is None or self._column.stale:
            return False
        key, blocks = self._key(MARKDOWN), self._column.blocks
        return all(blocks[i].key == key for i in self._column.span(view.top, view.bottom))

    def on_mount(self) -> None:
        self._ready = True
        self._dark = self.app.current_theme.dark
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        if self._pending:
            self.flush()

    def on_unmount(self) -> None:
        self._gc.release()

    def feed(self, text: str) -> None:
        self._pending.append(text)
        self._shown.append(text)
        if self._ready and not self._scheduled:
            self._scheduled = True
            call_after(self, 1 / (FAST_HZ if self._fast else FLUSH_HZ), self.flush)

    def complete(self, final_text: str) -> None:
        """The whole answer is known: make sure exactly it is shown, as Markdown."""
        if final_text and final_text != self.text:
            if final_text.startswith(self.text):
                rest = final_text[len(self.text):]
                self._pending.append(rest)
                self._shown.append(rest)
            else:  # a retried request streamed something else first
                self._pending[:] = [final_text]
                self._shown[:] = [final_text]
                self._segments = Segmenter()
                self._column = Column()
        self._done = True
        if self._ready:  # soon (a batch's timer may be 1/8 s away), not now: the agent's turn
            self._scheduled = True
            self.call_later(self.flush)

    # -- batches --------------------------------------------------------------------------------
    def flush(self) -> None:
        self._scheduled = False
        if self._pending:
            chunk = "".join(self._pending)
            self._pending.clear()
            self.flushes += 1
            self._fast = len(chunk) > FAST_CHARS and not self._done
            self._take(chunk)
        elif self._done and self._column.blocks:
            self._column.blocks[-1].closed = True
        self._draw_view()
        self._changed()
        self._settle_soon()
        self._gc.after_frame()

    def _take(self, chunk: str) -> None:
        """Feed the segmenter; a block whose text changed loses its lines."""
        segments = self._segments
        first = len(segments.closed)
        segments.feed(chunk)
        sources = segments.closed[first:]
        if segments.current:
            sources.append(segments.current)
        blocks = self._column.blocks
        del blocks[first + len(sources):]
        width = self._content_width()
        for offset, source in enumerate(sources):
            index = first + offset
            closed = index < len(segments.closed) or self._done
            if index == len(blocks):
                blocks.append(Block(source, closed))
                blocks[index].estimate(width)
            block = blocks[index]
            block.closed = closed
            if block.source != source:
                block.source = source
                block.estimate(width)

    # -- drawing ------------------------------------------------------------------------------
    def _content_width(self) -> int:
        parent = self.parent
        fallback = (parent.scrollable_content_region.width - self.styles.gutter.width
                    if isinstance(parent, Widget) else 0)
        return self._width or self.size.width or max(0, fallback)

    def _key(self, kind: str) -> Key:
        return (self._content_width(), self._dark, kind)

    def _view(self) -> View | None:
        """Where this answer is in the scroll view, from the last frame's visible widgets
        (Textual's own map after a scroll: asking for a widget's place in the whole
        conversation would lay every widget out again, ~50 ms in a long session)."""
        parent = self.parent
        if not isinstance(parent, Widget) or not self.is_attached or not self.size:
            return None  # not laid out yet: nothing is known to be in view
        following = getattr(parent, "following", None)
        if following is None:
            following = parent.is_vertical_scroll_end
        placed = self.screen._compositor.visible_widgets.get(self)
        if placed is None:
            return View(0, 0, following, 0)
        region, clip = placed
        shown = region.intersection(clip)
        top = shown.y - region.y
        return View(top, top + shown.height, following, max(0, clip.bottom - region.bottom))

    def _draw(self, block: Block, budget: float) -> bool:
        """Give ``block`` lines fit to show now, unless it has some for this width and theme:
        Markdown when cheap enough (a slow stream's growing segment; a short finished block
        while ``budget`` lasts), else a draft, which ``_settle`` turns into Markdown later.
        True if it was drawn."""
        width = self._content_width()
        if block.lines is not None and block.key is not None and block.key[:2] == (
                width, self._dark):
            return False
        short = len(block.source) <= SYNC_CHARS
        if block.closed:
            as_markdown = (self._done or not self._fast) and short and (
                time.perf_counter() < budget)
        else:
            as_markdown = not self._fast and short
        if as_markdown:
            drawn = list(self._markdown_lines(block, width))
        else:
            options = self.app.console_options.update(highlight=False, width=width, height=None)
            drawn = draft(self.app.console, options, block.source, self.visual_style.rich_style)
        block.set_lines((width, self._dark, MARKDOWN if as_markdown else DRAFT), drawn)
        return True

    def _draw_view(self) -> None:
        """Draw the blocks that will be in view at the next frame (none off screen)."""
        column, view = self._column, self._view()
        if view is None or not self._content_width():
            return  # ``render_line`` draws what the first frame shows
        # the frame that follows needs its time too; a whole answer's view is left to the
        # slices of ``_settle`` (it then shows in one frame)
        budget = time.perf_counter() + (0.0 if self._done else SYNC_S)
        if view.following:  # the view keeps to the end: fill it from the bottom up
            parent = self.parent
            assert isinstance(parent, Widget)
            rows = parent.scrollable_content_region.height - view.below
            for block in reversed(column.blocks):
                if rows <= 0:
                    break
                self._draw(block, budget)
                rows -= block.height + 1
        else:
            for index in column.span(view.top, view.bottom):
                self._draw(column.blocks[index], budget)

    def _changed(self) -> None:
        """Show the blocks as they are now at the next frame."""
        column = self._column
        column.reflow()
        self._layout_due = self._change_due = False
        if column.height != column.laid_height:
            self.refresh(layout=True)  # ``get_content_height`` takes the new layout
        else:
            column.lay_out()
            self.refresh()

    def _theme_changed(self, theme: Any) -> None:
        self._dark = theme.dark
        self._draw_view()
        self._changed()
        self._settle_soon()

    # -- turning blocks into Markdown, a slice at a time ---------------------------------------
    def _settle_soon(self) -> None:
        if not self._settling and self.is_attached:
            self._settling = True
            call_after(self, 0.001, self._settle)

    def _settle(self) -> None:
        """One slice of the finished blocks in view, bottom first; once all are drawn, the
        frame shows them (the drafts stay until then).
        The rest of a whole answer is the conversation's ``Settler``'s (or, outside a
        conversation, this answer's own, once nothing is left in view)."""
        self._settling = False
        view = self._view()
        if view is None or not self._content_width() or (self._fast and not self._done):
            return
        key, blocks = self._key(MARKDOWN), self._column.blocks
        shown = [blocks[i] for i in reversed(self._column.span(view.top, view.bottom))
                 if blocks[i].closed and blocks[i].key != key]
        deadline = time.perf_counter() + SLICE_S
        if self._advance(shown, deadline):
            self._layout_due = True
        if any(block.key != key for block in shown):
            self._settle_soon()  # the frame waits for the whole view: one frame, not one a slice
            return
        if self._layout_due:
            self._changed()
        if self._done and not self.settled:
            settler = getattr(self.parent, "settler", None)
            if settler is not None:
                settler.add(self)
            elif self.settle_offscreen(deadline):
                self.apply_layout()
            else:
                self._settle_soon()

    def _advance(self, blocks: list[Block], deadline: float) -> bool:
        """Draw ``blocks`` as Markdown until ``deadline``; True if one was finished."""
        key, drawn = self._key(MARKDOWN), False
        for block in blocks:
            if time.perf_counter() > deadline:
                break
            if block.drawing is None or block.drawing.key != key:
                block.drawing = Drawing(key, self._markdown_lines(block, key[0]))
            if block.drawing.advance(deadline):
                block.set_lines(key, block.drawing.done)
                drawn = True
        return drawn

    def settle_offscreen(self, deadline: float) -> bool:
        """Draw blocks as Markdown until ``deadline``, last first, leaving the layout for
        ``apply_layout``; True once every block is Markdown."""
        if not self.is_attached or not self._content_width():
            return True
        key = self._key(MARKDOWN)
        todo = [block for block in reversed(self._column.blocks) if block.key != key]
        if self._advance(todo, deadline):
            self._layout_due = True
        return all(block.key == key for block in todo)

    def apply_layout(self) -> None:
        if self._layout_due:
            self._changed()

    def _markdown_lines(self, block: Block, width: int) -> Iterator[Line]:
        """The block's final lines; past the first block, as the whole answer drawn at once
        would show them (one blank line between pieces: the separator's)."""
        options = self.app.console_options.update(highlight=False, width=width, height=None)
        blocks = self._column.blocks
        return lines(self.app.console, options, markdown(block.source, self._dark),
                     self.visual_style.rich_style, trim_top=bool(blocks) and block is not blocks[0])

    # -- Textual's side -----------------------------------------------------------------------
    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        """A new height comes from a layout that has placed this widget already; Textual
        would lay the screen out once more for it (one more frame per streamed batch)."""
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._width = width
            for block in self._column.blocks:
                if block.key is None or block.key[0] != width:
                    block.estimate(width)
            self._draw_view()
            self._settle_soon()
        before = self._column.laid_height
        if self._column.lay_out() and self._column.height == before:
            self.call_later(self.refresh)  # lines moved within the same height: draw them again
        self._layout_due = False
        return self._column.height

    def _frame_budget(self) -> float:
        """Until when ``render_line`` may draw Markdown: ``SLICE_S`` every frame or so
        (past it, drafts: ``_settle`` converts them next)."""
        now = time.perf_counter()
        if now > self._budget_until + 0.01:
            self._budget_until = now + SLICE_S
        return self._budget_until

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        found = self._column.line(y)
        if found is not None:
            block, row = found
            if block.lines is None or block.key is None or block.key[:2] != (width, self._dark):
                self._draw(block, self._frame_budget())  # scrolled into view: draw it now
                if not self._change_due:  # one for all the blocks this frame draws
                    self._change_due = True
                    self.call_later(self._changed)
                self._settle_soon()
            if block.lines is not None and row < len(block.lines):
                return Strip(unpack(block.lines[row]))
        return Strip.blank(width, self.visual_style.rich_style)
