"""An MCP server's tool as a Joiner ``Tool``: ``mcp__SERVER__TOOL``.

Its kind is ``read`` only when the server annotates it ``readOnlyHint``; every other MCP tool is
``execute``: it can do anything its server can (send mail, drop a table, run a command), so it
needs the permission a shell command needs — approval in ``default`` and ``accept-edits``,
not offered in ``plan``, allowed in ``auto`` (see ``joiner.workspace.permissions``).

Names are made safe for every provider (letters, digits, ``_`` and ``-``, at most 64
characters); the server's own name is used for the call.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from joiner.core import ToolKind, ToolOutput, ToolSpec

if TYPE_CHECKING:
    from joiner.mcp.connection import ServerConnection

MAX_NAME = 64
MAX_DESCRIPTION = 4000
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """``mcp__SERVER__TOOL`` with unsafe characters as ``_``; a long name ends in a short hash."""
    name = _UNSAFE.sub("_", f"mcp__{server}__{tool}")
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` cannot be given to a model as a tool's parameters, or None if it can."""
    if not isinstance(schema, dict):
        return "the input schema is not a JSON object"
    if schema.get("type") != "object":
        return 'the input schema\'s root "type" is not "object"'
    from jsonschema import Draft202012Validator, SchemaError, validators

    try:
        validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.path)
        return f"the input schema is invalid ({err.message}{f' at {where}' if where else ''})"
    return None


class McpTool:
    """A tool of a running MCP server; calls go through its ``ServerConnection``."""

    def __init__(self, connection: ServerConnection, remote: Any, name: str) -> None:
        self.connection = connection
        self.server = connection.name
        self.source = f"mcp:{self.server}"  # what ``joiner tools list`` shows
        self.remote_name: str = remote.name
        annotations = remote.annotations
        self.read_only = bool(annotations is not None and annotations.read_only_hint)
        self.kind: ToolKind = "read" if self.read_only else "execute"
        description = (remote.description or "").strip() or (
            f"{remote.name} (a tool of the MCP server '{self.server}')")
        if len(description) > MAX_DESCRIPTION:
            description = description[:MAX_DESCRIPTION] + "…"
        self.spec = ToolSpec(name, description, dict(remote.input_schema))

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        return await self.connection.call(self.remote_name, arguments)

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None

    def info(self) -> dict[str, Any]:
        """The entry of ``joiner tools list --json``."""
        return {"name": self.spec.name, "description": self.spec.description,
                "parameters": self.spec.parameters, "read_only": self.read_only,
                "source": self.source}


def server_tools(connection: ServerConnection, taken: set[str]) -> list[McpTool]:
    """The usable tools of a ready server; an invalid or clashing one is one warning, skipped.

    ``taken`` holds the names already given (built-in and earlier servers) and is updated.
    """
    tools = []
    for remote in connection.tools:
        problem = schema_problem(remote.input_schema)
        name = tool_name(connection.name, remote.name)
        if problem is None and name in taken:
            problem = f"its name {name} is already taken"
        if problem is not None:
            connection.warn(f"tool '{remote.name}' is skipped: {problem}")
            continue
        taken.add(name)
        tools.append(McpTool(connection, remote, name))
    return tools
