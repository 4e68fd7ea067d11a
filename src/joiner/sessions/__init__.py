"""Sessions: the append-only event store and what is computed from it.

Public API (other rooms use only these names):
- ``open_store(path=None) -> Store`` and ``store_path()``; errors derive from ``StoreError``.
- ``Store``: ``create_session``, ``resolve``, ``append``, ``append_many``, ``events``, ``get``,
  ``list``, ``latest``, ``fork``, ``delete``, ``set_status`` (see ``store.Store``).
- ``StoreSink(store, session_id)``: the core ``EventSink`` writing a run's events.
- ``rebuild_messages(events)``: the conversation to resume with.
- ``usage_totals(store, session_id)`` / ``sum_usage(events)``.
"""

from joiner.sessions.errors import AmbiguousSession, SessionNotFound, StoreError, StoreRefused
from joiner.sessions.history import rebuild_messages
from joiner.sessions.paths import store_path
from joiner.sessions.sink import StoreSink
from joiner.sessions.store import STATUSES, SessionInfo, Store, open_store
from joiner.sessions.usage import sum_usage, usage_totals

__all__ = [
    "STATUSES",
    "AmbiguousSession",
    "SessionInfo",
    "SessionNotFound",
    "Store",
    "StoreError",
    "StoreRefused",
    "StoreSink",
    "open_store",
    "rebuild_messages",
    "store_path",
    "sum_usage",
    "usage_totals",
]
