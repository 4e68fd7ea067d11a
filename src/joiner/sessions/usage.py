"""Token and cost totals of a session, summed from its ``usage`` events."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from joiner.core.events import USAGE, Event
from joiner.sessions.store import Store

TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
PICO = 10**12


def sum_usage(events: Iterable[Event]) -> dict[str, Any]:
    """The four token counts summed, and ``cost_usd`` summed over the events that have one
    (None when none has). When every priced event carries ``cost_picodollars`` the sum is
    exact (also returned as ``cost_picodollars``)."""
    totals: dict[str, Any] = dict.fromkeys(TOKEN_KEYS, 0)
    cost = 0.0
    pico = 0
    priced = 0
    exact = True
    for event in events:
        if event.type != USAGE:
            continue
        for key in TOKEN_KEYS:
            value = event.data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] += int(value)
        value = event.data.get("cost_usd")
        if isinstance(value, int | float) and not isinstance(value, bool):
            priced += 1
            cost += float(value)
            exact_value = event.data.get("cost_picodollars")
            if isinstance(exact_value, int) and not isinstance(exact_value, bool):
                pico += exact_value
            else:
                exact = False
    if not priced:
        totals["cost_usd"] = None
    elif exact:
        totals["cost_usd"] = float(Decimal(pico) / PICO)
        totals["cost_picodollars"] = pico
    else:
        totals["cost_usd"] = round(cost, 10)
    return totals


def usage_totals(store: Store, session_id: str) -> dict[str, Any]:
    """``sum_usage`` of one session, reading only its usage events."""
    return sum_usage(store.events(session_id, types=[USAGE]))
