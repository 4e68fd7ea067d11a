"""Where the session store lives."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$JOINER_HOME`` if set, else the platform's data dir for joiner."""
    home = os.environ.get("JOINER_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("joiner"))


def store_path() -> Path:
    """The SQLite store: ``$JOINER_HOME/sessions.db`` or ``user_data_dir("joiner")/sessions.db``."""
    return data_dir() / "sessions.db"
