"""``[mcp_servers.NAME]`` tables: parsed, checked, and shown without their secrets.

```toml
[mcp_servers.time]                 # stdio: Joiner starts the command
command = "mcp-server-time"
args = ["--local-timezone", "UTC"]
env = { TZ_API_KEY = "…" }         # extra environment (secret: never shown or stored)
startup_timeout = 10               # seconds to start and list tools (default 10)
tool_timeout = 60                  # seconds one call may take (default: the run's tool timeout)
enabled = true                     # false: configured but not started

[mcp_servers.docs]                 # streamable HTTP: Joiner connects to the URL
url = "https://example.com/mcp"
headers = { Authorization = "Bearer …" }   # secret, like env
```

A malformed table is one warning and is skipped; it never stops a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

Scope = Literal["project", "user"]
Warn = Callable[[str], None]

DEFAULT_STARTUP_TIMEOUT = 10.0
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MASK = "***"
_KEYS = {"command", "args", "env", "cwd", "url", "headers", "startup_timeout", "tool_timeout",
         "enabled"}


class ServerConfigError(ValueError):
    """A ``[mcp_servers.NAME]`` table cannot be used; the message says what to fix."""


@dataclass(slots=True)
class ServerConfig:
    name: str
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    tool_timeout: float | None = None
    enabled: bool = True
    scope: Scope | None = None

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def secrets(self) -> list[str]:
        """Values that must never be shown: env and header values, URL credentials and query."""
        values = [*self.env.values(), *self.headers.values()]
        if self.url:
            parts = urlsplit(self.url)
            values += [v for v in (parts.password, parts.query) if v]
        return [v for v in values if len(v) >= 4]

    def redact(self, text: str) -> str:
        """``text`` with every secret of this server replaced by ``***``."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def describe(self) -> str:
        """The command line or URL, secrets masked (for ``joiner mcp list``)."""
        if self.url:
            return mask_url(self.url)
        return self.redact(" ".join(_quote(part) for part in [self.command or "", *self.args]))

    def masked(self) -> dict[str, Any]:
        """The table as ``mcp list --json`` shows it: every env/header value masked."""
        out: dict[str, Any] = {"name": self.name, "scope": self.scope, "enabled": self.enabled}
        if self.url:
            out["url"] = mask_url(self.url)
            out["headers"] = dict.fromkeys(self.headers, MASK)
        else:
            out["command"] = self.redact(self.command or "")
            out["args"] = [self.redact(arg) for arg in self.args]
            out["env"] = dict.fromkeys(self.env, MASK)
        return out


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.username or parts.password:
        netloc = f"{MASK}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, MASK if parts.query else "", ""))


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ServerConfigError(f"{what} must be a list of strings")
    return list(value)


def _table(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ServerConfigError(f"{what} must be a table of strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ServerConfigError(f"{what}.{key} must be a string")
        out[str(key)] = str(item)
    return out


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ServerConfigError(f"{what} must be a positive number of seconds")
    return float(value)


def parse_server(name: str, table: Any, scope: Scope | None = None) -> ServerConfig:
    """One ``[mcp_servers.NAME]`` table. Raises ``ServerConfigError``."""
    if not NAME_PATTERN.match(name):
        raise ServerConfigError("the name must be letters, digits, '-' or '_' (at most 40)")
    if not isinstance(table, Mapping):
        raise ServerConfigError("must be a table with command = ... or url = ...")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ServerConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    command, url = table.get("command"), table.get("url")
    if (command is None) == (url is None):
        raise ServerConfigError("needs exactly one of command = \"...\" (stdio) or url = \"...\"")
    server = ServerConfig(name, scope=scope)
    if command is not None:
        if not isinstance(command, str) or not command.strip():
            raise ServerConfigError("command must be a non-empty string")
        server.command = command
        server.args = _strings(table.get("args", []), "args")
        server.env = _table(table.get("env", {}), "env")
        if "cwd" in table:
            if not isinstance(table["cwd"], str):
                raise ServerConfigError("cwd must be a string")
            server.cwd = table["cwd"]
    else:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ServerConfigError("url must be an http:// or https:// URL")
        server.url = url
        server.headers = _table(table.get("headers", {}), "headers")
        if "args" in table or "env" in table:
            raise ServerConfigError("args and env are for stdio servers; an url server has headers")
    if "startup_timeout" in table:
        server.startup_timeout = _seconds(table["startup_timeout"], "startup_timeout")
    if "tool_timeout" in table:
        server.tool_timeout = _seconds(table["tool_timeout"], "tool_timeout")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ServerConfigError("enabled must be true or false")
    server.enabled = enabled
    return server


def server_configs(config: Mapping[str, Any], warn: Warn,
                   scopes: Mapping[str, Scope] | None = None) -> list[ServerConfig]:
    """Every usable server of a (merged) config, in file order; a bad table is one warning."""
    section = config.get("mcp_servers", {})
    if not isinstance(section, Mapping):
        warn("[mcp_servers] in config must be a table of servers; no MCP server started")
        return []
    servers = []
    for name, table in section.items():
        try:
            servers.append(parse_server(str(name), table, (scopes or {}).get(str(name))))
        except ServerConfigError as err:
            warn(f"mcp server {name!r} in config is skipped: {err}")
    return servers
