"""The tools the model gets: ``read_file``, ``write_file``, ``edit_file``, ``list_files``,
``grep``, ``run_shell``. See ``base`` for how a tool is defined, ``limits`` for the output caps.

``ToolArgs`` and ``json_schema`` (Pydantic) are loaded on first use, not with the package.
"""

from typing import Any

from joiner.tools.base import FunctionTool, ModelTool, define_tool
from joiner.tools.diffs import make_diff
from joiner.tools.limits import Limits
from joiner.tools.registry import BUILTIN_TOOLS, all_tool_infos, builtin_tools, tool_info

__all__ = [
    "BUILTIN_TOOLS",
    "FunctionTool",
    "Limits",
    "ModelTool",
    "ToolArgs",
    "all_tool_infos",
    "builtin_tools",
    "define_tool",
    "json_schema",
    "make_diff",
    "tool_info",
]


def __getattr__(name: str) -> Any:
    if name in ("ToolArgs", "json_schema"):
        from joiner.tools import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
