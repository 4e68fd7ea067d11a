"""``joiner replay ID [--headless] [--speed X]``: a session's timeline, step by step.

Headless prints one line per event (time offset, type, short summary). Without
``--headless`` the TUI's replay screen (``joiner.ui.replay.run_replay(session_id, speed)``) opens;
when stdout is not a terminal, the timeline is printed instead.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from joiner.cli.errors import EXIT_USAGE, UserError

if TYPE_CHECKING:
    from joiner.sessions.replay import Replay

MAX_WAIT_S = 5.0  # the longest pause between two printed events, whatever the speed


def print_timeline(replay: Replay, speed: float | None, out: object = None) -> None:
    """Print every event; with ``speed``, wait the recorded gaps divided by it."""
    write = (out or sys.stdout).write  # type: ignore[attr-defined]
    previous = None
    while (event := replay.step_forward()) is not None:
        if speed and previous is not None:
            time.sleep(min(max(0.0, event.time - previous) / speed, MAX_WAIT_S))
        previous = event.time
        write(replay.line(event) + "\n")
        if speed:
            sys.stdout.flush()


@click.command("replay")
@click.argument("session_id", metavar="ID")
@click.option("--headless", is_flag=True, help="Print the timeline instead of opening the TUI.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), metavar="X",
              help="Play at X times the recorded pace (headless default: no waiting).")
def replay(session_id: str, headless: bool, speed: float | None) -> None:
    """The session's timeline step by step (TUI; --headless prints it)."""
    from joiner.cli.sessions import open_cli_store, resolve_id
    from joiner.sessions.replay import Replay

    store = open_cli_store()
    try:
        sid = resolve_id(store, session_id)
        engine = Replay(store.events(sid))
    finally:
        store.close()
    if not headless:
        if sys.stdout.isatty():
            from joiner.ui.replay import run_replay

            run_replay(sid, speed=speed or 1.0)
            return
        click.echo("joiner: stdout is not a terminal; printing the timeline (as with --headless)",
                   err=True)
    if not len(engine):
        raise UserError(f"session {sid[:12]} has no events to replay", EXIT_USAGE)
    print_timeline(engine, speed)
