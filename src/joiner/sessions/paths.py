"""Where the session store lives."""

from __future__ import annotations

from pathlib import Path


def data_dir() -> Path:
    """``$JOINER_HOME`` if set, else the platform's data dir for joiner (the same place as
    the checkpoints and logs: ``joiner.config.data_dir``)."""
    from joiner.config import data_dir as configured

    return configured()


def store_path() -> Path:
    """The SQLite store: ``$JOINER_HOME/sessions.db`` or ``user_data_dir("joiner")/sessions.db``."""
    return data_dir() / "sessions.db"
