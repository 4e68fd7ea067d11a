"""The SQLite backend of the session store (see ``store.Store`` for the interface)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from joiner.core.events import Event
from joiner.sessions import blobs
from joiner.sessions.errors import AmbiguousSession, SessionNotFound, StoreError
from joiner.sessions.liveness import is_alive, process_start, this_host
from joiner.sessions.sqlite_db import Database
from joiner.sessions.status import status_after, title_from
from joiner.sessions.store import STATUSES, SessionInfo

_COLUMNS = ("id, workspace, title, model, permission_mode, created_at, updated_at, status, "
            "parent_id, host, pid, pid_start, last_seq")
_HEX = re.compile(r"[0-9a-f]+")
_CHUNK = 500  # parameters per IN (...) query


def _encode(event: Event) -> tuple[str, float, str, dict[str, str]]:
    found: dict[str, str] = {}
    payload = blobs.externalize(event.data, found)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return event.type, float(event.time), text, found


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database(path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sessions ------------------------------------------------------------------------------
    def create_session(self, workspace: str, model: str, permission_mode: str | None = None,
                       parent_id: str | None = None) -> str:
        """A new session owned by this process (status ``running``); returns its id."""
        session_id = uuid.uuid4().hex
        now = time.time()
        pid = os.getpid()
        with self.db.write() as c:
            c.execute(f"INSERT INTO sessions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (session_id, str(workspace), "", model or "", permission_mode, now, now,
                       "running", parent_id, this_host(), pid, process_start(pid), 0))
        return session_id

    def resolve(self, prefix: str) -> str:
        """The full id of the one session whose id starts with ``prefix``."""
        wanted = prefix.strip().lower()
        if not _HEX.fullmatch(wanted):
            raise SessionNotFound(f"no session {prefix!r}: session ids are hexadecimal "
                                  "(see 'joiner sessions list --all')")
        upper = wanted[:-1] + chr(ord(wanted[-1]) + 1)
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
                (wanted, upper)).fetchall()
        if not rows:
            raise SessionNotFound(f"no session matches {prefix!r} "
                                  "(see 'joiner sessions list --all')")
        if len(rows) > 1:
            shown = ", ".join(r[0][:12] for r in rows[:2])
            raise AmbiguousSession(f"{prefix!r} matches several sessions ({shown}…); "
                                   "give more characters of the id")
        return rows[0][0]

    def get(self, session_id: str) -> SessionInfo:
        with self.db.lock:
            row = self.db.conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?",
                                       (session_id,)).fetchone()
        if row is None:
            raise SessionNotFound(f"no session {session_id!r} (see 'joiner sessions list --all')")
        info = self._info(row)
        if info.status != row[7]:  # its process died: record it, unless it changed meanwhile
            with self.db.write() as c:
                c.execute("UPDATE sessions SET status = ? WHERE id = ? AND status = ? "
                          "AND updated_at = ?", (info.status, session_id, row[7], row[6]))
        return info

    def list(self, workspace: str | None = None, limit: int | None = 50) -> list[SessionInfo]:
        """Sessions newest first (by last activity), of one workspace or all."""
        sql = f"SELECT {_COLUMNS} FROM sessions"
        params: list[Any] = []
        if workspace is not None:
            sql += " WHERE workspace = ?"
            params.append(str(workspace))
        sql += " ORDER BY updated_at DESC, id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self.db.lock:
            rows = self.db.conn.execute(sql, params).fetchall()
        return [self._info(r) for r in rows]

    def latest(self, workspace: str) -> str | None:
        """The id of the workspace's most recently active session, or None."""
        with self.db.lock:
            row = self.db.conn.execute(
                "SELECT id FROM sessions WHERE workspace = ? ORDER BY updated_at DESC, id DESC "
                "LIMIT 1", (str(workspace),)).fetchone()
        return None if row is None else row[0]

    def set_status(self, session_id: str, status: str, pid: int | None = None) -> None:
        """Set the status; ``running`` records the running process (``pid``, default this one)."""
        if status not in STATUSES:
            raise ValueError(f"unknown session status {status!r}")
        with self.db.write() as c:
            if status == "running":
                pid = os.getpid() if pid is None else pid
                cur = c.execute("UPDATE sessions SET status = ?, pid = ?, host = ?, pid_start = ?, "
                                "updated_at = ? WHERE id = ?",
                                (status, pid, this_host(), process_start(pid), time.time(),
                                 session_id))
            else:
                cur = c.execute("UPDATE sessions SET status = ?, updated_at = ? WHERE id = ?",
                                (status, time.time(), session_id))
            if cur.rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r}")

    def fork(self, session_id: str) -> str:
        """A new session with a copy of the whole log of ``session_id``; returns its id."""
        source = self.get(session_id)
        new_id = uuid.uuid4().hex
        now = time.time()
        status = source.status if source.status != "running" else "interrupted"
        with self.db.write() as c:
            c.execute(
                f"INSERT INTO sessions ({_COLUMNS}) SELECT ?, workspace, title, model, "
                "permission_mode, ?, ?, ?, id, host, NULL, NULL, last_seq FROM sessions "
                "WHERE id = ?", (new_id, now, now, status, session_id))
            c.execute("INSERT INTO events (session_id, seq, time, type, payload) "
                      "SELECT ?, seq, time, type, payload FROM events WHERE session_id = ?",
                      (new_id, session_id))
            c.execute("INSERT INTO blob_refs (session_id, sha256) "
                      "SELECT ?, sha256 FROM blob_refs WHERE session_id = ?", (new_id, session_id))
            # the log may have grown since get(): take the copied length
            c.execute("UPDATE sessions SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM events "
                      "WHERE session_id = ?) WHERE id = ?", (new_id, new_id))
        return new_id

    def delete(self, session_id: str) -> None:
        """Remove the session, its events, and the blobs no other session refers to."""
        with self.db.write() as c:
            shas = [r[0] for r in c.execute("SELECT sha256 FROM blob_refs WHERE session_id = ?",
                                            (session_id,))]
            c.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            c.execute("DELETE FROM blob_refs WHERE session_id = ?", (session_id,))
            cur = c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if cur.rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r}")
            for sha in shas:
                c.execute("DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS "
                          "(SELECT 1 FROM blob_refs WHERE sha256 = ?)", (sha, sha))

    # -- events --------------------------------------------------------------------------------
    def append(self, session_id: str, event: Event) -> int:
        """Append one event (one transaction); sets and returns ``event.seq``."""
        return self.append_many(session_id, [event])[0]

    def append_many(self, session_id: str, events: Iterable[Event]) -> list[int]:
        """Append events in one transaction: nothing of another writer comes between them."""
        batch = list(events)
        if not batch:
            return []
        encoded = [_encode(e) for e in batch]  # hashing and JSON outside the lock
        change = status_after(batch)
        title = title_from(batch)
        now = time.time()
        with self.db.write() as c:
            last = c.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?",
                             (session_id,)).fetchone()[0]
            seqs = list(range(last + 1, last + 1 + len(batch)))
            sets = ["updated_at = ?", "last_seq = ?", "title = CASE WHEN title = '' THEN ? "
                    "ELSE title END"]
            params: list[Any] = [now, seqs[-1], title]
            if change is not None:
                sets.append("status = ?")
                params.append(change)
                if change == "running":
                    pid = os.getpid()
                    sets.append("pid = ?, host = ?, pid_start = ?")
                    params += [pid, this_host(), process_start(pid)]
            cur = c.execute(f"UPDATE sessions SET {', '.join(sets)} WHERE id = ?",
                            (*params, session_id))
            if cur.rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r} (deleted?)")
            for _type, _time, _text, found in encoded:
                for sha, text in found.items():
                    c.execute("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) "
                              "ON CONFLICT (sha256) DO NOTHING", (sha, len(text), text))
                    c.execute("INSERT INTO blob_refs (session_id, sha256) VALUES (?, ?) "
                              "ON CONFLICT (session_id, sha256) DO NOTHING", (session_id, sha))
            c.executemany("INSERT INTO events (session_id, seq, time, type, payload) "
                          "VALUES (?, ?, ?, ?, ?)",
                          [(session_id, seq, t, kind, text)
                           for seq, (kind, t, text, _f) in zip(seqs, encoded, strict=True)])
        for event, seq in zip(batch, seqs, strict=True):
            event.seq = seq
        return seqs

    def events(self, session_id: str, after_seq: int = 0,
               types: Iterable[str] | None = None) -> list[Event]:
        """The session's events after ``after_seq``, in order, large payloads resolved."""
        sql = "SELECT seq, time, type, payload FROM events WHERE session_id = ? AND seq > ?"
        params: list[Any] = [session_id, after_seq]
        if types is not None:
            wanted = list(types)
            sql += f" AND type IN ({', '.join('?' * len(wanted)) or 'NULL'})"
            params += wanted
        with self.db.read() as c:
            rows = c.execute(sql + " ORDER BY seq", params).fetchall()
            if not rows and c.execute("SELECT 1 FROM sessions WHERE id = ?",
                                      (session_id,)).fetchone() is None:
                raise SessionNotFound(f"no session {session_id!r}")
            # only payloads holding a reference (or an escaped dict) need a second look
            decoded = [(seq, t, kind, json.loads(text), blobs.MARK in text)
                       for seq, t, kind, text in rows]
            refs: set[str] = set()
            for *_rest, data, marked in decoded:
                if marked:
                    blobs.references(data, refs)
            texts = self._blob_texts(c, sorted(refs))
        lookup = lambda sha: texts.get(sha, f"[missing stored text {sha[:12]}]")  # noqa: E731
        return [Event(kind, blobs.resolve(data, lookup) if marked else data, t, seq)
                for seq, t, kind, data, marked in decoded]

    @staticmethod
    def _blob_texts(c: Any, shas: Sequence[str]) -> dict[str, str]:
        texts: dict[str, str] = {}
        for i in range(0, len(shas), _CHUNK):
            part = shas[i : i + _CHUNK]
            rows = c.execute(f"SELECT sha256, data FROM blobs WHERE sha256 IN "
                             f"({', '.join('?' * len(part))})", part)
            texts.update(dict(rows.fetchall()))
        return texts

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _info(row: Sequence[Any]) -> SessionInfo:
        (sid, workspace, title, model, mode, created, updated, status, parent, host, pid,
         pid_start, last_seq) = row
        if status == "running" and not is_alive(pid, host, pid_start):
            status = "interrupted"
        return SessionInfo(sid, workspace, title, model, mode, created, updated, status, parent,
                           host, pid, last_seq)

    def blob_stats(self) -> tuple[int, int]:
        """(number of stored blobs, their total characters): for tests and benchmarks."""
        with self.db.lock:
            row = self.db.conn.execute("SELECT count(*), COALESCE(SUM(size), 0) FROM blobs")
            count, size = row.fetchone()
        return int(count), int(size)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only SQL statement, on a consistent snapshot (reports such
        as ``joiner usage``). Anything that would write fails (``PRAGMA query_only``)."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise StoreError("Store.query runs read-only SELECT statements only")
        with self.db.read() as c:
            c.execute("PRAGMA query_only = ON")
            try:
                return [tuple(row) for row in c.execute(sql, tuple(params)).fetchall()]
            except sqlite3.OperationalError as err:
                raise StoreError(f"Store.query: {err}") from None
            finally:
                c.execute("PRAGMA query_only = OFF")


__all__ = ["SQLiteStore", "StoreError"]
