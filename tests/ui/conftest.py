"""The TUI against the real runtime: a tmp ``JOINER_HOME``, a git workspace, scripted models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from joiner.runtime import RunOptions
from joiner.ui.app import JoinerApp

CALC = "def add(a, b):\n    return a - b\n"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("JOINER_HOME", str(home))
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
                "NO_COLOR"):
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "calc.py").write_text(CALC)
    return root


@pytest.fixture
def make_app(workspace: Path) -> Callable[..., JoinerApp]:
    """``make_app(steps, permission_mode=..., ...)``: the app on a scripted model."""
    counter = iter(range(1000))

    def make(steps: list[Any], **options: Any) -> JoinerApp:
        script = workspace.parent / f"script{next(counter)}.json"
        script.write_text(json.dumps(steps))
        options.setdefault("model", f"scripted/{script}")
        return JoinerApp(RunOptions(cwd=workspace, **options))

    return make
