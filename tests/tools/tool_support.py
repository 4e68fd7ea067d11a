"""Helpers for the tools tests: a workspace in a temporary directory and its tools by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joiner.core import Tool
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace


def make_tools(root: Path, **limits: Any) -> dict[str, Tool]:
    return {tool.spec.name: tool for tool in builtin_tools(Workspace(root), limits or None)}
