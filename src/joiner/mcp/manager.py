"""The MCP servers of one run: started together, their tools, stopped together.

```python
async with start_servers(config, workspace, warn) as servers:
    tools = [*builtin, *servers.tools]
```
With no server configured nothing is imported from the SDK (it takes most of a second).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from joiner.mcp.config import ServerConfig, Warn, server_configs

if TYPE_CHECKING:
    from joiner.mcp.connection import ServerConnection
    from joiner.mcp.tool import McpTool


def default_log_dir() -> Path:
    from joiner.config import data_dir

    return data_dir() / "logs"


class McpServers:
    """Starts the enabled servers in parallel; ``tools`` are those of the servers that started."""

    def __init__(self, servers: Iterable[ServerConfig], workspace: Path, warn: Warn,
                 log_dir: Path | None = None, taken: Iterable[str] = ()) -> None:
        self.configs = list(servers)
        self.workspace = workspace
        self.warn = warn
        self.log_dir = log_dir
        self.taken = set(taken)
        self.connections: list[ServerConnection] = []
        self.tools: list[McpTool] = []

    async def start(self) -> None:
        enabled = [c for c in self.configs if c.enabled]
        if not enabled:
            return
        from joiner.mcp.connection import ServerConnection
        from joiner.mcp.tool import server_tools

        log_dir = self.log_dir if self.log_dir is not None else default_log_dir()
        self.connections = [ServerConnection(c, self.workspace, self.warn, log_dir)
                            for c in enabled]
        try:
            await asyncio.gather(*(c.start() for c in self.connections))
        except BaseException:
            await self.close()
            raise
        for connection in self.connections:
            if connection.state == "ready":
                self.tools.extend(server_tools(connection, self.taken))

    async def close(self) -> None:
        """Stops every server (in parallel, each bounded); never raises."""
        await asyncio.gather(*(c.stop() for c in self.connections), return_exceptions=True)

    async def __aenter__(self) -> McpServers:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


def start_servers(config: Mapping[str, Any], workspace: Path, warn: Warn,
                  taken: Iterable[str] = ()) -> McpServers:
    """The servers of a (merged) config, to be entered with ``async with``."""
    return McpServers(server_configs(config, warn), workspace, warn, taken=taken)


@dataclass(slots=True)
class ServerStatus:
    """What ``joiner mcp list`` shows of one server."""

    config: ServerConfig
    state: str  # ready | failed | disabled
    error: str | None
    tools: list[McpTool]

    def to_dict(self) -> dict[str, Any]:
        return {**self.config.masked(), "transport": self.config.transport,
                "state": self.state, "error": self.error,
                "tools": [t.spec.name for t in self.tools]}


async def probe(servers: list[ServerConfig], workspace: Path, warn: Warn,
                log_dir: Path | None = None) -> list[ServerStatus]:
    """Starts every enabled server once, notes what it offers, stops them all."""
    manager = McpServers(servers, workspace, warn, log_dir)
    async with manager:
        by_name = {c.name: c for c in manager.connections}
        statuses = []
        for config in servers:
            connection = by_name.get(config.name)
            if connection is None:
                statuses.append(ServerStatus(config, "disabled", None, []))
                continue
            state = "ready" if connection.state == "ready" else "failed"
            tools = [t for t in manager.tools if t.server == config.name]
            statuses.append(ServerStatus(config, state, connection.error, tools))
    return statuses


async def discover_tools(config: Mapping[str, Any], workspace: Path, warn: Warn,
                         taken: Iterable[str] = ()) -> list[McpTool]:
    """Every MCP tool of this workspace's servers, which are started and stopped again.

    The tools describe themselves (``spec``, ``kind``, ``source``) but can no longer be called.
    """
    async with start_servers(config, workspace, warn, taken) as servers:
        return list(servers.tools)


def list_mcp_tools(config: Mapping[str, Any], workspace: Path, warn: Warn | None = None,
                   taken: Iterable[str] = ()) -> list[McpTool]:
    """``discover_tools`` for synchronous callers (``joiner tools list``).

    ``taken``: names already used (the built-in tools), so a clash is a warning, not a duplicate.
    """
    if not server_configs(config, lambda _line: None):
        return []
    return asyncio.run(discover_tools(config, workspace, warn or (lambda _line: None), taken))


def list_tool_infos(config: Mapping[str, Any], workspace: Path, warn: Warn | None = None,
                    taken: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The ``joiner tools list --json`` entries of every MCP tool of this workspace."""
    return [tool.info() for tool in list_mcp_tools(config, workspace, warn, taken)]
