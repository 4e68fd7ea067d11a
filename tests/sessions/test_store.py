"""The SQLite store: sessions, the event log, ids by prefix, blobs, fork, delete, status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from session_events import answer, prompt, result

from joiner.core.events import Event
from joiner.sessions import (
    AmbiguousSession,
    SessionNotFound,
    open_store,
    store_path,
)
from joiner.sessions.blobs import THRESHOLD
from joiner.sessions.sqlite_store import SQLiteStore


def test_append_numbers_events_in_order_and_sets_the_title(store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "scripted/test", permission_mode="auto")
    first = prompt("  Add a mul function\nto calc.py  ")
    assert store.append(sid, first) == 1
    assert first.seq == 1
    assert store.append_many(sid, [answer("ok"), prompt("second prompt")]) == [2, 3]
    events = store.events(sid)
    assert [(e.seq, e.type) for e in events] == [(1, "user_prompt"), (2, "assistant_message"),
                                                 (3, "user_prompt")]
    assert events[0].data == first.data and events[0].time == first.time
    info = store.get(sid)
    assert info.title == "Add a mul function"
    assert (info.workspace, info.model, info.permission_mode) == ("/ws", "scripted/test", "auto")
    assert info.event_count == 3 and info.updated_at >= info.created_at
    assert [e.seq for e in store.events(sid, after_seq=2)] == [3]
    assert [e.seq for e in store.events(sid, types=["user_prompt"])] == [1, 3]


def test_a_long_title_is_cut(store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "m")
    store.append(sid, prompt("word " * 100))
    assert len(store.get(sid).title) == 80 and store.get(sid).title.endswith("…")


def test_status_follows_the_run_and_a_dead_process_reads_as_interrupted(
        store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "m")
    store.append(sid, prompt("p"))
    assert store.get(sid).status == "running"  # this very process runs it
    store.append(sid, answer("calling", [("c1", "read_file", {"path": "a"})]))
    assert store.get(sid).status == "running"
    store.append(sid, answer("done"))
    assert store.get(sid).status == "done"
    store.append(sid, Event("error", {"message": "boom", "stop_reason": "max_turns"}))
    assert store.get(sid).status == "error"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    store.set_status(sid, "running", pid=int(dead.stdout))
    assert store.list()[0].status == "interrupted"  # computed on read
    assert store.get(sid).status == "interrupted"
    row = store.db.conn.execute("SELECT status FROM sessions WHERE id = ?", (sid,)).fetchone()
    assert row[0] == "interrupted"  # and recorded by get()
    store.set_status(sid, "done")
    assert store.get(sid).status == "done"
    with pytest.raises(ValueError):
        store.set_status(sid, "finished")
    with pytest.raises(SessionNotFound):
        store.set_status("f" * 32, "done")


def test_ids_by_unique_prefix(store: SQLiteStore) -> None:
    ids = [store.create_session("/ws", "m") for _ in range(17)]  # two share a first digit
    for sid in ids:
        assert store.resolve(sid) == sid
        assert store.resolve(sid[:12].upper()) == sid
    firsts = [i[0] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(AmbiguousSession, match="several sessions"):
        store.resolve(shared)
    unused = next(c for c in "0123456789abcdef" if c not in firsts) if len(set(firsts)) < 16 \
        else None
    if unused:
        with pytest.raises(SessionNotFound, match="no session matches"):
            store.resolve(unused)
    for bad in ("", "xyz", "../etc", "ab cd"):
        with pytest.raises(SessionNotFound):
            store.resolve(bad)


def test_list_is_newest_first_per_workspace_and_latest(store: SQLiteStore) -> None:
    a1 = store.create_session("/a", "m")
    b1 = store.create_session("/b", "m")
    a2 = store.create_session("/a", "m")
    assert [s.id for s in store.list("/a")] == [a2, a1]
    store.append(a1, prompt("later activity"))
    assert [s.id for s in store.list("/a")] == [a1, a2]
    assert store.latest("/a") == a1
    assert store.latest("/nowhere") is None
    assert {s.id for s in store.list()} == {a1, a2, b1}
    assert len(store.list(limit=2)) == 2
    assert len(store.list(limit=None)) == 3


def test_large_payloads_are_stored_once_and_read_back_transparently(store: SQLiteStore) -> None:
    content = "line of a file\n" * 1000
    assert len(content) > THRESHOLD
    sid = store.create_session("/ws", "m")
    for i in range(20):  # the same file read twenty times
        store.append(sid, result(f"c{i}", "read_file", content, files_read=["a.py"]))
    assert store.blob_stats() == (1, len(content))
    events = store.events(sid)
    assert all(e.data["message"]["text"] == content for e in events)
    assert events[0].data["files_read"] == ["a.py"]
    size = store.db.conn.execute("SELECT SUM(LENGTH(payload)) FROM events").fetchone()[0]
    assert size < 20 * 400  # each event holds a reference, not the text


def test_fork_copies_the_log_and_delete_removes_only_what_is_unshared(
        store: SQLiteStore) -> None:
    big = "x" * (THRESHOLD + 1)
    sid = store.create_session("/ws", "m")
    store.append_many(sid, [prompt("p"), result("c", "read_file", big)])
    fork = store.fork(sid)
    assert fork != sid
    info = store.get(fork)
    assert info.parent_id == sid and info.title == "p" and info.event_count == 2
    assert [e.data for e in store.events(fork)] == [e.data for e in store.events(sid)]
    assert store.append(fork, prompt("only in the fork")) == 3
    assert len(store.events(sid)) == 2
    store.delete(sid)
    with pytest.raises(SessionNotFound):
        store.get(sid)
    with pytest.raises(SessionNotFound):
        store.events(sid)
    assert store.events(fork)[1].data["message"]["text"] == big  # shared blob kept
    store.delete(fork)
    assert store.blob_stats() == (0, 0)
    assert store.db.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    with pytest.raises(SessionNotFound):
        store.delete(fork)
    with pytest.raises(SessionNotFound):
        store.append(fork, prompt("gone"))


def test_events_of_an_empty_session_and_of_no_session(store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "m")
    assert store.events(sid) == []
    with pytest.raises(SessionNotFound):
        store.events("0" * 32)
    with pytest.raises(SessionNotFound):
        store.get("0" * 32)


def test_store_path_follows_joiner_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_path() == home / "sessions.db"
    with open_store() as s:
        s.create_session("/ws", "m")
    assert (home / "sessions.db").exists()
    monkeypatch.delenv("JOINER_HOME")
    from platformdirs import user_data_dir

    assert store_path() == Path(user_data_dir("joiner")) / "sessions.db"


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(path) as s:
        sid = s.create_session("/ws", "m")
        s.append(sid, prompt("kept"))
    with open_store(path) as s:
        assert s.events(sid)[0].data["message"]["text"] == "kept"
    assert not os.path.exists(str(path) + "-journal")
