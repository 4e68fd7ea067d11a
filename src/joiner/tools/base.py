"""The base of the built-in tools: a Pydantic argument model plus an async function.

A tool's JSON Schema (what the model is told) is generated from its argument model and cleaned of
Pydantic's noise: no ``title`` keys, no ``anyOf [X, null]`` for optional fields (a ``null`` sent
for an optional argument still means "not given"), ``additionalProperties: false``, one
description per field. Validation errors are pydantic ``ValidationError``s, which the core turns
into a tool error for the model.

Two ways to define a tool:

- a subclass of ``ModelTool`` with ``name``, ``description``, ``kind``, ``Args`` and ``call``;
- ``define_tool(name, description, kind, Args)`` around ``async def fn(args) -> ToolOutput | str``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from joiner.core import ToolKind, ToolOutput, ToolSpec
from joiner.tools.limits import Limits

if TYPE_CHECKING:
    from joiner.workspace.guard import Workspace


class ToolArgs(BaseModel):
    """Base of argument models: unknown arguments are refused, ``null`` means "not given"."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            optional = {name for name, f in cls.model_fields.items() if not f.is_required()}
            return {k: v for k, v in data.items() if not (v is None and k in optional)}
        return data


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        else:
            out[key] = _clean(value)
    variants = out.get("anyOf")
    if isinstance(variants, list) and len(variants) == 2 and {"type": "null"} in variants:
        out.pop("anyOf")
        other = next(v for v in variants if v != {"type": "null"})
        out = {**other, **out}
    if out.get("default", 0) is None:
        out.pop("default")
    return out


@cache
def _cleaned_schema(args: type[BaseModel]) -> dict[str, Any]:
    schema = _clean(args.model_json_schema())
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


def json_schema(args: type[BaseModel]) -> dict[str, Any]:
    """The cleaned JSON Schema of an argument model (a fresh copy: callers may change it)."""
    return copy.deepcopy(_cleaned_schema(args))


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
        self.spec = ToolSpec(self.name, self.describe(), json_schema(self.Args))

    def describe(self) -> str:
        return self.description

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        return await self.call(self.Args.model_validate(arguments))

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
    """A built-in tool: works inside ``workspace``, within ``limits``."""

    def __init__(self, workspace: Workspace, limits: Limits | None = None,
                 locks: PathLocks | None = None) -> None:
        self.workspace = workspace
        self.limits = limits or Limits()
        self.locks = locks or PathLocks()
        super().__init__()
