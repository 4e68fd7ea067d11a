from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from undo_kit import Bench


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A git repository with a few files, one executable, one binary, committed."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\n"
                                  "def sub(a, b):\n    return a + b\n")
    (root / "calc.py").chmod(0o750)
    (root / "README.md").write_text("# Calc\n\nA tiny calculator.\n")
    (root / "notes.txt").write_text("old notes\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 4)
    (root / ".gitignore").write_text("node_modules/\nbuild/\n")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.js").write_text("module.exports = 1\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "init"], check=True)
    return root


@pytest.fixture
def bench(ws: Path, tmp_path: Path) -> Iterator[Bench]:
    b = Bench(ws, tmp_path / "data")
    yield b
    b.close()
