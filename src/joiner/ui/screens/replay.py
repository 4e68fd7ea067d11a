"""The timeline replay screen: a recorded session, one event at a time.

Built on the sessions' replay engine (``joiner.sessions.replay.Replay``: the cursor,
the files' state, the one-line summaries). It shows the conversation, the token tracker,
the workflow panel and the files as they were at each step, drawn by the same
``ViewSink`` as a live run. Space plays and pauses (the recorded pace, long pauses capped,
times the speed), ←/→ step, +/- change the speed, Home/End jump, Esc or q closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from joiner.core.events import Event
from joiner.sessions.replay import Replay
from joiner.ui.gc_policy import thaw
from joiner.ui.sink import ViewSink
from joiner.ui.timers import Pending, call_after
from joiner.ui.widgets.conversation import Conversation
from joiner.ui.widgets.tracker import TokenTracker
from joiner.ui.widgets.workflow import WorkflowView

MAX_GAP = 2.0  # seconds of recorded silence shown at speed 1
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass
class Timeline:
    """A recorded session and the replay engine's cursor over its events."""

    session_id: str
    engine: Replay
    title: str = ""

    @property
    def events(self) -> list[Event]:
        return self.engine.events


def load_timeline(store: Any, session_id: str) -> Timeline:
    """The session's events (``session_id`` may be a unique prefix); raises ``StoreError``."""
    full_id = store.resolve(session_id)
    engine = Replay([e for e in store.events(full_id) if e.durable])
    return Timeline(full_id, engine, str(store.get(full_id).get("title") or ""))


def files_text(files: dict[str, Any]) -> Text:
    """The files as they stood: ``M calc.py  2 changes``, ``R README.md``."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Files\n", "bold")
    if not files:
        return text.append("none touched yet", "dim")
    for i, (path, state) in enumerate(sorted(files.items())):
        if i:
            text.append("\n")
        mark = "D" if state.exists is False else ("M" if state.modified else "R")
        text.append(f"{mark} ", "dim" if mark == "R" else "yellow").append(path)
        if state.diffs:
            count = len(state.diffs)
            text.append(f"  {count} change{'s' if count > 1 else ''}", "dim")
    return text


class ReplayScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("l", "step(1)", "Step", show=False),
        Binding("h", "step(-1)", "Back", show=False),
        Binding("right", "step(1)", "Step", key_display="→", priority=True),
        Binding("left", "step(-1)", "Back", key_display="←", priority=True),
        Binding("plus,equals_sign,up", "speed(1)", "Faster", key_display="+"),
        Binding("minus,down", "speed(-1)", "Slower", key_display="-"),
        Binding("home", "jump(0)", "Start", show=False),
        Binding("end", "jump(-1)", "End", show=False),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, timeline: Timeline, speed: float = 1.0) -> None:
        super().__init__()
        self.timeline = timeline
        self.engine = timeline.engine
        self.engine.seek(0)
        self.speed = speed
        self.playing = False
        self._timer: Pending | None = None
        self.header = Static("", id="replay-header")
        self.bar = Static("", id="replay-bar")
        self.files = Static("", id="replay-files")
        self.conversation = Conversation(id="replay-conversation")
        self.workflow = WorkflowView(id="replay-workflow", clock=self._clock)
        self.tracker = TokenTracker(id="replay-tracker")
        self.sink = ViewSink(self.conversation, self.tracker, self.workflow, live=False)

    @property
    def position(self) -> int:
        return self.engine.position

    def _clock(self) -> float:
        event = self.engine.current
        return event.time if event is not None else self.engine.start

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="replay-main"):
            yield self.conversation
            with Vertical(id="replay-side"):
                yield self.workflow
                yield self.files
        yield self.tracker
        yield self.bar
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()

    # -- moving -------------------------------------------------------------------------------
    def _forward(self) -> None:
        event = self.engine.step_forward()
        if event is not None:
            self.sink.emit(event)

    def seek(self, target: int) -> None:
        """Show the session as it was after ``target`` events."""
        target = max(0, min(len(self.engine), target))
        if target < self.position:  # the views only move forward: rebuild up to the target
            thaw()  # the widgets removed can be collected
            self.conversation.clear_all()
            self.workflow.reset()
            self.tracker.requests, self.tracker.context_pct = 0, None
            self.tracker.show_totals(None)
            self.engine.seek(0)
        with self.conversation.batch():
            while self.position < target:
                self._forward()
        self.redraw()

    def action_step(self, delta: int) -> None:
        self.pause()
        self.seek(self.position + delta)

    def action_jump(self, where: int) -> None:
        self.pause()
        self.seek(len(self.engine) if where < 0 else where)

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
            return
        if self.engine.at_end:
            self.seek(0)
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
        current, events = self.engine.current, self.engine.events
        if current is None or self.engine.at_end:
            return 0.05
        gap = events[self.position].time - current.time
        return max(0.02, min(gap, MAX_GAP) / self.speed)

    def _schedule(self) -> None:
        self._timer = call_after(self, self._delay(), self._play_tick)

    def _play_tick(self) -> None:
        if not self.playing:
            return
        self._forward()
        if self.engine.at_end:
            self.pause()
            return
        self.redraw()
        self._schedule()

    def action_close(self) -> None:
        self.pause()
        self.dismiss(None)

    # -- drawing ------------------------------------------------------------------------------
    def redraw(self) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(" replay ", "bold reverse").append(f" session {self.timeline.session_id[:8]}")
        if self.timeline.title:
            head.append(f"  {self.timeline.title}", "dim")
        self.header.update(head)
        state = "▶ playing" if self.playing else "⏸ paused"
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{state}  {self.position}/{len(self.engine)}  ×{self.speed:g}  ", "bold")
        event = self.engine.current
        if event is not None:
            line.append(" ".join(self.engine.line(event).split()))
        elif not len(self.engine):
            line.append("this session has no recorded events", "dim")
        else:
            line.append("space plays, → steps", "dim")
        self.bar.update(line)
        self.files.update(files_text(self.engine.files()))
