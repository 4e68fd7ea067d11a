"""Opening a SQLite store safely, and running short transactions on it.

- A file that is not SQLite, or SQLite without Joiner's ``application_id``, or
  from a newer schema, is refused before anything is written to it.
- WAL mode, ``synchronous=NORMAL`` (a ``kill -9`` never loses a committed
  transaction; only a power cut may drop the last ones), and write transactions
  started with ``BEGIN IMMEDIATE`` and retried on ``SQLITE_BUSY`` for up to
  ``RETRY_FOR_S``, so "database is locked" never reaches the user.
- Every wait of a write (and of opening the store) is polled here, in Python, with
  SQLite's own busy timeout at 0: Ctrl+C (SIGINT) or SIGTERM ends it between two tries
  (``lock_wait.LockWaitInterrupted``), even in an asyncio run whose signal handler
  cannot run while a write blocks its loop. Only a read's statements keep SQLite's busy
  timeout (``BUSY_TIMEOUT_S``): in WAL mode readers do not wait for writers.
- A data dir in trouble (full disk, read-only, cannot create the file, locked
  for too long) is a ``StoreError`` saying so in one line, never a raw
  ``sqlite3`` error; a failed write transaction is rolled back whole.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from joiner.sessions.errors import StoreError, StoreRefused
from joiner.sessions.lock_wait import SignalWatch
from joiner.sessions.migrations import all_migrations

APPLICATION_ID = 0x4A4E5252  # "JNRR": marks a Joiner session store
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 10.0  # SQLite's own wait for a lock, per statement of a read
RETRY_FOR_S = 120.0  # the longest wait for the lock, polled in Python
WRITE_POLL_MAX_S = 0.004  # the longest pause between two tries for the write lock
DISK_FULL_BELOW = 1 << 20  # bytes free under which an I/O error is reported as a full disk

T = TypeVar("T")


def _is_busy(err: sqlite3.OperationalError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(err).lower()
    return "locked" in text or "busy" in text


def environment_error(err: sqlite3.Error, path: Path) -> StoreError | None:
    """A failure of the data dir rather than of the file's content, as one line for the user;
    None for anything else."""
    code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _disk_full(path)):
        return StoreError(f"the disk holding the session store {path} is full; free some space "
                          "(or set JOINER_HOME to a directory on another disk)")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return StoreError(f"cannot write the session store {path} ({err}); make its directory "
                          "writable or set JOINER_HOME to a writable directory")
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(f"cannot write the session store {path}: {err} (is the disk full or "
                          "failing?)")
    if isinstance(err, sqlite3.OperationalError) and _is_busy(err):
        return StoreError(f"the session store {path} stayed locked too long by another process "
                          f"({err}); try again")
    return None


def _disk_full(path: Path) -> bool:
    """Whether the store's file system has (almost) no room left: SQLite reports a full disk
    as a plain I/O error when growing its shared-memory index or opening its journal."""
    try:
        return shutil.disk_usage(path.parent).free < DISK_FULL_BELOW
    except OSError:
        return False


def _refuse_foreign_file(path: Path) -> None:
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as err:
        raise StoreError(f"cannot read the session store {path}: {err.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreRefused(f"{path} is not a Joiner session store; move it away or set "
                           "JOINER_HOME to another directory (the file was not touched)")


class Database:
    """One connection to the store file, shared by the threads of this process."""

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        _refuse_foreign_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # no busy timeout while opening: its waits are polled (``_retry``)
            self.conn = sqlite3.connect(str(path), timeout=0, isolation_level=None,
                                        check_same_thread=False)
        except OSError as err:
            raise StoreError(f"cannot open the session store {path}: {err.strerror}; set "
                             "JOINER_HOME to a writable directory") from None
        except sqlite3.Error as err:
            raise (environment_error(err, path)
                   or StoreError(f"cannot open the session store {path}: {err}")) from None
        self.lock = threading.RLock()
        try:
            self._check_identity()
            self._retry(lambda: self.conn.execute("PRAGMA journal_mode=WAL").fetchone())
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._set_busy_timeout(busy_timeout)
        except sqlite3.DatabaseError as err:
            self.conn.close()
            if (trouble := environment_error(err, path)) is not None:
                raise trouble from None
            raise StoreRefused(f"{path} is not a usable Joiner session store ({err}); move it "
                               "away or set JOINER_HOME to another directory") from None
        except BaseException:
            self.conn.close()
            raise

    # -- identity and schema -------------------------------------------------------------------
    def _identity(self) -> tuple[int, int, int]:
        """The file's application id, schema version and number of tables, read together:
        one statement is one snapshot, so a store another process is creating is seen either
        empty or whole (three reads could see the tables of a store without its id yet)."""
        row = self.conn.execute(
            "SELECT (SELECT application_id FROM pragma_application_id()),"
            " (SELECT user_version FROM pragma_user_version()),"
            " (SELECT count(*) FROM sqlite_master)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _check_identity(self) -> None:
        app_id, version, tables = self._retry(self._identity)
        if app_id == 0 and tables == 0:
            return  # a new, empty file: ours to create
        if app_id != APPLICATION_ID:
            raise StoreRefused(f"{self.path} is a SQLite database but not a Joiner session store; "
                               "move it away or set JOINER_HOME (the file was not touched)")
        latest = len(all_migrations())
        if version > latest:
            raise StoreRefused(f"{self.path} was written by a newer Joiner (schema {version}, this "
                               f"one knows {latest}); upgrade Joiner (the file was not touched)")

    def _migrate(self) -> None:
        migrations = all_migrations()
        version = self._retry(lambda: self.conn.execute("PRAGMA user_version").fetchone()[0])
        if version >= len(migrations):
            return
        with self.write() as conn:
            self._check_identity()  # another process may have created or upgraded it meanwhile
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for migration in migrations[current:]:
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                             (migration.version, time.time()))
            conn.execute(f"PRAGMA user_version = {len(migrations)}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    # -- transactions --------------------------------------------------------------------------
    def _set_busy_timeout(self, seconds: float) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def _retry(self, action: Callable[[], T], first_delay: float = 0.005,
               max_delay: float = 0.25) -> T:
        """``action()`` until it does not meet a busy lock, for up to ``RETRY_FOR_S``; a
        SIGINT or SIGTERM during the wait ends it (``LockWaitInterrupted``)."""
        deadline = time.monotonic() + RETRY_FOR_S
        delay = first_delay
        with ExitStack() as waiting:
            watch: SignalWatch | None = None
            while True:
                try:
                    return action()
                except sqlite3.OperationalError as err:
                    if not _is_busy(err) or time.monotonic() > deadline:
                        raise
                what = f"waiting for the session store {self.path}, locked by another process"
                if watch is None:  # the first busy try: from now on, a signal ends the wait
                    watch = waiting.enter_context(SignalWatch())
                    watch.check(what)  # an interrupt just before: do not start waiting
                time.sleep(random.uniform(0.1, 1.0) * delay)
                watch.check(what)
                delay = min(delay * 2, max_delay)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction (``BEGIN IMMEDIATE``): all or nothing.

        SQLite's busy timeout is 0 for the whole transaction: we take the write lock by
        polling ourselves (briefly: SQLite's busy handler sleeps up to 100 ms at a time and
        starves unlucky writers), and a signal can end the wait between two tries."""
        with self.lock:
            self._set_busy_timeout(0)
            try:
                self._retry(lambda: self.conn.execute("BEGIN IMMEDIATE"),
                            first_delay=0.0005, max_delay=WRITE_POLL_MAX_S)
                try:
                    yield self.conn
                    self._retry(lambda: self.conn.execute("COMMIT"))
                except BaseException:
                    self._rollback()
                    raise
            except sqlite3.OperationalError as err:
                if (trouble := environment_error(err, self.path)) is None:
                    raise
                raise trouble from None
            finally:
                with suppress(sqlite3.Error):
                    self._set_busy_timeout(self.busy_timeout)

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads (WAL readers never wait for writers)."""
        with self.lock:
            self._retry(lambda: self.conn.execute("BEGIN"))
            try:
                yield self.conn
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
