"""``joiner usage``: SQL aggregates over the store's usage events, and the command."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from joiner.core.events import ASSISTANT_MESSAGE, REQUEST_START, USAGE, Event
from joiner.core.messages import Usage
from joiner.cost.meter import CostMeter
from joiner.cost.pricing import Price, Prices
from joiner.cost.report import parse_since, usage_report
from joiner.cost.usage_view import print_usage
from joiner.sessions import Store, open_store

FLAT = Price(Decimal(1), Decimal(1), Decimal(1), Decimal(1), source="config")
PRICES = Prices({"openai/flat": FLAT})


def epoch(day: str, hour: int = 12) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)).timestamp()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "sessions.db")
    yield s
    s.close()


def record(store: Store, session: str, requests: list[tuple[str, Usage, float]]) -> None:
    """Append what a run writes per request: request_start, assistant_message, usage."""
    meter = CostMeter(PRICES, warn=lambda line: None)
    events = []
    for turn, (model, usage, when) in enumerate(requests, 1):
        events += [Event(REQUEST_START, {"turn": turn, "model": model}, when),
                   Event(ASSISTANT_MESSAGE, {"message": {"role": "assistant", "text": "ok"}},
                         when),
                   Event(USAGE, {"turn": turn, **meter.record(usage, model)}, when)]
    store.append_many(session, events)


def test_report_sums_by_model_session_and_day(store: Store) -> None:
    a = store.create_session("/w/a", "openai/flat")
    b = store.create_session("/w/b", "anthropic/claude-sonnet-4-5")
    record(store, a, [("openai/flat", Usage(100_000), epoch("2026-11-01")),
                      ("openai/flat", Usage(100_000), epoch("2026-11-01")),
                      ("openai/flat", Usage(100_000), epoch("2026-11-02"))])
    record(store, b, [("anthropic/claude-sonnet-4-5", Usage(1000, 500, 2000, 100),
                       epoch("2026-11-02")),
                      ("openai/flat", Usage(0, 50_000), epoch("2026-11-03"))])
    report = usage_report(store.query)
    assert report["total"] == {"requests": 5, "input_tokens": 301_000, "output_tokens": 50_500,
                               "cache_read_tokens": 2000, "cache_write_tokens": 100,
                               "cost_usd": 0.361475}  # 0.3 + 0.011475 + 0.05, exactly
    assert report["by_model"] == [
        {"model": "openai/flat", "requests": 4, "input_tokens": 300_000,
         "output_tokens": 50_000, "cache_read_tokens": 0, "cache_write_tokens": 0,
         "cost_usd": 0.35},
        {"model": "anthropic/claude-sonnet-4-5", "requests": 1, "input_tokens": 1000,
         "output_tokens": 500, "cache_read_tokens": 2000, "cache_write_tokens": 100,
         "cost_usd": 0.011475},
    ]
    assert [(e["session_id"], e["requests"], e["cost_usd"], e["workspace"])
            for e in report["by_session"]] == [(b, 2, 0.061475, "/w/b"), (a, 3, 0.3, "/w/a")]
    assert [(e["day"], e["requests"], e["cost_usd"]) for e in report["by_day"]] == [
        ("2026-11-01", 2, 0.2), ("2026-11-02", 2, 0.111475), ("2026-11-03", 1, 0.05)]
    # The totals of every grouping add up to the total.
    for group in ("by_model", "by_session", "by_day"):
        for key in ("requests", "input_tokens", "output_tokens", "cache_read_tokens",
                    "cache_write_tokens"):
            assert sum(e[key] for e in report[group]) == report["total"][key]


def test_since_keeps_requests_from_that_local_day_on(store: Store) -> None:
    s = store.create_session("/w", "openai/flat")
    record(store, s, [("openai/flat", Usage(100_000), epoch("2026-10-31", 23)),
                      ("openai/flat", Usage(200_000), epoch("2026-11-01", 0) + 1)])
    report = usage_report(store.query, parse_since("2026-11-01"))
    assert report["total"]["requests"] == 1
    assert report["total"]["cost_usd"] == 0.2
    assert [e["day"] for e in report["by_day"]] == ["2026-11-01"]


def test_an_empty_store_reports_zeros(store: Store) -> None:
    assert usage_report(store.query) == {
        "total": {"requests": 0, "input_tokens": 0, "output_tokens": 0,
                  "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.0},
        "by_model": [], "by_session": [], "by_day": []}


def test_a_model_without_price_has_null_cost_and_the_rest_still_adds_up(store: Store) -> None:
    s = store.create_session("/w", "openai/llama3.1")
    record(store, s, [("openai/llama3.1", Usage(10, 10), epoch("2026-11-01")),
                      ("openai/flat", Usage(10**6), epoch("2026-11-01"))])
    report = usage_report(store.query)
    costs = {e["model"]: e["cost_usd"] for e in report["by_model"]}
    assert costs == {"openai/llama3.1": None, "openai/flat": 1.0}
    assert report["total"]["cost_usd"] == 1.0


def test_events_with_only_a_float_cost_are_counted(store: Store) -> None:
    s = store.create_session("/w", "openai/x")
    store.append(s, Event(USAGE, {"model": "openai/x", "input_tokens": 5, "output_tokens": 1,
                                  "cost_usd": 0.00264}, epoch("2026-11-01")))
    assert usage_report(store.query)["total"]["cost_usd"] == 0.00264


def test_a_forks_copied_history_is_not_counted_twice(store: Store) -> None:
    parent = store.create_session("/w", "openai/flat")
    record(store, parent, [("openai/flat", Usage(100_000), epoch("2026-11-01"))])
    child = store.fork(parent)
    grandchild = store.fork(child)
    record(store, child, [("openai/flat", Usage(200_000), epoch("2026-11-02"))])
    report = usage_report(store.query)
    assert report["total"]["requests"] == 2
    assert report["total"]["cost_usd"] == 0.3
    by_session = {e["session_id"]: e["cost_usd"] for e in report["by_session"]}
    assert by_session == {parent: 0.1, child: 0.2}
    assert grandchild not in by_session
    # Once the parent is deleted, its spend is still counted once, in the fork.
    store.delete(parent)
    assert usage_report(store.query)["total"]["cost_usd"] == 0.3


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-11-31", "20261101",
                                  "2026-W47-1", "2026/11/01", ""])
def test_since_must_be_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_since(text)


def test_text_form_is_a_table_with_totals(store: Store) -> None:
    s = store.create_session("/w", "openai/flat")
    record(store, s, [("openai/flat", Usage(100_000, 0, 20_000), epoch("2026-11-01")),
                      ("openai/llama3.1", Usage(5, 5), epoch("2026-11-01"))])
    console = Console(record=True, width=140)
    print_usage(usage_report(store.query), None, 20, console)
    text = console.export_text()
    assert "2 requests, cost $0.12" in text
    assert "openai/flat" in text and "100,000" in text and "20,000" in text
    assert "unknown" in text and '[pricing."PROVIDER/MODEL"]' in text
    assert "2026-11-01" in text and s[:8] in text


def joiner(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINER_HOME": str(home)}
    exe = Path(sys.executable).with_name("joiner")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_joiner_usage_json_and_text(tmp_path: Path) -> None:
    with open_store(tmp_path / "sessions.db") as s:  # type: ignore[attr-defined]
        session = s.create_session("/w", "openai/flat")
        record(s, session, [("openai/flat", Usage(100_000), epoch("2026-11-01"))])
    done = joiner(tmp_path, "usage", "--json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["total"]["cost_usd"] == 0.1
    assert report["by_session"][0]["session_id"] == session
    text = joiner(tmp_path, "usage", "--since", "2026-11-02")
    assert text.returncode == 0 and "No model requests recorded since 2026-11-02" in text.stdout


def test_joiner_usage_bad_since_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = joiner(tmp_path, "usage", "--since", "last week")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "YYYY-MM-DD" in done.stderr


def test_a_store_from_before_the_usage_index_is_migrated_and_counted(tmp_path: Path) -> None:
    import sqlite3

    from joiner.sessions.migrations import all_migrations
    from joiner.sessions.sqlite_db import APPLICATION_ID

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in all_migrations()[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 0)")
    conn.execute("INSERT INTO sessions (id, workspace, created_at, updated_at, status) "
                 "VALUES ('old', '/w', 0, 0, 'done')")
    payload = json.dumps(CostMeter(PRICES).record(Usage(250_000, 1), "openai/flat"))
    conn.execute("INSERT INTO events VALUES ('old', 1, ?, 'usage', ?)",
                 (epoch("2026-11-01"), payload))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with open_store(path) as s:  # type: ignore[attr-defined]
        report = usage_report(s.query)
    assert report["total"]["requests"] == 1
    assert report["total"]["input_tokens"] == 250_000
    assert report["total"]["cost_usd"] == 0.250001


def test_store_query_is_read_only(store: Store) -> None:
    from joiner.sessions import StoreError

    store.create_session("/w", "m")
    for sql in ("DELETE FROM sessions", "WITH x AS (SELECT 1) DELETE FROM sessions"):
        with pytest.raises(StoreError):
            store.query(sql)
    assert store.query("SELECT count(*) FROM sessions") == [(1,)]
    store.create_session("/w", "m")  # writes still work afterwards
    assert store.query("SELECT count(*) FROM sessions") == [(2,)]
