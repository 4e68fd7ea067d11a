"""Which store to open: ``JOINER_STORE_URL``, else the user config's ``store``, else SQLite.

``store = "sqlite"`` (the default) is the local file under the data dir;
``store = "postgresql://user@host/db"`` (or ``postgres://``) a shared PostgreSQL store.
Only the environment and the *user's* config choose it, never a project's
``.joiner/config.toml``: a repository must not be able to send your sessions elsewhere.
Passwords are best kept out of the URL (``~/.pgpass`` or ``PGPASSWORD`` work as usual).
"""

from __future__ import annotations

import os
from pathlib import Path

from joiner.sessions.errors import StoreError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
ENV_VAR = "JOINER_STORE_URL"


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def _configured() -> tuple[str | None, str]:
    """(the setting, where it came from)."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        return value, ENV_VAR
    from joiner.config import ConfigError, read_toml, user_config_path

    path = user_config_path()
    try:
        setting = read_toml(path).get("store")
    except ConfigError as err:
        raise StoreError(str(err)) from None
    if setting is not None and not isinstance(setting, str):
        raise StoreError(f"'store' in {path} must be \"sqlite\" or a postgresql:// URL")
    return setting, str(path)


def configured_store() -> str | Path:
    """A PostgreSQL URL, or the path of the SQLite store."""
    from joiner.sessions.paths import store_path

    setting, source = _configured()
    if setting is None or setting.strip() in ("", "sqlite"):
        return store_path()
    if is_postgres_url(setting.strip()):
        return setting.strip()
    raise StoreError(f"the session store setting in {source} must be \"sqlite\" or a "
                     "postgresql://USER@HOST/DB URL")
