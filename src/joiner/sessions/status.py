"""What a batch of events says about its session: the new status, the title."""

from __future__ import annotations

from collections.abc import Sequence

from joiner.core.events import (
    ASSISTANT_MESSAGE,
    ERROR,
    INTERRUPTED,
    RESULT,
    USER_PROMPT,
    Event,
)

TITLE_LENGTH = 80


def status_after(events: Sequence[Event]) -> str | None:
    """The status the session has after ``events``, or None if they don't change it.

    A prompt means a run is going on; the loop ends on an answer without tool
    calls (done), an ``error`` event (its ``stop_reason``), or ``interrupted``.
    """
    status = None
    for event in events:
        if event.type == USER_PROMPT:
            status = "running"
        elif event.type == ASSISTANT_MESSAGE:
            if not event.data.get("message", {}).get("tool_calls"):
                status = "done"
        elif event.type == INTERRUPTED:
            status = "interrupted"
        elif event.type == ERROR:
            status = "interrupted" if event.data.get("stop_reason") == "interrupted" else "error"
        elif event.type == RESULT:
            stop = event.data.get("stop_reason")
            status = ("interrupted" if stop == "interrupted"
                      else "error" if event.data.get("is_error") else "done")
    return status


def title_from(events: Sequence[Event]) -> str:
    """The first line of the first prompt in ``events``, cut to a title; '' if none."""
    for event in events:
        if event.type == USER_PROMPT:
            text = str(event.data.get("message", {}).get("text", ""))
            line = " ".join(text.strip().split("\n", 1)[0].split())
            if len(line) > TITLE_LENGTH:
                line = line[: TITLE_LENGTH - 1].rstrip() + "…"
            return line or "(empty prompt)"
    return ""
