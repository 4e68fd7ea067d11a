"""The prompt input: multi-line, Enter sends, Ctrl+J / Shift+Enter / Alt+Enter add a newline.

↑ on the first line and ↓ on the last walk the history of sent prompts; what was being
typed is kept as the newest entry, so nothing typed is lost by browsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter", "ctrl+enter"})


class PromptHistory:
    """Sent prompts, oldest first, and a cursor for browsing them."""

    def __init__(self, entries: list[str] | None = None, limit: int = 500) -> None:
        self.entries = list(entries or [])[-limit:]
        self.limit = limit
        self.index: int | None = None  # None: not browsing
        self.draft = ""

    def add(self, text: str) -> None:
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.limit]
        self.index = None

    def previous(self, current: str) -> str | None:
        if not self.entries:
            return None
        if self.index is None:
            self.draft = current
            self.index = len(self.entries)
        if self.index == 0:
            return None
        self.index -= 1
        return self.entries[self.index]

    def next(self) -> str | None:
        if self.index is None:
            return None
        self.index += 1
        if self.index >= len(self.entries):
            self.index = None
            return self.draft
        return self.entries[self.index]


class PromptInput(TextArea):
    """The text area at the bottom. Posts ``PromptInput.Submitted`` on Enter."""

    DEFAULT_CLASSES = "prompt-input"
    HELP: ClassVar[str] = "Enter sends · Ctrl+J newline · ↑/↓ history"

    @dataclass
    class Submitted(Message):
        input: PromptInput
        text: str

    def __init__(self, prompts: PromptHistory | None = None, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         highlight_cursor_line=False, compact=True, **kwargs)  # type: ignore[arg-type]
        self.prompts = prompts or PromptHistory()
        self.placeholder = "Ask Joiner…  (Enter sends, Ctrl+J newline, / for commands)"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)

    def submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        self.prompts.add(text)
        self.post_message(self.Submitted(self, text))

    def restore(self, text: str) -> None:
        """Put ``text`` back (a prompt that could not be sent) with the cursor at its end."""
        self.load_text(text)
        self.move_cursor(self.document.end)

    def _show_entry(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0:
            entry = self.prompts.previous(self.text)
            if entry is not None:
                self._show_entry(entry)
                return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        last_row = self.document.line_count - 1
        if not select and self.cursor_location[0] == last_row and self.prompts.index is not None:
            entry = self.prompts.next()
            if entry is not None:
                self._show_entry(entry)
                return
        super().action_cursor_down(select)
