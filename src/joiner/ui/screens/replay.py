"""The timeline replay screen: a recorded session, one event at a time.

It shows the conversation, the token tracker and the workflow panel as they were at
each step, drawn by the same ``ViewSink`` as a live run. Space plays and pauses (at the
recorded pace, long pauses capped, times the speed), ←/→ step, +/- change the speed,
Home/End jump, Esc or q closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from joiner.core.events import Event
from joiner.ui.sink import ViewSink
from joiner.ui.widgets.conversation import Conversation
from joiner.ui.widgets.tracker import TokenTracker
from joiner.ui.widgets.workflow import WorkflowView
from joiner.ui.workflow_model import summarize_arguments

MAX_GAP = 2.0  # seconds of recorded silence shown at speed 1
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass
class Timeline:
    session_id: str
    events: list[Event]
    title: str = ""

    def offset(self, index: int) -> float:
        if not self.events:
            return 0.0
        return self.events[index].time - self.events[0].time


def load_timeline(store: Any, session_id: str) -> Timeline:
    """The session's durable events in order (``session_id`` may be a unique prefix)."""
    full_id = store.resolve(session_id)
    events = [e for e in store.events(full_id) if e.durable]
    title = ""
    try:
        title = str(store.get(full_id).get("title") or "")
    except Exception:
        pass
    return Timeline(full_id, events, title)


def event_summary(event: Event) -> str:
    d = event.data
    if event.type == "user_prompt":
        return str(d.get("message", {}).get("text", ""))
    if event.type == "assistant_message":
        message = d.get("message", {})
        calls = [c.get("name", "?") for c in message.get("tool_calls", [])]
        return str(message.get("text", "")) or ("calls " + ", ".join(calls))
    if event.type == "tool_call":
        return f"{d.get('name')} {summarize_arguments(d.get('name', ''), d.get('arguments'))}"
    if event.type == "tool_result":
        message = d.get("message", {})
        return f"{message.get('name')}: {message.get('text', '')}"
    if event.type == "usage":
        return f"in {d.get('input_tokens', 0)} out {d.get('output_tokens', 0)}"
    return str(d.get("message") or d.get("reason") or d.get("decision") or "")


class ReplayScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("right,l", "step(1)", "Step"),
        Binding("left,h", "step(-1)", "Back"),
        Binding("plus,equals_sign,up", "speed(1)", "Faster"),
        Binding("minus,down", "speed(-1)", "Slower"),
        Binding("home", "jump(0)", "Start", show=False),
        Binding("end", "jump(-1)", "End", show=False),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, timeline: Timeline, speed: float = 1.0) -> None:
        super().__init__()
        self.timeline = timeline
        self.speed = speed
        self.position = 0  # events applied
        self.playing = False
        self._timer: Timer | None = None
        self.header = Static("", id="replay-header")
        self.bar = Static("", id="replay-bar")
        self._build_views()

    def _build_views(self) -> None:
        self.conversation = Conversation(id="replay-conversation")
        self.workflow = WorkflowView(id="replay-workflow", clock=self._clock)
        self.tracker = TokenTracker(id="replay-tracker")
        self.sink = ViewSink(self.conversation, self.tracker, self.workflow, live=False)

    def _clock(self) -> float:
        if not self.position:
            return self.timeline.events[0].time if self.timeline.events else 0.0
        return self.timeline.events[self.position - 1].time

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="replay-main"):
            yield self.conversation
            yield self.workflow
        yield self.tracker
        yield self.bar
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()

    # -- moving -------------------------------------------------------------------------------
    def _apply_next(self) -> None:
        self.sink.emit(self.timeline.events[self.position])
        self.position += 1

    async def seek(self, target: int) -> None:
        target = max(0, min(len(self.timeline.events), target))
        if target < self.position:  # views only move forward: rebuild up to the target
            self.conversation.clear_all()
            self.workflow.reset()
            self.tracker.show_totals(None)
            self.tracker.requests = 0
            self.tracker.context_pct = None
            self.position = 0
        while self.position < target:
            self._apply_next()
        self.redraw()

    async def action_step(self, delta: int) -> None:
        self.pause()
        await self.seek(self.position + delta)

    async def action_jump(self, where: int) -> None:
        self.pause()
        await self.seek(len(self.timeline.events) if where < 0 else where)

    def action_speed(self, direction: int) -> None:
        faster = [s for s in SPEEDS if s > self.speed]
        slower = [s for s in SPEEDS if s < self.speed]
        if direction > 0 and faster:
            self.speed = faster[0]
        elif direction < 0 and slower:
            self.speed = slower[-1]
        self.redraw()

    def action_toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            if self.position >= len(self.timeline.events):
                self.call_later(self.seek, 0)
            self.playing = True
            self._schedule()
        self.redraw()

    def pause(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.redraw()

    def _delay(self) -> float:
        i = self.position
        if i == 0 or i >= len(self.timeline.events):
            return 0.05
        gap = self.timeline.events[i].time - self.timeline.events[i - 1].time
        return max(0.02, min(gap, MAX_GAP) / self.speed)

    def _schedule(self) -> None:
        self._timer = self.set_timer(self._delay(), self._play_tick)

    async def _play_tick(self) -> None:
        if not self.playing:
            return
        if self.position >= len(self.timeline.events):
            self.pause()
            return
        self._apply_next()
        self.redraw()
        self._schedule()

    def action_close(self) -> None:
        self.pause()
        self.dismiss(None)

    # -- drawing ------------------------------------------------------------------------------
    def redraw(self) -> None:
        total = len(self.timeline.events)
        state = "▶ playing" if self.playing else "⏸ paused"
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" replay ", "bold reverse").append(f" session {self.timeline.session_id[:8]}")
        if self.timeline.title:
            head.append(f"  {self.timeline.title}", "dim")
        self.header.update(head)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{state}  step {self.position}/{total}  ×{self.speed:g}", "bold")
        if self.position:
            event = self.timeline.events[self.position - 1]
            line.append(f"  +{self.timeline.offset(self.position - 1):.1f}s  ", "dim")
            line.append(event.type, "cyan").append("  " + " ".join(event_summary(event).split()))
        elif total == 0:
            line.append("  this session has no recorded events", "dim")
        self.bar.update(line)
