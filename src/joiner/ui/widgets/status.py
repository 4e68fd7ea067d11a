"""The header line: model, permission mode, workspace, session id, and what is happening."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import Static


def short_model(model: str, limit: int = 30) -> str:
    return model if len(model) <= limit else model[: limit // 2 - 1] + "…" + model[-(limit // 2):]


def short_path(path: str | Path, limit: int = 28) -> str:
    text = str(path)
    home = str(Path.home())
    if text == home or text.startswith(home + "/"):
        text = "~" + text[len(home):]
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


class StatusBar(Static):
    DEFAULT_CLASSES = "status-bar"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.model = "…"
        self.mode = "…"
        self.workspace = ""
        self.session_id: str | None = None
        self.activity = "starting"

    def set_session(self, model: str, mode: str, workspace: str | Path,
                    session_id: str | None) -> None:
        self.model, self.mode = model, mode
        self.workspace, self.session_id = str(workspace), session_id
        self.redraw()

    def set_activity(self, activity: str) -> None:
        self.activity = activity
        self.redraw()

    def redraw(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(" joiner ", "bold reverse")
        line.append(" ").append(short_model(self.model), "bold")
        line.append("  mode ", "dim").append(self.mode)
        line.append("  session ", "dim").append(self.session_id[:8] if self.session_id else "new")
        if self.activity:
            line.append(f"  {self.activity}", "italic")
        line.append("  ").append(short_path(self.workspace), "dim")
        self.update(line, layout=False)  # one line high whatever it says: no layout pass
