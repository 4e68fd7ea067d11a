"""Fixtures of the MCP tests: the FastMCP-style echo server, a temporary JOINER_HOME, warnings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ECHO_SERVER = Path(__file__).parent / "servers" / "echo_server.py"


def echo_table(*flags: str, **extra: Any) -> dict[str, Any]:
    """A ``[mcp_servers.NAME]`` table that starts the echo server with ``flags``."""
    return {"command": sys.executable, "args": [str(ECHO_SERVER), *flags], **extra}


class Warnings(list[str]):
    """A ``warn`` callback that keeps the lines."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def about(self, server: str) -> list[str]:
        return [line for line in self if f"'{server}'" in line]


@pytest.fixture
def warnings() -> Warnings:
    return Warnings()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """JOINER_HOME in a temporary directory (user config, AGENTS.md, logs, sessions)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("JOINER_HOME", str(path))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository (only ``.git`` is needed to mark the workspace root)."""
    path = tmp_path / "repo"
    (path / ".git").mkdir(parents=True)
    return path
