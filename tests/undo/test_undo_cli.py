"""``joiner undo`` / ``joiner redo`` as a user runs them, after a real ``joiner -p`` run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from undo_kit import call, dir_fingerprint, tree_state

JOINER = [sys.executable, "-m", "joiner"]
README = "# Calc\n\nAdd and subtract numbers.\n\nUsage: import calc\n"
SCRIPT = [
    {"text": "Fixing sub.", "tool_calls": [call(
        "edit_file", path="calc.py", old_string="def sub(a, b):\n    return a + b",
        new_string="def sub(a, b):\n    return a - b")]},
    {"text": "Rewriting the README.", "tool_calls": [call(
        "run_shell", command=f"printf '{README.replace(chr(10), chr(92) + 'n')}' > README.md"
                             " && echo made > created.txt && rm notes.txt")]},
    {"text": "Done."},
]


def _joiner(ws: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINER_HOME": str(home)}
    return subprocess.run([*JOINER, *args], cwd=ws, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def ran(ws: Path, tmp_path: Path) -> tuple[str, Path]:
    """A real headless run in ``ws``: edits calc.py, rewrites README.md with run_shell."""
    home = tmp_path / "home"
    script = tmp_path / "steps.json"
    script.write_text(json.dumps(SCRIPT))
    out = _joiner(ws, home, "-p", "fix sub, rewrite the README", "--model",
                  f"scripted/{script}", "--permission-mode", "auto", "--output-format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["files_modified"] == ["calc.py", "README.md", "created.txt", "notes.txt"]
    return result["session_id"], home


def test_preview_undo_redo_end_to_end(ws: Path, ran: tuple[str, Path]) -> None:
    session, home = ran
    git = dir_fingerprint(ws / ".git")
    original_calc = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n"
    changed = tree_state(ws)
    assert (ws / "README.md").read_text() == README

    preview = _joiner(ws, home, "undo", "--session", session[:8], "--preview")
    assert preview.returncode == 0, preview.stderr
    assert "--- a/calc.py\n+++ b/calc.py\n" in preview.stdout
    assert "-    return a - b\n+    return a + b\n" in preview.stdout
    assert "--- a/README.md\n+++ b/README.md\n" in preview.stdout
    assert "+A tiny calculator.\n" in preview.stdout
    assert "--- a/created.txt\n+++ /dev/null\n" in preview.stdout
    assert "--- /dev/null\n+++ b/notes.txt\n" in preview.stdout
    assert "nothing was changed" in preview.stderr
    assert tree_state(ws) == changed

    undo = _joiner(ws, home, "undo", "--session", session[:8])
    assert undo.returncode == 0, undo.stderr
    assert (ws / "calc.py").read_text() == original_calc
    assert (ws / "README.md").read_bytes() == b"# Calc\n\nA tiny calculator.\n"
    assert (ws / "calc.py").stat().st_mode & 0o777 == 0o750
    assert not (ws / "created.txt").exists()
    assert (ws / "notes.txt").read_text() == "old notes\n"

    again = _joiner(ws, home, "undo", "--session", session)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"joiner: session {session[:12]}: no change of the agent left to undo"]

    redo = _joiner(ws, home, "redo", "--session", session)
    assert redo.returncode == 0, redo.stderr
    assert tree_state(ws) == changed
    assert dir_fingerprint(ws / ".git") == git


def test_conflict_is_one_line_and_force_overrides(ws: Path, ran: tuple[str, Path]) -> None:
    session, home = ran
    (ws / "calc.py").write_text("mine\n")
    out = _joiner(ws, home, "undo", "--session", session)
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("joiner: undo refused:") and "calc.py (changed since)" in line
    assert "--force" in line
    assert (ws / "calc.py").read_text() == "mine\n"
    assert (ws / "README.md").read_text() == README
    forced = _joiner(ws, home, "undo", "--session", session, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (ws / "calc.py").read_text().endswith("return a + b\n")


def test_bad_input_is_one_clear_line(ws: Path, ran: tuple[str, Path], tmp_path: Path) -> None:
    session, home = ran
    state = tree_state(ws)
    unknown = _joiner(ws, home, "undo", "--session", "ffff0000")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "no session matches 'ffff0000'" in unknown.stderr
    nothing = _joiner(ws, home, "redo", "--session", session, "--preview")
    assert nothing.returncode == 1 and "nothing to redo" in nothing.stderr
    missing = _joiner(ws, home, "undo")
    assert missing.returncode == 2 and "--session" in missing.stderr
    assert tree_state(ws) == state

    moved = ws.with_name("moved")
    ws.rename(moved)
    gone = _joiner(moved, home, "undo", "--session", session)
    assert gone.returncode == 1
    assert gone.stderr.count("\n") == 1 and "no longer exists" in gone.stderr
    assert "Traceback" not in gone.stderr
    assert tree_state(moved) == state


def test_help_lists_undo_and_redo() -> None:
    out = subprocess.run([*JOINER, "undo", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--preview" in out.stdout and "--force" in out.stdout
