"""A yes/no modal over a diff: undo and redo show what they would change before doing it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from joiner.ui.widgets.tool_block import diff_renderable


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Apply", priority=True),
        Binding("n,escape", "answer(False)", "Cancel", priority=True),
    ]

    def __init__(self, title: str, question: str, diff: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = self.title_text
            with VerticalScroll(id="confirm-body"):
                yield Static(diff_renderable(self.diff) if self.diff.strip()
                             else Text("(no textual changes)", "dim"))
            yield Static(Text(self.question, "bold"), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Apply (y)", id="yes", variant="primary", compact=True)
                yield Button("Cancel (n)", id="no", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
