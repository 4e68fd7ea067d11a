from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from joiner.sessions import open_store
from joiner.sessions.sqlite_store import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = open_store(tmp_path / "sessions.db")
    assert isinstance(s, SQLiteStore)
    yield s
    s.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """JOINER_HOME in a temporary directory: the default store lives there."""
    monkeypatch.setenv("JOINER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
