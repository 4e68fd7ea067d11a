"""A connection to a PostgreSQL session store, and short transactions on it (psycopg 3).

It offers what the SQLite ``Database`` offers the store code (``conn.execute`` with
``?`` parameters, ``lock``, ``write()``, ``read()``, ``close()``), so the store's
portable SQL runs unchanged; only what differs is in ``postgres_store.py``.

- Joiner's tables live in their own schema, ``joiner``, so a database shared with
  other applications is fine (their tables named ``sessions`` are never touched). The
  schema is marked by its comment; a ``joiner`` schema without the mark, or from a
  newer Joiner, is refused untouched.
- Migrations are the SQLite store's numbered ones, run in one transaction under an
  advisory lock (several machines may start at once). A migration module may carry
  ``POSTGRES_STATEMENTS`` where its SQL is SQLite's own; ``postgres_migrations.py``
  has those of the migrations written before this backend.
- Concurrency is PostgreSQL's, through transactions: every write transaction takes a
  shared advisory lock (writers never wait for each other on it), and a session's
  appends are ordered by its row lock (``postgres_store``); only deleting a session,
  which collects the blobs nobody refers to any more, takes that lock exclusively.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joiner.sessions.errors import StoreError, StoreRefused

SCHEMA = "joiner"
SCHEMA_MARK = "Joiner session store"
MIGRATION_LOCK = 0x4A4E5201  # advisory lock keys ("JNR" + a number)
BLOB_LOCK = 0x4A4E5202
CONNECT_TIMEOUT_S = 10
INSTALL_HINT = "pip install 'joiner[postgres]'"


def redact(url: str) -> str:
    """The URL without its password, fit for messages and ``store.path``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders (the store's) as psycopg's ``%s``; a literal ``%`` doubled.

    ``?`` inside quoted strings, quoted identifiers and comments is left alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' or "" inside: an escaped quote
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class QmarkConnection:
    """The psycopg connection with the ``?`` parameter style of the store's SQL; a lost
    connection is a one-line ``StoreError`` (and is opened again by the next transaction)."""

    def __init__(self, raw: Any, shown: str) -> None:
        self.raw = raw
        self.shown = shown

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._errors():
            return self.raw.execute(to_pyformat(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        with self._errors():
            cursor = self.raw.cursor()
            cursor.executemany(to_pyformat(sql), rows)
            return cursor

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """psycopg's connection failures as ``StoreError``."""
        from psycopg import OperationalError

        try:
            yield
        except OperationalError as err:
            raise StoreError(f"the session store {self.shown} failed: {_first_line(err)}") \
                from None


def _first_line(err: BaseException) -> str:
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(err).__name__


class PostgresDatabase:
    """One connection (autocommit; explicit transactions), shared by this process's threads."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(f"the session store is PostgreSQL ({redact(url)}) but psycopg is "
                             f"not installed; install it with: {INSTALL_HINT}") from None
        self.psycopg = psycopg
        self.url = url
        self.shown = redact(url)
        self.lock = threading.RLock()
        self.conn = QmarkConnection(self._connect(), self.shown)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> Any:
        try:
            raw = self.psycopg.connect(self.url, autocommit=True,
                                       connect_timeout=CONNECT_TIMEOUT_S,
                                       application_name="joiner")
        except self.psycopg.Error as err:
            raise StoreError(f"cannot connect to the session store {self.shown}: "
                             f"{_first_line(err)}; check the 'store' setting or "
                             "JOINER_STORE_URL") from None
        raw.execute(f"SET search_path TO {SCHEMA}")
        # JIT compilation costs more than it saves on the store's short queries: it was
        # 60% of joiner usage's report over 100,000 requests (benchmarks/bench_store_postgres)
        raw.execute("SET jit = off")
        return raw

    def _ensure_connected(self) -> None:
        """Reconnect after the server closed the connection (restart, idle timeout)."""
        if self.conn.raw.closed or self.conn.raw.broken:
            self.conn = QmarkConnection(self._connect(), self.shown)

    # -- identity and schema -------------------------------------------------------------------
    def _identity(self) -> tuple[bool, str | None, int, int]:
        """(schema exists, its comment, tables in it, applied schema version)."""
        c = self.conn
        row = c.execute("SELECT obj_description(n.oid, 'pg_namespace') FROM pg_namespace n "
                        "WHERE n.nspname = ?", (SCHEMA,)).fetchone()
        if row is None:
            return False, None, 0, 0
        tables = c.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = ?", (SCHEMA,)).fetchone()[0]
        version = 0
        if c.execute("SELECT to_regclass(?)", (f"{SCHEMA}.schema_version",)).fetchone()[0]:
            version = c.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version"
                                ).fetchone()[0]
        return True, row[0], int(tables), int(version)

    def _check_identity(self) -> int:
        from joiner.sessions.migrations import latest_version

        exists, mark, tables, version = self._identity()
        if exists and tables and mark != SCHEMA_MARK:
            raise StoreRefused(f"the schema {SCHEMA!r} of {self.shown} is not a Joiner session "
                               "store; use another database (nothing was changed)")
        if version > latest_version():
            raise StoreRefused(f"{self.shown} was written by a newer Joiner (schema {version}, "
                               f"this one knows {latest_version()}); upgrade Joiner (nothing "
                               "was changed)")
        return version

    def _migrate(self) -> None:
        from joiner.sessions.postgres_migrations import postgres_migrations

        migrations = postgres_migrations()
        with self.lock:
            if self._check_identity() >= len(migrations):
                return
            try:
                with self.conn.raw.transaction():
                    self.conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                    current = self._check_identity()  # another process may have migrated
                    self.conn.raw.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                    self.conn.raw.execute(f"COMMENT ON SCHEMA {SCHEMA} IS '{SCHEMA_MARK}'")
                    for version, statements in migrations[current:]:
                        for statement in statements:
                            self.conn.raw.execute(statement)
                        self.conn.execute("INSERT INTO schema_version (version, applied_at) "
                                          "VALUES (?, extract(epoch FROM now()))", (version,))
            except self.psycopg.Error as err:
                raise StoreError(f"cannot set up the session store {self.shown}: "
                                 f"{_first_line(err)}") from None

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def write(self, exclusive: bool = False) -> Iterator[QmarkConnection]:
        """A write transaction: all or nothing. ``exclusive`` waits for every other writer
        (only blob collection needs it)."""
        lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with self.lock, self.conn._errors():
            self._ensure_connected()
            with self.conn.raw.transaction():
                self.conn.execute(f"SELECT {lock}(?)", (BLOB_LOCK,))
                yield self.conn

    def statement(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run one statement as its own transaction (one round trip); its rows."""
        with self.lock, self.conn._errors():
            self._ensure_connected()
            cursor = self.conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def read(self) -> Iterator[QmarkConnection]:
        """One consistent snapshot for several reads; any write in it fails."""
        with self.lock, self.conn._errors():
            self._ensure_connected()
            with self.conn.raw.transaction():
                self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield self.conn

    def close(self) -> None:
        with self.lock:
            self.conn.raw.close()

