"""One tool call in the conversation: a compact, collapsible block.

Collapsed it is one line (state, tool, the short form of its arguments); expanded it
shows the arguments, the result (cut to a few dozen lines) and the diff of an edit.
"""

from __future__ import annotations

import json
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Collapsible, Static

from joiner.ui.workflow_model import parse_arguments, summarize_arguments

RESULT_LINES = 40
SHOWN_DURATION_MS = 1000  # quicker calls show no duration (the workflow panel has them all)
ICONS = {"queued": "·", "running": "…", "approval": "?", "done": "✓", "failed": "✗",
         "refused": "⊘", "interrupted": "⏹"}


def cut_lines(text: str, limit: int = RESULT_LINES) -> str:
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join(lines[:limit]) + f"\n… {len(lines) - limit} more lines"


def diff_renderable(diff: str) -> Syntax:
    return Syntax(cut_lines(diff, 200), "diff", theme="ansi_dark", word_wrap=True,
                  background_color="default")


def diff_stat(diff: str) -> str:
    """``+3 -1`` for a unified diff (file header lines not counted)."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return f"+{added} -{removed}"


def arguments_text(name: str, arguments: Any) -> str:
    args = parse_arguments(arguments)
    if isinstance(args, dict) and isinstance(args.get("command"), str) and len(args) <= 2:
        return "$ " + args["command"]
    if isinstance(args, dict | list):
        shown = {k: (v if not isinstance(v, str) or len(v) < 400 else v[:400] + "…")
                 for k, v in args.items()} if isinstance(args, dict) else args
        return json.dumps(shown, indent=2, ensure_ascii=False)
    return str(args)


class ToolBlock(Collapsible):
    """A tool call; ``finish`` fills in its result when the ``tool_result`` event arrives."""

    DEFAULT_CLASSES = "tool-block"

    def __init__(self, call_id: str, name: str, arguments: Any) -> None:
        self.call_id = call_id
        self.tool_name = name
        self.summary = summarize_arguments(name, arguments)
        self.state = "queued"
        self._arguments = Static(Text(arguments_text(name, arguments)), classes="tool-args")
        self._result = Static("", classes="tool-result")
        self._diff = Static("", classes="tool-diff")
        self._result.display = False
        self._diff.display = False
        super().__init__(self._arguments, self._result, self._diff,
                         title=self._heading(), collapsed=True)

    def _heading(self, extra: str = "") -> str:
        return f"{ICONS.get(self.state, '·')} {self.tool_name} {self.summary}{extra}"

    def set_state(self, state: str, extra: str = "") -> None:
        self.state = state
        self.set_class(state in ("failed", "refused", "interrupted"), "-problem")
        self.title = self._heading(extra)

    def finish(self, data: dict[str, Any]) -> None:
        message = data.get("message", {})
        if data.get("interrupted"):
            state = "interrupted"
        elif data.get("refused"):
            state = "refused"
        else:
            state = "failed" if message.get("is_error") else "done"
        duration = data.get("duration_ms")
        slow = isinstance(duration, int | float) and duration >= SHOWN_DURATION_MS
        extra = f"  {duration / 1000:.1f}s" if slow else ""  # type: ignore[operator]
        diff = data.get("diff")
        if isinstance(diff, str) and diff.strip():
            extra = f"  {diff_stat(diff)}{extra}"
        self.set_state(state, extra)
        text = str(message.get("text", ""))
        if text:
            self._result.update(Text(cut_lines(text)))
            self._result.display = True
        if isinstance(diff, str) and diff.strip():
            self._diff.update(diff_renderable(diff))
            self._diff.display = True
