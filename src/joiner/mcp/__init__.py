"""MCP servers: their config, their tools in a run, and ``joiner mcp`` editing.

- ``start_servers(config, workspace, warn)``: the servers of a run (``async with``); their
  ``tools`` join the built-in ones as ``mcp__SERVER__TOOL``.
- ``list_mcp_tools(config, workspace, warn, taken)`` / ``list_tool_infos(...)``: the MCP tools
  (or their ``joiner tools list --json`` entries), for the synchronous CLI.
- ``probe(servers, workspace, warn)``: what ``joiner mcp list`` shows.

Nothing here imports the MCP SDK until a server is actually started.
"""

from __future__ import annotations

from joiner.mcp.config import ServerConfig, ServerConfigError, parse_server, server_configs
from joiner.mcp.manager import (
    McpServers,
    discover_tools,
    list_mcp_tools,
    list_tool_infos,
    probe,
    start_servers,
)

__all__ = [
    "McpServers",
    "ServerConfig",
    "ServerConfigError",
    "discover_tools",
    "list_mcp_tools",
    "list_tool_infos",
    "parse_server",
    "probe",
    "server_configs",
    "start_servers",
]
