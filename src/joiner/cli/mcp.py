"""``joiner mcp add | list | remove``: the MCP servers of this workspace and of the user.

Only click and the standard library are imported here; the rest is imported when a command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from joiner.cli.errors import EXIT_FAILED, UserError

SCOPES = ("project", "user")


def _workspace() -> Path:
    from joiner.workspace.root import find_workspace

    return find_workspace(Path.cwd())


def _config_path(scope: str, workspace: Path) -> Path:
    from joiner.config import project_config_path, user_config_path

    return project_config_path(workspace) if scope == "project" else user_config_path()


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{option} {value!r} is not KEY=VALUE")
        out[key.strip()] = item
    return out


def _warn(line: str) -> None:
    print(f"joiner: {line}", file=sys.stderr)


@click.group()
def mcp() -> None:
    """MCP servers: their tools join the agent's as mcp__SERVER__TOOL."""


@mcp.command(context_settings={"ignore_unknown_options": False})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--scope", type=click.Choice(SCOPES), default="project", show_default=True,
              help="project: .joiner/config.toml of this workspace; user: your own config.")
@click.option("--env", "env", multiple=True, metavar="KEY=VALUE",
              help="An environment variable for the server (repeatable; kept secret).")
@click.option("--url", metavar="URL", help="A streamable-HTTP server instead of a command.")
@click.option("--header", "headers", multiple=True, metavar="KEY=VALUE",
              help="An HTTP header for a --url server (repeatable; kept secret).")
def add(name: str, command: tuple[str, ...], scope: str, env: tuple[str, ...],
        url: str | None, headers: tuple[str, ...]) -> None:
    """Add the server NAME: `joiner mcp add NAME -- CMD [ARGS...]` or `--url URL`."""
    from joiner.mcp.edit import ConfigEditError, add_server

    table: dict[str, Any]
    if url and command:
        raise UserError("give either --url URL or -- CMD [ARGS...], not both")
    if url:
        if env:
            raise UserError("--env is for servers started by a command; use --header with --url")
        table = {"url": url}
        if headers:
            table["headers"] = _pairs(headers, "--header")
    elif command:
        if headers:
            raise UserError("--header is for --url servers; use --env with a command")
        table = {"command": command[0]}
        if command[1:]:
            table["args"] = list(command[1:])
        if env:
            table["env"] = _pairs(env, "--env")
    else:
        raise UserError(f"say how to reach the server: joiner mcp add {name} -- CMD [ARGS...] "
                        f"or joiner mcp add {name} --url URL")
    path = _config_path(scope, _workspace())
    try:
        add_server(path, name, table)
    except ConfigEditError as err:
        raise UserError(str(err)) from None
    print(f"added MCP server '{name}' to {path}")
    if scope == "project" and (env or headers):
        _warn(f"{path} may be committed with the project; its env/header values are plain text "
              "there (use --scope user for secrets)")


@mcp.command()
@click.argument("name")
@click.option("--scope", type=click.Choice(SCOPES),
              help="Where to remove it from (needed when both configs have NAME).")
def remove(name: str, scope: str | None) -> None:
    """Remove the server NAME from the project's or the user's config."""
    from joiner.mcp.edit import ConfigEditError, remove_server, server_names

    workspace = _workspace()
    try:
        holders = [s for s in (scope,) if s] or [
            s for s in SCOPES if name in server_names(_config_path(s, workspace))]
        if not holders:
            raise UserError(f"no MCP server named {name!r} here; see joiner mcp list")
        if len(holders) > 1:
            raise UserError(f"{name!r} is in both the project's and the user's config; "
                            "say which with --scope project or --scope user")
        path = _config_path(holders[0], workspace)
        if not remove_server(path, name):
            raise UserError(f"no MCP server named {name!r} in {path}")
    except ConfigEditError as err:
        raise UserError(str(err)) from None
    print(f"removed MCP server '{name}' from {path}")


def _servers(workspace: Path) -> list[Any]:
    from joiner.config import ConfigError, load_config, read_toml
    from joiner.mcp.config import server_configs

    try:
        config = load_config(workspace)
        scopes = {str(name): "user" for name in
                  read_toml(_config_path("user", workspace)).get("mcp_servers", {})}
        scopes.update({str(name): "project" for name in
                       read_toml(_config_path("project", workspace)).get("mcp_servers", {})})
    except (ConfigError, AttributeError) as err:
        raise UserError(str(err)) from None
    return server_configs(config, _warn, scopes)  # type: ignore[arg-type]


@mcp.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array (secrets masked).")
def list_(as_json: bool) -> None:
    """Each server, its scope, whether it starts, and its tools (secrets masked)."""
    import asyncio

    from joiner.mcp.manager import probe

    workspace = _workspace()
    servers = _servers(workspace)
    statuses = asyncio.run(probe(servers, workspace, _warn)) if servers else []
    if as_json:
        print(json.dumps([s.to_dict() for s in statuses], indent=2))
        return
    if not statuses:
        print("no MCP servers configured; add one with: joiner mcp add NAME -- CMD [ARGS...]")
        return
    for status in statuses:
        config = status.config
        state = {"ready": f"ok, {len(status.tools)} tool{'s' if len(status.tools) != 1 else ''}",
                 "disabled": "disabled", "failed": "failed to start"}[status.state]
        print(f"{config.name}  ({config.scope or 'config'}, {config.transport})  {state}")
        print(f"  {config.describe()}")
        secrets = [f"{k}=***" for k in config.env] + [f"{k}: ***" for k in config.headers]
        if secrets:
            print(f"  {'env' if config.env else 'headers'}: {', '.join(secrets)}")
        if status.tools:
            print(f"  tools: {', '.join(t.spec.name for t in status.tools)}")
    if any(s.state == "failed" for s in statuses):
        raise SystemExit(EXIT_FAILED)
