"""Opening store files: migrations, and refusing what is not ours (never overwritten)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from session_events import prompt

from joiner.core.events import Event
from joiner.sessions import StoreRefused, open_store
from joiner.sessions.blobs import THRESHOLD
from joiner.sessions.migrations import all_migrations, latest_version
from joiner.sessions.sqlite_db import APPLICATION_ID


def test_a_new_store_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version() >= 1
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [m.version for m in all_migrations()] == list(range(1, latest_version() + 1))
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"events_by_type", "sessions_by_workspace"} <= indexes


def _refused_untouched(path: Path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StoreRefused, match=match) as info:
        open_store(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_text("my precious notes\n" * 10)
    _refused_untouched(path, "not a Joiner session store")
    short = tmp_path / "short.db"
    short.write_bytes(b"SQLite")
    _refused_untouched(short, "not a Joiner session store")


def test_another_applications_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('ada')")
    conn.commit()
    conn.close()
    _refused_untouched(path, "SQLite database but not a Joiner session store")


def test_a_store_from_a_newer_joiner_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    _refused_untouched(path, "newer Joiner")


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.touch()
    with open_store(path) as s:
        s.create_session("/ws", "m")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False)
    | st.text(max_size=5) | st.text(min_size=THRESHOLD - 2, max_size=THRESHOLD + 40),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["a", "text", "$joiner_blob", "$joiner_escaped"])
                      | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.text(max_size=6), json_values, max_size=4))
def test_any_json_payload_reads_back_exactly(tmp_path: Path, payload: dict) -> None:
    with open_store(tmp_path / "prop.db") as s:
        sid = s.create_session("/ws", "m")
        s.append(sid, prompt("p"))
        s.append(sid, Event("tool_result", payload))
        assert s.events(sid, after_seq=1)[0].data == payload
        s.delete(sid)


def test_an_older_store_is_upgraded_in_place_keeping_its_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import joiner.sessions.sqlite_db as sqlite_db

    path = tmp_path / "s.db"
    monkeypatch.setattr(sqlite_db, "all_migrations", lambda: all_migrations()[:1])
    with open_store(path) as old:
        sid = old.create_session("/ws", "m")
        old.append(sid, prompt("from the old version"))
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    monkeypatch.undo()
    with open_store(path) as new:
        assert new.events(sid)[0].data["message"]["text"] == "from the old version"
        assert new.append(sid, prompt("after the upgrade")) == 2
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")] == \
        list(range(1, latest_version() + 1))
