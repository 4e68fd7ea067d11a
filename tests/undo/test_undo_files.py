"""Undo and redo of file-tool changes: exact bytes and modes, created files, conflicts, preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from undo_kit import Bench, call, steps, tree_state

from joiner.workspace.changesets import read_history
from joiner.workspace.undo import (
    NothingToDo,
    UndoConflict,
    UndoError,
    apply_redo,
    apply_undo,
    plan_redo,
    plan_undo,
)

FIX = call("edit_file", path="calc.py", old_string="def sub(a, b):\n    return a + b",
           new_string="def sub(a, b):\n    return a - b")


def test_edit_and_write_are_undone_byte_for_byte_and_redone(bench: Bench, ws: Path) -> None:
    (ws / "crlf.txt").write_bytes(b"one\r\ntwo\r\n\xff\xfe not utf-8\r\n")
    original = tree_state(ws)
    bench.run("fix sub, write the readme, make a module", steps(
        FIX,
        call("write_file", path="README.md", content="# Calc\n\nAdd and subtract.\n"),
        call("write_file", path="pkg/deep/mod.py", content="X = 1\n"),
        call("edit_file", path="crlf.txt", old_string="two", new_string="TWO"),
    ))
    changed = tree_state(ws)
    assert changed["calc.py"][1] == original["calc.py"][1]  # the tool kept the mode
    assert (ws / "pkg/deep/mod.py").exists()

    plan = apply_undo(bench.store, bench.session)
    assert tree_state(ws) == original
    assert not (ws / "pkg").exists()  # the directories made for the new file went too
    assert [f.action for f in plan.files] == ["restore", "restore", "delete", "restore"]
    assert (ws / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n\xff\xfe not utf-8\r\n"

    apply_redo(bench.store, bench.session)
    assert tree_state(ws) == changed
    apply_undo(bench.store, bench.session)
    assert tree_state(ws) == original


def test_the_tool_result_carries_diff_stat_and_exact_contents(bench: Bench) -> None:
    bench.run("fix", steps(FIX))
    result = bench.store.events(bench.session, types=["tool_result"])[0].data
    assert result["files_modified"] == ["calc.py"]
    assert result["stat"] == {"files": 1, "added": 1, "removed": 1}
    assert "-    return a + b\n+    return a - b\n" in result["diff"]
    (change,) = result["changes"]
    assert change["path"] == "calc.py"
    assert change["before"]["mode"] == change["after"]["mode"] == 0o750
    assert change["before"]["text"].endswith("return a + b\n")
    assert change["after"]["text"].endswith("return a - b\n")


def test_repeated_undo_walks_back_and_redo_walks_forward(bench: Bench, ws: Path) -> None:
    states = [tree_state(ws)]
    for i in range(3):
        bench.run(f"step {i}", steps(call("write_file", path="log.txt",
                                           content="".join(f"{k}\n" for k in range(i + 1)))))
        states.append(tree_state(ws))
    for expected in reversed(states[:-1]):
        apply_undo(bench.store, bench.session)
        assert tree_state(ws) == expected
    with pytest.raises(NothingToDo, match="no change of the agent left to undo"):
        apply_undo(bench.store, bench.session)
    for expected in states[1:]:
        apply_redo(bench.store, bench.session)
        assert tree_state(ws) == expected
    with pytest.raises(NothingToDo, match="nothing to redo"):
        plan_redo(bench.store, bench.session)


def test_a_new_change_after_an_undo_drops_the_redo(bench: Bench, ws: Path) -> None:
    bench.run("one", steps(call("write_file", path="a.txt", content="1\n")))
    apply_undo(bench.store, bench.session)
    bench.run("two", steps(call("write_file", path="b.txt", content="2\n")))
    with pytest.raises(NothingToDo):
        apply_redo(bench.store, bench.session)
    assert apply_undo(bench.store, bench.session).change_set.prompt == "two"
    assert not (ws / "a.txt").exists() and not (ws / "b.txt").exists()


def test_prompts_without_changes_are_skipped(bench: Bench, ws: Path) -> None:
    bench.run("change", steps(FIX))
    bench.run("just look", steps(call("read_file", path="calc.py")))
    bench.run("fail to change", steps(call("edit_file", path="calc.py", old_string="nope",
                                           new_string="x")))
    assert apply_undo(bench.store, bench.session).change_set.prompt == "change"


def test_preview_changes_nothing_and_shows_the_reverse_diff(bench: Bench, ws: Path) -> None:
    bench.run("fix", steps(FIX, call("write_file", path="new.txt", content="hello\n")))
    before_preview = tree_state(ws)
    events = len(bench.store.events(bench.session))
    plan = plan_undo(bench.store, bench.session)
    assert tree_state(ws) == before_preview
    assert len(bench.store.events(bench.session)) == events  # nothing recorded either
    assert "-    return a - b\n+    return a + b\n" in plan.diff
    assert "--- a/new.txt\n+++ /dev/null\n" in plan.diff
    assert plan.stat == {"files": 2, "added": 1, "removed": 2}
    assert not plan.conflicts


def test_a_file_changed_since_is_a_conflict_force_overrides(bench: Bench, ws: Path) -> None:
    bench.run("fix", steps(FIX, call("write_file", path="new.txt", content="hello\n"),
                           call("write_file", path="README.md", content="new\n")))
    (ws / "calc.py").write_text("the user's own work\n")
    (ws / "README.md").unlink()
    (ws / "new.txt").unlink()  # already as undo would leave it: not a conflict
    state = tree_state(ws)
    with pytest.raises(UndoConflict) as caught:
        apply_undo(bench.store, bench.session)
    assert "calc.py (changed since)" in str(caught.value)
    assert "README.md (deleted since)" in str(caught.value)
    assert "--force" in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.files == ["calc.py", "README.md"]
    assert tree_state(ws) == state  # refused: nothing changed
    assert plan_undo(bench.store, bench.session).conflicts == ["calc.py", "README.md"]
    apply_undo(bench.store, bench.session, force=True)
    assert (ws / "calc.py").read_text().endswith("return a + b\n")
    assert (ws / "README.md").read_text() == "# Calc\n\nA tiny calculator.\n"
    assert not (ws / "new.txt").exists()


def test_a_mode_change_since_is_a_conflict(bench: Bench, ws: Path) -> None:
    bench.run("fix", steps(FIX))
    (ws / "calc.py").chmod(0o644)
    with pytest.raises(UndoConflict, match=r"calc\.py \(changed since\)"):
        apply_undo(bench.store, bench.session)


def test_redo_refuses_when_the_file_changed_after_the_undo(bench: Bench, ws: Path) -> None:
    bench.run("fix", steps(FIX))
    apply_undo(bench.store, bench.session)
    (ws / "calc.py").write_text("edited by hand\n")
    with pytest.raises(UndoConflict, match=r"redo refused: .*calc.py"):
        apply_redo(bench.store, bench.session)
    assert (ws / "calc.py").read_text() == "edited by hand\n"


def test_undo_and_redo_are_events_of_the_session(bench: Bench) -> None:
    bench.run("fix", steps(FIX))
    apply_undo(bench.store, bench.session)
    apply_redo(bench.store, bench.session)
    ops = [(e.type, e.data["phase"]) for e in bench.store.events(bench.session)
           if e.type in ("undo", "redo")]
    assert ops == [("undo", "begin"), ("undo", "done"), ("redo", "begin"), ("redo", "done")]
    done = bench.store.events(bench.session, types=["undo"])[-1].data
    assert done["files"] == [{"path": "calc.py", "action": "restore"}]
    history = read_history(bench.store.events(bench.session))
    assert [c.prompt for c in history.applied] == ["fix"] and not history.undone


def test_a_moved_workspace_is_one_clear_error(bench: Bench, ws: Path) -> None:
    bench.run("fix", steps(FIX))
    ws.rename(ws.with_name("moved"))
    with pytest.raises(UndoError, match="no longer exists") as caught:
        apply_undo(bench.store, bench.session)
    assert "\n" not in str(caught.value)
    assert [e for e in bench.store.events(bench.session) if e.type == "undo"] == []


def test_a_session_running_elsewhere_is_refused(bench: Bench) -> None:
    bench.run("fix", steps(FIX))
    bench.store.set_status(bench.session, "running", pid=1)  # init: alive, not us
    with pytest.raises(UndoError, match="is running"):
        plan_undo(bench.store, bench.session)


async def test_approvals_show_the_diff_and_the_exact_command(bench: Bench, ws: Path) -> None:
    from joiner.core.tool_runner import ToolRunner
    from joiner.tools import builtin_tools
    from joiner.workspace.guard import Workspace

    tools = bench.checkpointer.wrap(builtin_tools(Workspace(ws)))
    events: list = []

    class Sink:
        def emit(self, event: object) -> None:
            events.append(event)

    from joiner.core.messages import ToolCall

    runner = ToolRunner(tools, bench.approver, Sink())
    command = "sed -i 's/a + b/a * b/' calc.py  # and   spaces\tkept"
    for one in (
        ToolCall("1", "edit_file", '{"path": "calc.py", "old_string": "return a + b\\n\\n\\n", '
                                   '"new_string": "return a + b  # add\\n\\n\\n"}'),
        ToolCall("2", "write_file", '{"path": "README.md", "content": "new\\n"}'),
        ToolCall("3", "run_shell", f'{{"command": "{command}"}}'.replace("\t", "\\t")),
    ):
        await runner.run_all([one])
    edit, write, shell = bench.approver.requests
    assert edit.diff is not None and "+    return a + b  # add\n" in edit.diff
    assert write.diff == ("--- a/README.md\n+++ b/README.md\n@@ -1,3 +1 @@\n-# Calc\n-\n"
                          "-A tiny calculator.\n+new\n")
    assert shell.diff == command
    approvals = [e.data for e in events if e.type == "approval"]
    assert approvals[2]["diff"] == command
