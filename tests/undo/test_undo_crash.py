"""An undo killed with -9 half way (a real process) is finished by the next undo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from undo_kit import Bench, call, steps, tree_state

from joiner.workspace.undo import STEP_DELAY_ENV, UndoError, apply_redo, apply_undo, plan_undo

KIT = Path(__file__).with_name("undo_kit.py")


def _kill_after_first_file(bench: Bench, kind: str, first: Path, wanted: bytes | None) -> None:
    """Start ``undo_kit.py … kind`` slowed down after each file; kill -9 it once ``first``
    holds ``wanted`` (None: once it is gone), i.e. in the middle of the operation."""
    env = {**os.environ, STEP_DELAY_ENV: "30"}
    proc = subprocess.Popen([sys.executable, str(KIT), str(bench.store.path), bench.session,
                             kind], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = first.read_bytes() if first.exists() else None
        if now == wanted:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_mid_undo_then_undo_finishes_it(bench: Bench, ws: Path) -> None:
    original = tree_state(ws)
    bench.run("three files", steps(
        call("write_file", path="README.md", content="rewritten\n"),
        call("run_shell", command="echo 'y = 2' >> calc.py && rm notes.txt"),
        call("write_file", path="new/file.txt", content="new\n"),
    ))
    changed = tree_state(ws)
    _kill_after_first_file(bench, "undo", ws / "README.md", b"# Calc\n\nA tiny calculator.\n")

    half = tree_state(ws)
    assert half["README.md"] == original["README.md"]  # restored before the kill
    assert half["calc.py"] == changed["calc.py"]  # not yet
    assert "notes.txt" not in half and "new/file.txt" in half
    ops = [(e.type, e.data["phase"]) for e in bench.store.events(bench.session, types=["undo"])]
    assert ops == [("undo", "begin")]  # begun, never done

    # redo must not start on a half-undone tree
    with pytest.raises(UndoError, match=r"interrupted undo .* unfinished"):
        apply_redo(bench.store, bench.session)
    preview = plan_undo(bench.store, bench.session)
    assert preview.resuming and not preview.conflicts
    assert {f.path: f.action for f in preview.files}["README.md"] == "skip"

    plan = apply_undo(bench.store, bench.session)
    assert plan.resuming
    assert tree_state(ws) == original
    ops = [(e.type, e.data["phase"]) for e in bench.store.events(bench.session, types=["undo"])]
    assert ops == [("undo", "begin"), ("undo", "done")]
    # and the history is whole again: redo brings the change set back
    apply_redo(bench.store, bench.session)
    assert tree_state(ws) == changed


def test_kill_9_mid_redo_then_redo_finishes_it(bench: Bench, ws: Path) -> None:
    bench.run("two files", steps(call("write_file", path="a.txt", content="a\n"),
                                 call("write_file", path="b.txt", content="b\n")))
    changed = tree_state(ws)
    apply_undo(bench.store, bench.session)
    _kill_after_first_file(bench, "redo", ws / "a.txt", b"a\n")
    assert not (ws / "b.txt").exists()
    with pytest.raises(UndoError, match="interrupted redo"):
        apply_undo(bench.store, bench.session)
    assert apply_redo(bench.store, bench.session).resuming
    assert tree_state(ws) == changed
