"""The conversation: prompts, streamed Markdown answers, tool blocks and calm notices.

Streaming appends: text deltas are buffered on the answer widget and flushed to its
Markdown at most ``FLUSH_HZ`` times a second, so a fast model costs a few dozen renders a
second whatever its token rate, and only the answer's last block is re-parsed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown, Static

from joiner.ui.widgets.tool_block import ToolBlock

FLUSH_HZ = 30


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


class AssistantMessage(Markdown):
    """An answer; ``feed`` buffers deltas, a timer appends them to the Markdown in batches."""

    DEFAULT_CLASSES = "assistant-message"

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._pending: list[str] = []
        self._scheduled = False
        self._ready = False
        self.flushes = 0  # how many appends the stream cost (the benchmark reads it)
        self._shown: list[str] = [text] if text else []  # everything fed, flushed or not

    @property
    def text(self) -> str:
        if len(self._shown) > 1:
            self._shown[:] = ["".join(self._shown)]
        return self._shown[0] if self._shown else ""

    def on_mount(self) -> None:
        self._ready = True
        if self._pending:
            self._schedule()

    def feed(self, text: str) -> None:
        self._pending.append(text)
        self._shown.append(text)
        if self._ready and not self._scheduled:
            self._schedule()

    def _schedule(self) -> None:
        self._scheduled = True
        self.set_timer(1 / FLUSH_HZ, self._flush)

    async def _flush(self) -> None:
        chunk = "".join(self._pending)
        self._pending.clear()
        if chunk:
            self.flushes += 1
            await self.append(chunk)
        self._scheduled = False
        if self._pending:
            self._schedule()

    def complete(self, final_text: str) -> None:
        """The whole answer is known: make sure exactly it is shown."""
        if final_text and final_text != self.text:
            if final_text.startswith(self.text):
                self.feed(final_text[len(self.text):])
            else:  # a retried request streamed something else first
                self._pending.clear()
                self._shown[:] = [final_text]
                self.update(final_text)


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
