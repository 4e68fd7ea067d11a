"""Token and cost totals of a session, summed from its ``usage`` events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from joiner.core.events import USAGE, Event
from joiner.sessions.store import Store

TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def sum_usage(events: Iterable[Event]) -> dict[str, Any]:
    """The four token counts summed, and ``cost_usd`` summed over the events that have one
    (None when none has)."""
    totals: dict[str, Any] = dict.fromkeys(TOKEN_KEYS, 0)
    cost: float | None = None
    for event in events:
        if event.type != USAGE:
            continue
        for key in TOKEN_KEYS:
            value = event.data.get(key)
            if isinstance(value, int | float):
                totals[key] += int(value)
        value = event.data.get("cost_usd")
        if isinstance(value, int | float):
            cost = (cost or 0.0) + float(value)
    totals["cost_usd"] = None if cost is None else round(cost, 10)
    return totals


def usage_totals(store: Store, session_id: str) -> dict[str, Any]:
    """``sum_usage`` of one session, reading only its usage events."""
    return sum_usage(store.events(session_id, types=[USAGE]))
