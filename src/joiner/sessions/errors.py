"""Store failures, each with a message that is one clear line for the user."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every session-store failure; ``str(err)`` is fit to show the user."""


class StoreRefused(StoreError):
    """The file is not a Joiner store, or one written by a newer Joiner; it is left untouched."""


class SessionNotFound(StoreError):
    """No session has that id (or id prefix)."""


class AmbiguousSession(StoreError):
    """Several sessions start with the given prefix."""
