"""``joiner usage``: tokens and cost in total, by model, by session and by day.

One SQL statement over the store's ``usage`` events (one snapshot, one pass in
order over the ``events_usage`` index, whose generated columns hold each event's
numbers: no JSON is parsed and nothing sorted at query time; sessions migration
2): ``GROUP BY`` session, model and quarter-hour sums the requests, the four token
kinds and the cost; the few resulting groups are then rolled up in Python into
the total, by model, by session and by (local) day. Quarter-hours, because every
time zone's offset is a multiple of 15 minutes, so each one lies in one local day.

Costs are summed as integer picodollars (``cost_picodollars`` in the payload,
written by ``CostMeter``), so the sums are exact; an event with only a float
``cost_usd`` is converted first. A group whose events all lack a price has
``cost_usd: null``.

A forked session starts with a copy of its parent's log; those copied usage
events (same ``seq`` and ``time`` as in the parent) are not counted again, so
every request's spend is counted once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from joiner.cost.pricing import PICODOLLARS_PER_USD

Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
QUARTER_S = 900  # usage_quarter = CAST(time / 900 AS INTEGER)

_USAGE_SQL = """
SELECT e.session_id,
       coalesce(e.usage_model, ''),
       e.usage_quarter,
       count(*),
       sum(coalesce(e.usage_input_tokens, 0)),
       sum(coalesce(e.usage_output_tokens, 0)),
       sum(coalesce(e.usage_cache_read_tokens, 0)),
       sum(coalesce(e.usage_cache_write_tokens, 0)),
       sum(coalesce(e.usage_cost_picodollars,
                    CAST(round(e.usage_cost_usd * 1e12) AS BIGINT))),
       count(coalesce(e.usage_cost_picodollars, e.usage_cost_usd)),
       max(e.time)
FROM events AS e {index_hint}
WHERE e.type = 'usage' AND e.time >= ?
  AND (e.session_id NOT IN (SELECT id FROM sessions WHERE parent_id IS NOT NULL)
       OR NOT EXISTS (
           SELECT 1 FROM events AS p JOIN sessions AS s ON s.id = e.session_id
           WHERE p.session_id = s.parent_id AND p.seq = e.seq AND p.time = e.time))
GROUP BY e.session_id, e.usage_model, e.usage_quarter
"""

# SQL that differs by the store's SQL dialect (``Store.dialect``; SQLite when absent).
# PostgreSQL has no index hints (its planner takes the partial index by itself).
_INDEX_HINTS = {"sqlite": "INDEXED BY events_usage", "postgresql": ""}

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


class _Sum:
    """Running sums of one group of the report."""

    __slots__ = ("last", "pico", "priced", "requests", "tokens")

    def __init__(self) -> None:
        self.requests = 0
        self.tokens = [0, 0, 0, 0]
        self.pico = 0
        self.priced = 0
        self.last = float("-inf")

    def add(self, row: Sequence[Any]) -> None:
        requests, i, o, r, w, pico, priced, last = row[3:]
        self.requests += requests
        for k, value in enumerate((i, o, r, w)):
            self.tokens[k] += int(value or 0)
        self.pico += int(pico or 0)
        self.priced += priced
        self.last = max(self.last, last)

    def entry(self) -> dict[str, Any]:
        cost = None if self.requests and not self.priced else \
            float(Decimal(self.pico) / PICODOLLARS_PER_USD)
        return {"requests": self.requests, **dict(zip(TOKEN_KINDS, self.tokens, strict=True)),
                "cost_usd": cost}


def _group(rows: Iterable[Sequence[Any]], key: Callable[[Sequence[Any]], str]) -> dict[str, _Sum]:
    groups: dict[str, _Sum] = {}
    for row in rows:
        groups.setdefault(key(row), _Sum()).add(row)
    return groups


def usage_report(query: Query, since: float | None = None,
                 dialect: str | None = None) -> dict[str, Any]:
    """The ``joiner usage --json`` object.

    ``query(sql, params) -> rows`` runs one read-only statement on the store
    (``Store.query``). ``since``: only requests at or after this epoch time.
    """
    if dialect is None:  # the store's, when ``query`` is its bound ``Store.query``
        dialect = getattr(getattr(query, "__self__", None), "dialect", "sqlite")
    sql = _USAGE_SQL.format(index_hint=_INDEX_HINTS.get(dialect, ""))
    rows = query(sql, (since if since is not None else float("-inf"),))
    total = _Sum()
    for row in rows:
        total.add(row)
    days: dict[int, str] = {}

    def day(row: Sequence[Any]) -> str:
        if row[2] not in days:
            days[row[2]] = dt.datetime.fromtimestamp(row[2] * QUARTER_S).date().isoformat()
        return days[row[2]]

    by_model = sorted(({"model": k, **g.entry()} for k, g in _group(rows, lambda r: r[1]).items()),
                      key=lambda e: (-(e["cost_usd"] or 0), -e["requests"], e["model"]))
    sessions = sorted(_group(rows, lambda r: r[0]).items(), key=lambda kv: -kv[1].last)
    info = _session_info(query, [sid for sid, _ in sessions])
    by_session = [{"session_id": sid, **info.get(sid, {"title": "", "workspace": ""}),
                   **g.entry()} for sid, g in sessions]
    by_day = sorted(({"day": k, **g.entry()} for k, g in _group(rows, day).items()),
                    key=lambda e: e["day"])
    return {"total": total.entry(), "by_model": by_model, "by_session": by_session,
            "by_day": by_day}


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
