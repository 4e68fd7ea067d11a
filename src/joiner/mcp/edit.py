"""Adding and removing ``[mcp_servers.NAME]`` in a config file without losing anything else.

``tomlkit`` keeps the file's comments, order and formatting; only the server's own table is
added or removed. The file is replaced atomically and keeps its permissions (a new one is
private to the user: it may hold secrets).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from joiner.mcp.config import ServerConfigError, parse_server


class ConfigEditError(Exception):
    """The file cannot be edited; the message says which file and why."""


def _load(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except OSError as err:
        raise ConfigEditError(f"cannot read {path}: {err.strerror}") from None
    try:
        return tomlkit.parse(text)
    except ParseError as err:
        raise ConfigEditError(f"{path} is not valid TOML ({err}); fix it first") from None


def _save(path: Path, document: Any) -> None:
    import tomlkit

    text = tomlkit.dumps(document)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        raise ConfigEditError(f"cannot write {path}: {err.strerror}") from None


def _servers_table(document: Any, path: Path, create: bool) -> Any:
    import tomlkit
    from tomlkit.items import Table

    section = document.get("mcp_servers")
    if section is None:
        if not create:
            return None
        section = tomlkit.table(is_super_table=True)
        document.add("mcp_servers", section)
        return section
    if not isinstance(section, Table):
        raise ConfigEditError(f"mcp_servers in {path} is not a [mcp_servers.NAME] table; "
                              "fix it by hand")
    return section


def server_names(path: Path) -> list[str]:
    """The servers configured in ``path`` (empty when the file does not exist)."""
    section = _servers_table(_load(path), path, create=False)
    return [] if section is None else [str(name) for name in section]


def add_server(path: Path, name: str, table: dict[str, Any]) -> None:
    """Adds ``[mcp_servers.NAME]``. Raises ``ConfigEditError`` if NAME exists or is invalid."""
    import tomlkit

    try:
        parse_server(name, table)
    except ServerConfigError as err:
        raise ConfigEditError(f"server {name!r}: {err}") from None
    document = _load(path)
    section = _servers_table(document, path, create=True)
    if name in section:
        raise ConfigEditError(f"an MCP server named {name!r} is already in {path}; "
                              f"remove it first with: joiner mcp remove {name}")
    entry = tomlkit.table()
    for key, value in table.items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            entry.add(key, inline)
        else:
            entry.add(key, value)
    section.add(name, entry)
    _save(path, document)


def remove_server(path: Path, name: str) -> bool:
    """Removes ``[mcp_servers.NAME]``; False if it was not there (the file is then untouched)."""
    document = _load(path)
    section = _servers_table(document, path, create=False)
    if section is None or name not in section:
        return False
    section.remove(name)
    if len(section) == 0:
        document.remove("mcp_servers")
    _save(path, document)
    return True
