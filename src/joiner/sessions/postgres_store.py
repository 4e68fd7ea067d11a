"""The PostgreSQL backend of the session store: ``store = "postgresql://…"``.

Sessions from many machines in one place. The store logic is the SQLite store's
(its SQL is portable and runs here through ``PostgresDatabase``, which speaks its
``?`` parameters); this class replaces only what PostgreSQL does differently:

- ``append_many``: one statement (one round trip): the next ``seq`` comes from ``UPDATE
  sessions … RETURNING last_seq``, whose row lock orders two writers of one session (two
  machines on one session lose nothing and never interleave a batch), while other
  sessions append in parallel;
- ``delete``: collects unreferenced blobs under the exclusive blob lock, so a concurrent
  append can never refer to a blob that is being removed;
- ``resolve``: prefix matching with ``LIKE`` (range comparisons depend on the database's
  collation, which ignores punctuation in most locales);
- blob texts are stored as JSON strings: PostgreSQL text cannot hold a NUL character,
  which tool outputs may contain;
- ``query``: read-only through a ``READ ONLY`` transaction (SQLite uses a pragma).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

from joiner.core.events import Event
from joiner.sessions.errors import AmbiguousSession, SessionNotFound, StoreError
from joiner.sessions.liveness import process_start, this_host
from joiner.sessions.postgres_db import BLOB_LOCK, PostgresDatabase
from joiner.sessions.sqlite_store import _CHUNK, _HEX, SQLiteStore, _encode
from joiner.sessions.status import status_after, title_from

# One statement, so one round trip (its own transaction): the shared blob lock, the
# session row updated (its lock orders this session's writers; RETURNING gives the
# numbers), the blobs and their references, then the events numbered from there.
_APPEND_SQL = """
WITH locked AS (SELECT pg_advisory_xact_lock_shared(?)),
     s AS (UPDATE sessions SET {sets}
           WHERE id = ? AND (SELECT count(*) FROM locked) = 1 RETURNING last_seq),
     b AS (INSERT INTO blobs (sha256, size, data)
           SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[])
           WHERE EXISTS (SELECT 1 FROM s) ON CONFLICT (sha256) DO NOTHING),
     r AS (INSERT INTO blob_refs (session_id, sha256)
           SELECT ?, sha FROM unnest(?::text[]) AS sha
           WHERE EXISTS (SELECT 1 FROM s) ON CONFLICT (session_id, sha256) DO NOTHING)
INSERT INTO events (session_id, seq, time, type, payload)
SELECT ?, s.last_seq - ? + v.n, v.time, v.type, v.payload
FROM s, unnest(?::float8[], ?::text[], ?::text[]) WITH ORDINALITY AS v (time, type, payload, n)
RETURNING seq
"""


class PostgresStore(SQLiteStore):
    """``PostgresStore("postgresql://user@host/db")``; the ``Store`` interface."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:  # the SQLite constructor opens a file: not called
        self.db = PostgresDatabase(url)  # type: ignore[assignment]
        self.path = self.db.shown  # type: ignore[assignment]

    def resolve(self, prefix: str) -> str:
        """The full id of the one session whose id starts with ``prefix``."""
        wanted = prefix.strip().lower()
        if not _HEX.fullmatch(wanted):
            raise SessionNotFound(f"no session {prefix!r}: session ids are hexadecimal "
                                  "(see 'joiner sessions list --all')")
        with self.db.lock:
            rows = self.db.conn.execute("SELECT id FROM sessions WHERE id LIKE ? ORDER BY id "
                                        "LIMIT 3", (wanted + "%",)).fetchall()
        if not rows:
            raise SessionNotFound(f"no session matches {prefix!r} "
                                  "(see 'joiner sessions list --all')")
        if len(rows) > 1:
            shown = ", ".join(r[0][:12] for r in rows[:2])
            raise AmbiguousSession(f"{prefix!r} matches several sessions ({shown}…); "
                                   "give more characters of the id")
        return str(rows[0][0])

    def append_many(self, session_id: str, events: Iterable[Event]) -> list[int]:
        """Append events in one transaction: nothing of another writer comes between them."""
        batch = list(events)
        if not batch:
            return []
        encoded = [_encode(e) for e in batch]  # hashing and JSON outside the transaction
        change = status_after(batch)
        title = title_from(batch).replace("\x00", "\ufffd")  # text cannot hold NUL
        sets = ["last_seq = last_seq + ?", "updated_at = ?",
                "title = CASE WHEN title = '' THEN ? ELSE title END"]
        params: list[Any] = [len(batch), time.time(), title]
        if change is not None:
            sets.append("status = ?")
            params.append(change)
            if change == "running":
                pid = os.getpid()
                sets.append("pid = ?, host = ?, pid_start = ?")
                params += [pid, this_host(), process_start(pid)]
        found = {sha: text for *_rest, shas in encoded for sha, text in shas.items()}
        sql = _APPEND_SQL.format(sets=", ".join(sets))
        rows = self.db.statement(sql, (  # type: ignore[attr-defined]
            BLOB_LOCK, *params, session_id,
            list(found), [len(t) for t in found.values()], [json.dumps(t) for t in found.values()],
            session_id, list(found),
            session_id, len(batch), [t for _k, t, _x, _f in encoded],
            [k for k, _t, _x, _f in encoded], [x for _k, _t, x, _f in encoded]))
        if not rows:
            raise SessionNotFound(f"no session {session_id!r} (deleted?)")
        seqs = sorted(r[0] for r in rows)
        for event, seq in zip(batch, seqs, strict=True):
            event.seq = seq
        return seqs

    def delete(self, session_id: str) -> None:
        """Remove the session, its events, and the blobs no other session refers to."""
        with self.db.write(exclusive=True) as c:  # type: ignore[call-arg]
            shas = [r[0] for r in c.execute("SELECT sha256 FROM blob_refs WHERE session_id = ?",
                                            (session_id,)).fetchall()]
            c.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            c.execute("DELETE FROM blob_refs WHERE session_id = ?", (session_id,))
            cur = c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if cur.rowcount == 0:
                raise SessionNotFound(f"no session {session_id!r}")
            if shas:
                c.execute("DELETE FROM blobs WHERE sha256 = ANY(?) AND NOT EXISTS "
                          "(SELECT 1 FROM blob_refs r WHERE r.sha256 = blobs.sha256)", (shas,))

    @staticmethod
    def _blob_texts(c: Any, shas: Sequence[str]) -> dict[str, str]:
        texts: dict[str, str] = {}
        for i in range(0, len(shas), _CHUNK):
            part = list(shas[i : i + _CHUNK])
            rows = c.execute("SELECT sha256, data FROM blobs WHERE sha256 = ANY(?)", (part,))
            texts.update((sha, json.loads(data)) for sha, data in rows.fetchall())
        return texts

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only SQL statement (``?`` parameters), on one snapshot;
        anything that would write fails."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise StoreError("Store.query runs read-only SELECT statements only")
        psycopg = self.db.psycopg  # type: ignore[attr-defined]
        try:
            with self.db.read() as c:
                return [tuple(row) for row in c.execute(sql, tuple(params)).fetchall()]
        except psycopg.Error as err:
            raise StoreError(f"Store.query: {str(err).strip().splitlines()[0]}") from None


__all__ = ["PostgresStore"]
