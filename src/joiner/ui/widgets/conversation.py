"""The conversation: prompts, streamed Markdown answers, tool blocks and calm notices.

Streaming appends: text deltas are buffered on the answer widget (``widgets.answer``) and
shown at most ``FLUSH_HZ`` times a second; an answer draws only the lines in view.
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

from joiner.ui.settler import Settler
from joiner.ui.timers import Pending, call_after
from joiner.ui.widgets.answer import AssistantMessage
from joiner.ui.widgets.tool_block import ToolBlock

__all__ = ["AssistantMessage", "Conversation", "Notice", "UserMessage"]


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
        self._batch: list[Widget] | None = None

    def on_mount(self) -> None:
        self.anchor()

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
        self.remove_children()
