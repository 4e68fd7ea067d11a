"""The base of the tools: a ``ModelTool`` is an argument model plus an async function.

Two ways to define a tool:

- a subclass of ``ModelTool`` with ``name``, ``description``, ``kind``, ``Args`` and ``call``;
- ``define_tool(name, description, kind, Args)`` around ``async def fn(args) -> ToolOutput | str``.

The argument models are Pydantic models (``schema.ToolArgs``). The built-in tools name theirs
(``args_name``, a model of ``args.py``) instead of holding it, and take their schemas from the
generated ``_builtin_schemas.py``: so a run imports Pydantic at its first tool call, not at
start-up (about 90 ms of a headless run).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from joiner.core import ToolKind, ToolOutput, ToolSpec
from joiner.tools.limits import Limits

if TYPE_CHECKING:
    from joiner.tools.schema import ToolArgs
    from joiner.workspace.guard import Workspace


class ModelTool:
    """A tool whose arguments are validated by ``Args`` before ``call`` runs.

    Implements the core ``Tool`` protocol; ``source`` says where the tool comes from in
    ``joiner tools list`` ("builtin", or "mcp:NAME" for MCP tools).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ToolKind
    Args: type[ToolArgs]
    source: str = "builtin"

    def __init__(self) -> None:
        self.spec = ToolSpec(self.name, self.describe(), self.schema())

    def describe(self) -> str:
        return self.description

    def args_model(self) -> type[ToolArgs]:
        return self.Args

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the arguments (a fresh copy: callers may change it)."""
        from joiner.tools.schema import json_schema

        return json_schema(self.args_model())

    def parse(self, arguments: dict[str, Any]) -> Any:
        """The validated arguments; a pydantic ``ValidationError`` if they do not fit."""
        return self.args_model().model_validate(arguments)

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        return await self.call(self.parse(arguments))

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None

    async def call(self, args: Any) -> ToolOutput:
        raise NotImplementedError


ToolFunction = Callable[[Any], Awaitable[ToolOutput | str]]


class FunctionTool(ModelTool):
    """A tool made of an argument model and an async function (see ``define_tool``)."""

    def __init__(self, name: str, description: str, kind: ToolKind, args: type[ToolArgs],
                 fn: ToolFunction, source: str = "builtin") -> None:
        self.name = name  # type: ignore[misc]
        self.description = description  # type: ignore[misc]
        self.kind = kind
        self.Args = args
        self.source = source
        self.fn = fn
        super().__init__()

    async def call(self, args: Any) -> ToolOutput:
        result = await self.fn(args)
        return ToolOutput(result) if isinstance(result, str) else result


def define_tool(name: str, description: str, kind: ToolKind, args: type[ToolArgs],
                ) -> Callable[[ToolFunction], FunctionTool]:
    """Decorator: ``@define_tool("echo", "Echo the text.", "read", EchoArgs)`` on
    ``async def echo(args: EchoArgs) -> str``; the name is bound to the ``FunctionTool``."""

    def wrap(fn: ToolFunction) -> FunctionTool:
        return FunctionTool(name, description, kind, args, fn)

    return wrap


class PathLocks:
    """One ``asyncio.Lock`` per file, so concurrent edits of one file in a turn do not race."""

    def __init__(self) -> None:
        self._locks: dict[Path, asyncio.Lock] = {}

    def __call__(self, path: Path) -> asyncio.Lock:
        return self._locks.setdefault(path, asyncio.Lock())


class WorkspaceTool(ModelTool):
    """A built-in tool: works inside ``workspace``, within ``limits``. Its argument model is
    ``args_name`` in ``joiner.tools.args``, loaded at the first call."""

    args_name: ClassVar[str]

    def __init__(self, workspace: Workspace, limits: Limits | None = None,
                 locks: PathLocks | None = None) -> None:
        self.workspace = workspace
        self.limits = limits or Limits()
        self.locks = locks or PathLocks()
        super().__init__()

    def args_model(self) -> type[ToolArgs]:
        from joiner.tools import args

        return getattr(args, self.args_name)  # type: ignore[no-any-return]

    def schema(self) -> dict[str, Any]:
        from joiner.tools._builtin_schemas import SCHEMAS

        return copy.deepcopy(SCHEMAS[self.name])
