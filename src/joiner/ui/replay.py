"""``joiner replay ID`` in the terminal: the timeline replay screen as its own app."""

from __future__ import annotations

from typing import Any

from textual.app import App

from joiner.ui.screens.replay import ReplayScreen, Timeline, load_timeline


class ReplayApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Joiner replay"

    def __init__(self, timeline: Timeline, speed: float = 1.0) -> None:
        super().__init__()
        self.timeline = timeline
        self.speed = speed

    def on_mount(self) -> None:
        self.push_screen(ReplayScreen(self.timeline, self.speed), lambda _: self.exit())


def open_store() -> Any:
    from joiner.sessions import open_store as open_session_store

    return open_session_store()


def run_replay(session_id: str, speed: float = 1.0) -> None:
    """Replay session ``session_id`` (a unique prefix is enough) until the user closes it.

    Raises the store's ``StoreError`` (one line, fit for the user) for an unknown or
    ambiguous id, before anything is drawn.
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    store = open_store()
    try:
        timeline = load_timeline(store, session_id)
    finally:
        store.close()
    ReplayApp(timeline, speed).run()
