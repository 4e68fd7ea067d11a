"""The workflow panel: each prompt, model request and tool call with its state, live.

Drawn from a ``WorkflowModel``; redrawn at most a few times a second while something
runs (running durations tick), and once per change otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from joiner.core.events import Event
from joiner.ui.widgets.tracker import tokens
from joiner.ui.workflow_model import Step, WorkflowModel

STATE_STYLE = {
    "queued": ("·", "dim"), "running": ("…", "cyan"), "retrying": ("↻", "yellow"),
    "approval": ("?", "bold yellow"), "done": ("✓", "green"), "failed": ("✗", "red"),
    "refused": ("⊘", "yellow"), "interrupted": ("⏹", "yellow"),
}
SHOWN_STEPS = 300  # the newest steps; a very long session keeps its panel small
TICK = 0.25


def step_line(step: Step, now: float) -> Text:
    icon, style = STATE_STYLE.get(step.state, ("·", ""))
    line = Text("  " * step.depth)
    if step.kind == "prompt":
        return line.append("› ", "bold").append(step.label, "bold")
    line.append(f"{icon} ", style).append(step.label)
    line.append(f"  {step.state}", style)
    line.append(f"  {step.elapsed_ms(now) / 1000:.1f}s", "dim")
    if step.tokens is not None:
        line.append(f"  {tokens(step.tokens[0])}→{tokens(step.tokens[1])} tok", "dim")
    return line


def render_steps(steps: list[Step], now: float | None = None) -> Text:
    now = time.time() if now is None else now
    shown = steps[-SHOWN_STEPS:]
    text = Text(no_wrap=True, overflow="ellipsis")
    if len(steps) > len(shown):
        text.append(f"… {len(steps) - len(shown)} earlier steps\n", "dim")
    for i, step in enumerate(shown):
        if i:
            text.append("\n")
        text.append_text(step_line(step, now))
    if not steps:
        text.append("No run yet. Send a prompt to see its requests and tool calls here.", "dim")
    return text


class WorkflowView(VerticalScroll):
    """The toggled side panel."""

    DEFAULT_CLASSES = "workflow"

    def __init__(self, model: WorkflowModel | None = None,
                 clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model or WorkflowModel()
        self.clock = clock  # the replay screen's clock is the replayed event's time
        self.body = Static("", markup=False)
        self.border_title = "Workflow"
        self._dirty = True
        self._clock: Any = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield self.body

    def on_mount(self) -> None:
        self._clock = self.set_interval(TICK, self._tick, pause=False)
        self.redraw()

    def apply(self, event: Event) -> None:
        if self.model.apply(event) is not None:
            self._dirty = True
            self.call_later(self.redraw)

    def mark(self, call_id: str, state: str) -> None:
        step = (self.model.mark_running(call_id) if state == "running"
                else self.model.mark_approval(call_id))
        if step is not None:
            self._dirty = True
            self.call_later(self.redraw)

    def _tick(self) -> None:
        if self.display and (self._dirty or self.model.running()):
            self.redraw()

    def redraw(self) -> None:
        self._dirty = False
        if self.display:
            following = self.scroll_y >= self.max_scroll_y  # the newest step stays in view
            self.body.update(render_steps(self.model.steps, self.clock()))
            if following:
                self.call_after_refresh(self.scroll_end, animate=False)

    def reset(self, model: WorkflowModel | None = None) -> None:
        self.model = model or WorkflowModel()
        self.redraw()
