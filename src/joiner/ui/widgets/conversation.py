"""The conversation: prompts, streamed Markdown answers, tool blocks and calm notices.

Streaming appends: text deltas are buffered on the answer widget and shown at most
``FLUSH_HZ`` times a second, so a fast model costs a few dozen renders a second whatever
its token rate; and only the answer's last segment (a few lines) is re-rendered.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from joiner.ui.markdown_render import AnswerMarkdown, RenderedOnce
from joiner.ui.segments import Segmenter
from joiner.ui.widgets.tool_block import ToolBlock

FLUSH_HZ = 30
FRAME_CHARS = 2000  # the most text one frame renders (~10 ms); a backlog drains at 60 Hz


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


class MarkdownSegment(Static):
    """A piece of an answer, drawn by Rich's Markdown (code highlighted)."""

    DEFAULT_CLASSES = "md-segment"

    def __init__(self) -> None:
        super().__init__("")
        self.source = ""
        self._version = 0
        self._height: tuple[tuple[int, int], int] | None = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """Measured once per text and width: Textual clears its own cache whenever a
        sibling is mounted, and measuring means rendering the whole Markdown again."""
        key = (self._version, width)
        if self._height is None or self._height[0] != key:
            self._height = (key, super().get_content_height(container, viewport, width))
        return self._height[1]

    def show(self, source: str) -> None:
        if source != self.source:
            self.source = source
            self._version += 1
            dark = self.app.current_theme.dark if self.is_attached else True
            self.update(RenderedOnce(AnswerMarkdown(
                source, code_theme="monokai" if dark else "default", inline_code_lexer="text",
                hyperlinks=False)))


class AssistantMessage(Vertical):
    """An answer; ``feed`` buffers deltas, a timer shows them in batches.

    The text is cut into segments (``Segmenter``): a flush re-renders only the open
    segment, so the cost of a frame does not grow with the answer.
    """

    DEFAULT_CLASSES = "assistant-message"

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._segments = Segmenter()
        self._widgets: list[MarkdownSegment] = []
        self._pending: list[str] = [text] if text else []
        self._shown: list[str] = [text] if text else []  # everything fed, flushed or not
        self._scheduled = False
        self._ready = False
        self.flushes = 0  # how many renders the stream cost (the benchmark reads it)

    @property
    def text(self) -> str:
        if len(self._shown) > 1:
            self._shown[:] = ["".join(self._shown)]
        return self._shown[0] if self._shown else ""

    @property
    def source(self) -> str:
        """What the segments show, joined (the text once every flush is done)."""
        return "".join(self._segments.closed) + self._segments.current

    def on_mount(self) -> None:
        self._ready = True
        if self._pending:
            self.flush()

    def feed(self, text: str) -> None:
        self._pending.append(text)
        self._shown.append(text)
        if self._ready and not self._scheduled:
            self._scheduled = True
            self.set_timer(1 / FLUSH_HZ, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        chunk = "".join(self._pending)
        self._pending.clear()
        if len(chunk) > FRAME_CHARS:  # a backlog: draw a frame's worth now, the rest soon
            chunk, rest = chunk[:FRAME_CHARS], chunk[FRAME_CHARS:]
            self._pending.append(rest)
            self._scheduled = True
            self.set_timer(1 / 60, self.flush)
        self.flushes += 1
        done = len(self._segments.closed)
        self._segments.feed(chunk)
        closed = self._segments.closed
        for index in range(done, len(closed)):
            self._segment(index).show(closed[index])
        self._segment(len(closed)).show(self._segments.current)

    def _segment(self, index: int) -> MarkdownSegment:
        while len(self._widgets) <= index:
            widget = MarkdownSegment()
            self._widgets.append(widget)
            self.mount(widget)
        return self._widgets[index]

    def complete(self, final_text: str) -> None:
        """The whole answer is known: make sure exactly it is shown."""
        if final_text and final_text != self.text:
            if final_text.startswith(self.text):
                self.feed(final_text[len(self.text):])
            else:  # a retried request streamed something else first
                self._pending[:] = [final_text]
                self._shown[:] = [final_text]
                self._segments = Segmenter()
                for widget in self._widgets:
                    widget.remove()
                self._widgets.clear()
                if self._ready:
                    self.flush()


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
