"""The conversation: prompts, streamed Markdown answers, tool blocks and calm notices.

Streaming appends: text deltas are buffered on the answer widget (``widgets.answer``) and
shown at most ``FLUSH_HZ`` times a second; an answer draws only the lines in view. In a long
conversation the far history is folded away (``ui.history_fold``), so a layout (one per
streamed batch) walks about as many widgets as in a short one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from joiner.ui.history_fold import KEEP, HistoryFold
from joiner.ui.settler import Settler
from joiner.ui.timers import Pending, call_after
from joiner.ui.widgets.answer import AssistantMessage
from joiner.ui.widgets.tool_block import ToolBlock

__all__ = ["AssistantMessage", "Conversation", "Notice", "UserMessage"]

FOLD_DELAY_S = 0.5  # at the end this long, quiet, and the far history is folded again


class UserMessage(Static):
    DEFAULT_CLASSES = "user-message"

    def __init__(self, text: str) -> None:
        super().__init__(Text(text), markup=False)
        self.text = text


class Notice(Static):
    """A one-line (or few-line) note: info, warning or error — visible, never shouting."""

    def __init__(self, text: str, level: str = "info") -> None:
        icon = {"error": "✗ ", "warning": "! ", "info": "· "}.get(level, "")
        super().__init__(Text(icon + text), classes=f"notice -{level}", markup=False)
        self.text = text
        self.level = level


class Conversation(VerticalScroll):
    """The scrolling conversation. Event handlers in ``ui.sink`` call these methods."""

    DEFAULT_CLASSES = "conversation"
    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer: AssistantMessage | None = None
        self.tools: dict[str, ToolBlock] = {}
        self.settler = Settler(self)  # answers out of view become Markdown in the background
        self.fold = HistoryFold(self)
        self._batch: list[Widget] | None = None
        self._fold_due = False
        self._folded_width = 0

    def on_mount(self) -> None:
        self.anchor()
        self.app.theme_changed_signal.subscribe(self, lambda theme: self.fold.unfold_all())

    def on_resize(self) -> None:
        if self.fold.folded and self.size.width != self._folded_width:
            self.fold.unfold_all()  # the heights measured were for the old width

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.fold.unfold_to(new_value)
        if new_value >= self.max_scroll_y and len(self.children) > 2 * KEEP:
            self.fold_soon()  # back at the end: fold what was unfolded, once it is quiet

    def fold_soon(self, delay: float = FOLD_DELAY_S) -> None:
        """Fold the far history once the view has stayed at the end a while."""
        if not self._fold_due:
            self._fold_due = True
            self.call_after(delay, self._fold_if_quiet)

    def _fold_if_quiet(self) -> None:
        self._fold_due = False
        if self.following and not self.streaming and self._batch is None:
            self._fold()

    def _fold(self) -> None:
        if self.fold.fold():
            self._folded_width = self.size.width

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        """The layout that measured a new virtual size (an answer grew) has placed the
        children for it already; Textual would lay the whole screen out once more for it
        (one more frame per streamed batch). The scrollbars are still updated, and showing or
        hiding one still lays out again."""
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def call_after(self, delay: float, callback: Any) -> Pending:
        """``callback`` on this widget's queue after ``delay`` seconds (``ui.timers``)."""
        return call_after(self, delay, callback)

    @property
    def streaming(self) -> bool:
        return self.answer is not None

    @property
    def following(self) -> bool:
        """The view keeps to the end as content grows (the user has not scrolled away)."""
        return self.is_vertical_scroll_end or (self.is_anchored and not self._anchor_released)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Mount what is added inside at once: mounting one by one walks every child each
        time (a 2,000-message history took seconds of it)."""
        self._batch = []
        try:
            yield
        finally:
            widgets, self._batch = self._batch, None
            if widgets:
                self.mount_all(widgets)

    def _add(self, widget: Widget) -> Widget:
        if self._batch is not None:
            self._batch.append(widget)
        else:
            self.mount(widget)
        return widget

    def add_user(self, text: str) -> UserMessage:
        self.end_answer()
        if self._batch is None:
            self._fold()  # before the prompt is mounted: its layout then skips the far history
        self.anchor()  # a new prompt brings the view back to the bottom
        return self._add(UserMessage(text))  # type: ignore[return-value]

    def add_notice(self, text: str, level: str = "info") -> Notice:
        return self._add(Notice(text, level))  # type: ignore[return-value]

    def feed(self, text: str) -> None:
        if self.answer is None:
            self.answer = AssistantMessage()
            self._add(self.answer)
        self.answer.feed(text)

    def end_answer(self, final_text: str = "") -> AssistantMessage | None:
        """The current answer is complete (or was cut); the next delta starts a new one."""
        answer = self.answer
        if answer is None and final_text.strip():
            answer = AssistantMessage(final_text)
            self._add(answer)
        elif answer is not None:
            answer.complete(final_text)
        self.answer = None
        return answer

    def add_tool_call(self, call_id: str, name: str, arguments: Any) -> ToolBlock:
        self.end_answer()
        block = ToolBlock(call_id, name, arguments)
        self.tools[call_id] = block
        self._add(block)
        return block

    def tool(self, call_id: str | None) -> ToolBlock | None:
        return self.tools.get(str(call_id))

    def clear_all(self) -> None:
        self.answer = None
        self.tools.clear()
        self.settler.clear()
        self.fold.clear()
        self.remove_children()
