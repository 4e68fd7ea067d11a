"""The conversation: prompts, streamed Markdown answers, tool blocks and calm notices.

Streaming appends: text deltas are buffered on the answer widget (``widgets.answer``) and
shown at most ``FLUSH_HZ`` times a second; an answer draws only the lines in view.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

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

    def on_mount(self) -> None:
        self.anchor()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        """The layout that measured a new virtual size (an answer grew) has placed the
        children for it already; Textual would lay the whole screen out once more for it
        (one more frame per streamed batch). The scrollbars are still updated, and showing or
        hiding one still lays out again."""
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    @property
    def following(self) -> bool:
        """The view keeps to the end as content grows (the user has not scrolled away)."""
        return self.is_vertical_scroll_end or (self.is_anchored and not self._anchor_released)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            for answer in self._answers_in_view():
                answer.prepare()  # draw what comes into view before the frame shows it

    def _answers_in_view(self) -> list[AssistantMessage]:
        """The answers with a line in view: a binary search over the children's places, so a
        2,000-message conversation costs a dozen lookups per scroll step."""
        children = self.children
        top = round(self.scroll_y)
        bottom = top + self.scrollable_content_region.height
        low, high = 0, len(children)
        while low < high:  # the first child that ends below the top of the view
            middle = (low + high) // 2
            if children[middle].virtual_region_with_margin.bottom <= top:
                low = middle + 1
            else:
                high = middle
        found = []
        for child in children[low:]:
            if child.virtual_region_with_margin.y >= bottom:
                break
            if isinstance(child, AssistantMessage):
                found.append(child)
        return found

    def _add(self, widget: Widget) -> Widget:
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
        self.remove_children()
