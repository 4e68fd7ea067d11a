"""The event sink that writes a run's durable events to the store as they happen."""

from __future__ import annotations

from joiner.core.events import Event
from joiner.sessions.store import Store


class StoreSink:
    """``EventSink`` appending every durable event at once (one short transaction each),
    so a crash loses nothing that finished: the prompt is on disk before the model is called.
    Ephemeral events (text deltas) are skipped. Sets ``event.seq``."""

    def __init__(self, store: Store, session_id: str) -> None:
        self.store = store
        self.session_id = session_id

    def emit(self, event: Event) -> None:
        if event.durable:
            self.store.append(self.session_id, event)
