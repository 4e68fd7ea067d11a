"""The PostgreSQL store against a real server: the same answers as the SQLite store,
its own schema and migrations, one-line errors. (Concurrency: test_postgres_concurrency.py;
commands: test_postgres_cli.py.)"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joiner.core.events import Event
from joiner.cost.report import usage_report
from joiner.sessions import SessionNotFound, StoreError, StoreRefused, open_store
from joiner.sessions.postgres_db import redact, to_pyformat
from joiner.sessions.postgres_store import PostgresStore
from joiner.sessions.sqlite_store import SQLiteStore

BIG = "line of a long tool output\n" * 200  # over the blob threshold


def run_script(store: Any) -> dict[str, Any]:
    """The same operations on any store; what they return, with ids replaced by labels."""
    label: dict[str, str] = {}

    def new(name: str, workspace: str, model: str = "openai/gpt-test") -> str:
        sid = store.create_session(workspace, model, permission_mode="auto")
        label[sid] = name
        return sid

    a = new("a", "/ws/one")
    b = new("b", "/ws/two", "anthropic/claude-x")
    store.append(a, Event("user_prompt", {"message": {"role": "user",
                                                      "text": "fix the bug\x00 in calc.py"}}))
    store.append_many(a, [
        Event("assistant_message", {"message": {"role": "assistant", "text": "Reading.",
                                                "tool_calls": [{"id": "c1", "name": "read_file",
                                                                "arguments": "{}"}]}}),
        Event("tool_result", {"message": {"role": "tool", "text": BIG + "\x00end",
                                          "tool_call_id": "c1"}, "files_read": ["calc.py"]}),
        Event("tool_result", {"message": {"role": "tool", "text": BIG, "tool_call_id": "c2"}}),
        Event("usage", {"model": "openai/gpt-test", "input_tokens": 100, "output_tokens": 7,
                        "cost_usd": 0.0004, "cost_picodollars": 400_000_000}),
        Event("assistant_message", {"message": {"role": "assistant", "text": "Done ✓ 100%"}}),
    ])
    store.append(b, Event("user_prompt", {"message": {"role": "user", "text": "x" * 200}}))
    store.append(b, Event("note", {"$joiner_blob": "not a reference", "nested": {"k": [1, 2.5]}}))
    store.set_status(b, "error")
    c = store.fork(a)
    label[c] = "c"
    store.append(c, Event("user_prompt", {"message": {"role": "user", "text": "and tests"}}))
    blobs_before = store.blob_stats()
    store.delete(a)
    with pytest.raises(SessionNotFound):
        store.events(a)
    listed = store.list()
    return {
        "list": [(label[s.id], s.workspace, s.title, s.model, s.status, s.event_count,
                  label.get(s.parent_id or ""), s.permission_mode) for s in listed],
        "one_workspace": [label[s.id] for s in store.list("/ws/two")],
        "latest": label[store.latest("/ws/one") or ""],
        "events": {label[sid]: [(e.seq, e.type, e.data) for e in store.events(sid)]
                   for sid in (b, c)},
        "after_and_types": [(e.seq, e.type) for e in store.events(c, after_seq=2,
                                                                   types=["tool_result"])],
        "resolve": label[store.resolve(c[:10].upper())],
        "blobs": (blobs_before, store.blob_stats()),
    }


def test_the_same_operations_give_the_same_results_as_sqlite(postgres_url: str,
                                                             tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    lite = open_store(tmp_path / "sessions.db")
    assert isinstance(pg, PostgresStore) and isinstance(lite, SQLiteStore)
    try:
        got, expected = run_script(pg), run_script(lite)
    finally:
        pg.close()
        lite.close()
    # PostgreSQL text cannot hold NUL: the title shows it as U+FFFD; payloads keep it
    assert got["list"][0][2] == "fix the bug\ufffd in calc.py"  # the fork
    for key in expected:
        if key == "list":
            assert [row[:2] + row[3:] for row in got[key]] == \
                [row[:2] + row[3:] for row in expected[key]]
            assert [row[2].replace("\ufffd", "\x00") for row in got[key]] == \
                [row[2] for row in expected[key]]
        else:
            assert got[key] == expected[key], key
    assert got["events"]["c"][2][2]["message"]["text"] == BIG + "\x00end"


def test_prefix_resolution_and_errors(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        ids = [store.create_session("/ws", "m") for _ in range(40)]
        for sid in ids:
            assert store.resolve(sid[:12]) == sid
        # prefixes ending in 9 and f: their range bound would be ':' or 'g', which
        # compare differently under most locales' collations; LIKE does not care
        for made in ("1234567900000000000000000000000a", "123456790000000000000000000000fb",
                     "12345679f0000000000000000000000c", "1234567a00000000000000000000000d"):
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute("INSERT INTO joiner.sessions (id, workspace, created_at, "
                             "updated_at, status) VALUES (%s, '/ws', 0, 0, 'done')", (made,))
        assert store.resolve("12345679f") == "12345679f0000000000000000000000c"
        assert store.resolve("1234567a") == "1234567a00000000000000000000000d"
        with pytest.raises(StoreError, match="several sessions"):
            store.resolve("12345679")
        with pytest.raises(StoreError, match="hexadecimal"):
            store.resolve("zz")
        with pytest.raises(StoreError, match="no session matches"):
            store.resolve("0" * 32)
        with pytest.raises(SessionNotFound):
            store.get("f" * 32)
        with pytest.raises(SessionNotFound):
            store.append("f" * 32, Event("note", {}))
        with pytest.raises(SessionNotFound):
            store.delete("f" * 32)
    finally:
        store.close()


def usage_events(store: Any) -> None:
    day = 86_400.0
    base = time.mktime((2026, 11, 2, 10, 0, 0, 0, 0, -1))
    a = store.create_session("/ws/a", "openai/gpt-test")
    b = store.create_session("/ws/b", "anthropic/claude-x")
    store.append_many(a, [Event("usage", {"model": "openai/gpt-test", "input_tokens": 1000 + i,
                                          "output_tokens": 10, "cache_read_tokens": 5,
                                          "cost_usd": 0.01 * i,
                                          "cost_picodollars": 10_000_000_000 * i},
                                time=base + i * day / 3) for i in range(7)])
    store.append_many(b, [
        Event("usage", {"model": "anthropic/claude-x", "input_tokens": 3, "output_tokens": 2,
                        "cost_usd": 0.25}, time=base + 30),  # a float cost only
        Event("usage", {"model": "openai/unpriced", "input_tokens": 9, "output_tokens": 1,
                        "cost_usd": None}, time=base + 60),
        Event("usage", {"model": "openai/gpt-test", "input_tokens": "junk"}, time=base + 90),
    ])
    fork = store.fork(a)  # the copied history is not counted twice
    store.append(fork, Event("usage", {"model": "openai/gpt-test", "input_tokens": 1,
                                       "output_tokens": 1, "cost_usd": 1e-06,
                                       "cost_picodollars": 1_000_000}, time=base + 8 * day))


def _without_ids(report: dict[str, Any]) -> dict[str, Any]:
    out = dict(report)
    out["by_session"] = [{k: v for k, v in s.items() if k != "session_id"}
                         for s in report["by_session"]]
    return out


def test_joiner_usage_report_is_the_same_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    lite = open_store(tmp_path / "sessions.db")
    try:
        usage_events(pg)
        usage_events(lite)
        for since in (None, time.mktime((2026, 11, 3, 0, 0, 0, 0, 0, -1))):
            got, expected = usage_report(pg.query, since), usage_report(lite.query, since)
            assert _without_ids(got) == _without_ids(expected)
        assert got["total"]["requests"] > 0
    finally:
        pg.close()
        lite.close()


def test_query_is_read_only_and_errors_are_one_line(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        sid = store.create_session("/ws", "m")
        with pytest.raises(StoreError, match="SELECT statements only"):
            store.query("DELETE FROM sessions")
        with pytest.raises(StoreError, match="read-only"):
            store.query("WITH gone AS (DELETE FROM sessions RETURNING id) SELECT * FROM gone")
        with pytest.raises(StoreError, match=r"Store\.query"):
            store.query("SELECT nope FROM sessions")
        assert store.query("SELECT id FROM sessions WHERE id = ? AND '?%' = '?%'", (sid,)) == \
            [(sid,)]
        assert store.get(sid).id == sid  # the connection is still usable
    finally:
        store.close()


def test_migrations_create_the_schema_once_and_match_sqlite(postgres_url: str,
                                                            tmp_path: Path) -> None:
    from joiner.sessions.migrations import latest_version

    open_store(postgres_url).close()
    open_store(postgres_url).close()  # the second open migrates nothing
    with psycopg.connect(postgres_url) as conn:
        versions = [r[0] for r in conn.execute(
            "SELECT version FROM joiner.schema_version ORDER BY version")]
        pg_columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'joiner' "
            "AND table_name = 'events' ORDER BY ordinal_position")]
        public = conn.execute("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_schema = 'public'").fetchone()
    assert versions == list(range(1, latest_version() + 1))
    lite = open_store(tmp_path / "s.db")
    lite_columns = [r[1] for r in lite.db.conn.execute("PRAGMA table_xinfo(events)")]
    lite.close()
    assert pg_columns == lite_columns  # every SQLite migration has its PostgreSQL form
    assert public == (0,)  # nothing outside the joiner schema


def test_other_applications_tables_are_left_alone(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.sessions (id int, name text)")
        conn.execute("INSERT INTO public.sessions VALUES (1, 'theirs')")
    store = open_store(postgres_url)
    store.create_session("/ws", "m")
    store.close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT * FROM public.sessions").fetchall() == [(1, "theirs")]


def test_a_foreign_or_newer_schema_is_refused_untouched(postgres_url: str,
                                                        postgres_cluster: Any) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA joiner")
        conn.execute("CREATE TABLE joiner.events (x int)")
    with pytest.raises(StoreRefused, match="not a Joiner session store"):
        open_store(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM joiner.events").fetchone() == (0,)

    newer = postgres_cluster.create_database("newer_" + postgres_url.rsplit("/", 1)[1])
    open_store(newer).close()
    with psycopg.connect(newer, autocommit=True) as conn:
        conn.execute("INSERT INTO joiner.schema_version VALUES (999, 0)")
    with pytest.raises(StoreRefused, match="newer Joiner"):
        open_store(newer)


def test_two_stores_migrating_at_once_both_open(postgres_url: str) -> None:
    import threading

    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            open_store(postgres_url).close()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_close) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_connection_failures_are_one_line_without_the_password(postgres_cluster: Any) -> None:
    url = f"postgresql://joiner:s3cret@127.0.0.1:{postgres_cluster.port + 1}/nothing"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    assert message.startswith("cannot connect to the session store postgresql://joiner:***@")
    assert redact("postgres://u:p@h:5/db?sslmode=require") == "postgres://u:***@h:5/db?sslmode=require"


def test_without_psycopg_the_message_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'joiner\[postgres\]'"):
        open_store("postgresql://u:pw@127.0.0.1:1/db")


def test_a_restarted_connection_is_opened_again(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        sid = store.create_session("/ws", "m")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'joiner'")
        with pytest.raises(StoreError, match="failed"):
            store.get(sid)
        store.append(sid, Event("note", {"after": "reconnect"}))  # a transaction reconnects
        assert [e.data for e in store.events(sid)] == [{"after": "reconnect"}]
    finally:
        store.close()


SQL_TEXT = st.text(alphabet=st.sampled_from(list("ab?%'\"-\n x")), max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(literal=SQL_TEXT, value=st.text(max_size=20).filter(lambda s: "\x00" not in s))
def test_qmark_translation_keeps_literals_and_binds_parameters(postgres_url: str, literal: str,
                                                               value: str) -> None:
    """Any quoted literal (with ?, %, quotes, dashes) survives; each ? outside binds a value."""
    quoted = "'" + literal.replace("'", "''") + "'"
    sql = f"SELECT {quoted}, ? -- a comment with ? and %\n"
    assert to_pyformat(sql).count("%s") == 1
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(to_pyformat(sql), (value,)).fetchone()
    assert row == (literal, value)
