"""Fixtures of the MCP tests: the FastMCP-style echo server, a temporary JOINER_HOME, warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp_kit import Warnings


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
