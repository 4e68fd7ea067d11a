"""What the model gets: the built-in tools, and their descriptions for ``joiner tools list``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from joiner.core import Tool
from joiner.tools.base import PathLocks, WorkspaceTool
from joiner.tools.files import EditFile, ReadFile, WriteFile
from joiner.tools.limits import Limits
from joiner.tools.search import Grep, ListFiles
from joiner.tools.shell import RunShell
from joiner.workspace.guard import Workspace

BUILTIN_TOOLS: tuple[type[WorkspaceTool], ...] = (
    ReadFile, WriteFile, EditFile, ListFiles, Grep, RunShell)


def builtin_tools(workspace: Workspace, limits: Mapping[str, Any] | None = None) -> list[Tool]:
    """The six built-in tools, confined to ``workspace``.

    ``limits`` overrides the output caps (keys and defaults in ``joiner.tools.limits``); an
    unknown key or a bad value raises ``ValueError`` naming it.
    """
    caps = Limits.from_mapping(limits)
    locks = PathLocks()  # shared: the file tools serialize their work per file
    return [tool(workspace, caps, locks) for tool in BUILTIN_TOOLS]


def tool_info(tool: Tool) -> dict[str, Any]:
    """One entry of ``joiner tools list --json``. ``source`` comes from the tool's ``source``
    attribute ("builtin" when it has none; MCP tools set "mcp:NAME")."""
    return {
        "name": tool.spec.name,
        "description": tool.spec.description,
        "parameters": tool.spec.parameters,
        "read_only": tool.kind == "read",
        "source": getattr(tool, "source", "builtin"),
    }


def all_tool_infos(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The entries of ``joiner tools list --json`` for ``tools`` (built-in and any others)."""
    return [tool_info(tool) for tool in tools]
