"""The replay engine: a session's timeline, step by step, apart from any UI.

``Replay(events)`` holds a cursor over the events (``position`` = how many are
applied). At any position it gives the conversation so far (``messages``), the
files as recorded so far (``files``), and a one-line summary of each event. The
headless ``joiner replay`` and the TUI's replay screen both drive it.
"""

from __future__ import annotations

from collections.abc import Sequence

from joiner.core.events import Event
from joiner.core.messages import Message
from joiner.sessions.file_states import FileState, file_states
from joiner.sessions.history import rebuild_messages
from joiner.sessions.timeline import summarize


class Replay:
    def __init__(self, events: Sequence[Event]) -> None:
        self.events = sorted(events, key=lambda e: e.seq or 0)
        self.position = 0
        self.start = self.events[0].time if self.events else 0.0

    def __len__(self) -> int:
        return len(self.events)

    @property
    def at_start(self) -> bool:
        return self.position == 0

    @property
    def at_end(self) -> bool:
        return self.position == len(self.events)

    @property
    def current(self) -> Event | None:
        """The last applied event (None before the first)."""
        return self.events[self.position - 1] if self.position else None

    def step_forward(self) -> Event | None:
        """Apply the next event and return it (None at the end)."""
        if self.at_end:
            return None
        self.position += 1
        return self.current

    def step_back(self) -> Event | None:
        """Un-apply the last event and return it (None at the start)."""
        if self.at_start:
            return None
        event = self.current
        self.position -= 1
        return event

    def seek(self, position: int) -> None:
        self.position = max(0, min(position, len(self.events)))

    def seek_type(self, event_type: str, forward: bool = True) -> Event | None:
        """Move onto the next (or previous) event of a type, e.g. each user prompt."""
        indices = (range(self.position, len(self.events)) if forward
                   else range(self.position - 2, -1, -1))
        for index in indices:
            if self.events[index].type == event_type:
                self.position = index + 1
                return self.events[index]
        return None

    def messages(self) -> list[Message]:
        """The conversation as it stood after the applied events."""
        return rebuild_messages(self.events[: self.position])

    def files(self) -> dict[str, FileState]:
        """The files read and changed so far, with contents where the log allows."""
        return file_states(self.events[: self.position])

    def offset(self, event: Event) -> float:
        """Seconds since the session's first event."""
        return max(0.0, event.time - self.start)

    def line(self, event: Event) -> str:
        """``+12.3s  tool_call          read_file path=calc.py``: one line of the timeline."""
        return f"{_clock(self.offset(event)):>9}  {event.type:<18} {summarize(event)}".rstrip()


def _clock(seconds: float) -> str:
    if seconds < 60:
        return f"+{seconds:.1f}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"+{int(minutes)}m{rest:04.1f}s"
    hours, minutes = divmod(minutes, 60)
    return f"+{int(hours)}h{int(minutes):02d}m"
