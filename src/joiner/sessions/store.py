"""The session store's interface: what every backend (SQLite, PostgreSQL) offers.

A session is a row of metadata plus an append-only log of events numbered
1, 2, 3… (``seq``). Everything else (history, ``sessions show``, replay, usage)
is computed from the log.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from joiner.core.events import Event

STATUSES = ("running", "done", "error", "interrupted")


@dataclass(slots=True)
class SessionInfo:
    """A session's metadata. ``status`` is effective: a ``running`` session whose
    process is gone reads as ``interrupted``."""

    id: str
    workspace: str
    title: str
    model: str
    permission_mode: str | None
    created_at: float  # seconds since the epoch
    updated_at: float
    status: str
    parent_id: str | None
    host: str
    pid: int | None
    event_count: int

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access, for callers that treat a session as a dict."""
        return getattr(self, key, default)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC strings."""
        return {"id": self.id, "workspace": self.workspace, "title": self.title,
                "model": self.model, "permission_mode": self.permission_mode,
                "created_at": iso_time(self.created_at), "updated_at": iso_time(self.updated_at),
                "status": self.status, "parent_id": self.parent_id, "host": self.host,
                "pid": self.pid, "event_count": self.event_count}


def iso_time(epoch: float) -> str:
    moment = _dt.datetime.fromtimestamp(epoch, _dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store(Protocol):
    """The small interface every backend implements. Ids may be given to ``resolve`` by prefix;
    the other methods take full ids and raise ``SessionNotFound`` for unknown ones."""

    path: Path | str

    def create_session(self, workspace: str, model: str, permission_mode: str | None = None,
                       parent_id: str | None = None) -> str: ...

    def resolve(self, prefix: str) -> str: ...

    def append(self, session_id: str, event: Event) -> int: ...

    def append_many(self, session_id: str, events: Iterable[Event]) -> list[int]: ...

    def events(self, session_id: str, after_seq: int = 0,
               types: Iterable[str] | None = None) -> list[Event]: ...

    def get(self, session_id: str) -> SessionInfo: ...

    def list(self, workspace: str | None = None, limit: int | None = 50) -> list[SessionInfo]: ...

    def latest(self, workspace: str) -> str | None: ...

    def fork(self, session_id: str) -> str: ...

    def delete(self, session_id: str) -> None: ...

    def set_status(self, session_id: str, status: str, pid: int | None = None) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only SQL statement (for reports such as ``joiner usage``)."""
        ...

    def close(self) -> None: ...


def open_store(path: str | Path | None = None) -> Store:
    """Open (creating or migrating if needed) the store at ``path``: a SQLite file or a
    ``postgresql://`` URL; by default the configured one (``store_url.configured_store``).

    Raises ``StoreRefused`` for a file that is not a Joiner store or comes from a
    newer Joiner; such a file is never written to.
    """
    from joiner.sessions.store_url import configured_store, is_postgres_url

    target = configured_store() if path is None else path
    if is_postgres_url(target):
        from joiner.sessions.postgres_store import PostgresStore

        return PostgresStore(str(target))
    from joiner.sessions.sqlite_store import SQLiteStore

    return SQLiteStore(Path(target))
