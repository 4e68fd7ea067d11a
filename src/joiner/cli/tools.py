"""``joiner tools list [--json]``: the tools the model gets in this workspace."""

from __future__ import annotations

import json
from typing import Any

import click


def collect_tool_infos() -> list[dict[str, Any]]:
    """The entries of ``tools list``: the tools of this directory's workspace, with the
    configured ``[limits]`` and ``permission_mode`` (in ``plan`` the model gets read tools only).

    The MCP servers of the configuration are started to ask for their tools (``source:
    "mcp:NAME"``); a server that fails is a warning on stderr, not a failure.
    """
    from pathlib import Path

    from joiner.cli.errors import UserError
    from joiner.config import ConfigError, load_config
    from joiner.tools import all_tool_infos, builtin_tools
    from joiner.workspace.guard import Workspace
    from joiner.workspace.permissions import tools_for_mode
    from joiner.workspace.root import find_workspace

    root = find_workspace(Path.cwd())
    try:
        config = load_config(root)
        tools: list[Any] = builtin_tools(Workspace(root), config.get("limits"))
    except (ConfigError, ValueError) as err:
        raise UserError(f"{err}; fix the configuration") from None
    tools += _mcp_tools(config, root, [tool.spec.name for tool in tools])
    return all_tool_infos(tools_for_mode(tools, config.get("permission_mode") or "default"))


def _mcp_tools(config: dict[str, Any], root: Any, taken: list[str]) -> list[Any]:
    from joiner.mcp import list_mcp_tools

    def warn(line: str) -> None:
        click.echo(f"joiner: {line}", err=True)

    return list_mcp_tools(config, root, warn, taken)


@click.group(name="tools")
def tools() -> None:
    """The tools the model gets here."""


@tools.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (name, description, "
              "parameters, read_only, source).")
def list_tools(as_json: bool) -> None:
    """List the tools the model gets here (built-in and MCP)."""
    infos = collect_tool_infos()
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    width = max(len(info["name"]) for info in infos)
    source_width = max(len(info["source"]) for info in infos)
    for info in infos:
        access = "read-only " if info["read_only"] else "can change"
        summary = info["description"].split(". ")[0].rstrip(".")
        click.echo(f"{info['name']:<{width}}  {access}  {info['source']:<{source_width}}  "
                   f"{summary}")
