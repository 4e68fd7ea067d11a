"""``joiner usage``: tokens and cost in total, by model, by session and by day.

One SQL statement over the store's ``usage`` events (one snapshot, one scan of
them): a materialized CTE extracts the numbers from each payload once, then four
``GROUP BY``s. Costs are summed as integer picodollars (``cost_picodollars`` in
the payload, written by ``CostMeter``), so the sums are exact; an event with only
a float ``cost_usd`` is converted first. A group whose events all lack a price
has ``cost_usd: null``.

A forked session starts with a copy of its parent's log; those copied usage
events (same ``seq`` and ``time`` as in the parent) are not counted again, so
every request's spend is counted once.

Days are local days (the machine's time zone), like ``--since``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from joiner.cost.pricing import PICODOLLARS_PER_USD

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")

_USAGE_SQL = """
WITH u AS MATERIALIZED (
    SELECT e.session_id AS session_id,
           e.time AS time,
           coalesce(json_extract(e.payload, '$.model'), '') AS model,
           coalesce(json_extract(e.payload, '$.input_tokens'), 0) AS i,
           coalesce(json_extract(e.payload, '$.output_tokens'), 0) AS o,
           coalesce(json_extract(e.payload, '$.cache_read_tokens'), 0) AS r,
           coalesce(json_extract(e.payload, '$.cache_write_tokens'), 0) AS w,
           coalesce(json_extract(e.payload, '$.cost_picodollars'),
                    CAST(round(json_extract(e.payload, '$.cost_usd') * 1e12) AS INTEGER)) AS pico
    FROM events AS e
    JOIN sessions AS s ON s.id = e.session_id
    WHERE e.type = 'usage' AND e.time >= ?
      AND (s.parent_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM events AS p
            WHERE p.session_id = s.parent_id AND p.seq = e.seq AND p.time = e.time))
)
SELECT 'total', NULL, count(*), sum(i), sum(o), sum(r), sum(w), sum(pico), max(time) FROM u
UNION ALL
SELECT 'model', model, count(*), sum(i), sum(o), sum(r), sum(w), sum(pico), max(time)
FROM u GROUP BY model
UNION ALL
SELECT 'session', session_id, count(*), sum(i), sum(o), sum(r), sum(w), sum(pico), max(time)
FROM u GROUP BY session_id
UNION ALL
SELECT 'day', date(time, 'unixepoch', 'localtime'), count(*), sum(i), sum(o), sum(r), sum(w),
       sum(pico), max(time)
FROM u GROUP BY 2
"""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TITLES_SQL = "SELECT id, title, workspace FROM sessions WHERE id IN ({})"


def parse_since(text: str) -> float:
    """``YYYY-MM-DD`` to the epoch time of that local midnight; ValueError if malformed."""
    message = f"--since must be a date like 2026-11-01 (YYYY-MM-DD), not {text!r}"
    if not _DATE.fullmatch(text.strip()):  # fromisoformat also takes 20261101, 2026-W47-1
        raise ValueError(message)
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(message) from None
    return dt.datetime.combine(day, dt.time()).timestamp()


def _usd(pico: int | None) -> float | None:
    return None if pico is None else float(Decimal(int(pico)) / PICODOLLARS_PER_USD)


def _entry(row: Sequence[Any]) -> dict[str, Any]:
    _kind, _key, requests, i, o, r, w, pico, _last = row
    return {"requests": requests or 0,
            **dict(zip(TOKEN_KINDS, (int(i or 0), int(o or 0), int(r or 0), int(w or 0)),
                       strict=True)),
            "cost_usd": None if requests and pico is None else _usd(pico or 0)}


def usage_report(query: Query, since: float | None = None) -> dict[str, Any]:
    """The ``joiner usage --json`` object.

    ``query(sql, params) -> rows`` runs one read-only statement on the store
    (``Store.query``). ``since``: only requests at or after this epoch time.
    """
    rows = query(_USAGE_SQL, (since if since is not None else float("-inf"),))
    total = next(_entry(r) for r in rows if r[0] == "total")
    by_model = sorted(
        ({"model": r[1], **_entry(r)} for r in rows if r[0] == "model"),
        key=lambda e: (-(e["cost_usd"] or 0), -e["requests"], e["model"]))
    sessions = sorted((r for r in rows if r[0] == "session"), key=lambda r: -r[8])
    info = _session_info(query, [r[1] for r in sessions])
    by_session = [{"session_id": r[1], **info.get(r[1], {"title": "", "workspace": ""}),
                   **_entry(r)} for r in sessions]
    by_day = sorted(({"day": r[1], **_entry(r)} for r in rows if r[0] == "day"),
                    key=lambda e: e["day"])
    return {"total": total, "by_model": by_model, "by_session": by_session, "by_day": by_day}


def _session_info(query: Query, ids: list[str]) -> dict[str, dict[str, str]]:
    info: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for sid, title, workspace in query(_TITLES_SQL.format(",".join("?" * len(chunk))),
                                           chunk):
            info[sid] = {"title": title or "", "workspace": workspace or ""}
    return info


def store_query(store: Any) -> Query:
    """The store's read-only ``query(sql, params) -> rows`` (one consistent snapshot)."""
    query = getattr(store, "query", None)
    if not callable(query):
        raise TypeError(f"{type(store).__name__} has no query(sql, params) method")
    return query  # type: ignore[no-any-return]
