"""run_shell between two snapshots: what a command changed is recorded, undone and redone."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from undo_kit import Bench, call, dir_fingerprint, steps, tree_state

from joiner.workspace.checkpoints import Checkpointer
from joiner.workspace.shadow import ShadowRepo
from joiner.workspace.undo import apply_redo, apply_undo, plan_undo

SHELL_WORK = ("sed -i 's/a + b$/a - b/' calc.py && echo 'brand new' > new.txt && rm notes.txt"
              " && chmod +x README.md && printf '\\000\\001\\377 bin' > data.bin"
              " && mkdir -p gen/deep && echo 'x = 1' > gen/deep/mod.py"
              " && ln -s calc.py link.py && echo 'ignored' > node_modules/dep/extra.js"
              " && mkdir build && echo out > build/out.o")


@pytest.fixture(params=["watched", "scanned"])
def bench(request: pytest.FixtureRequest, ws: Path, tmp_path: Path) -> Iterator[Bench]:
    """Both ways of finding what changed: inotify-guided snapshots and full scans."""
    b = Bench(ws, tmp_path / "data", watch=request.param == "watched")
    yield b
    b.close()


def _git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(ws), *args], capture_output=True, text=True,
                          check=True).stdout


def test_shell_changes_are_recorded_undone_and_redone_exactly(bench: Bench, ws: Path) -> None:
    original = tree_state(ws)
    bench.run("shell work", steps(call("run_shell", command=SHELL_WORK)))
    changed = tree_state(ws)
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    assert sorted(result["files_modified"]) == [
        "README.md", "calc.py", "data.bin", "gen/deep/mod.py", "link.py", "new.txt",
        "notes.txt"]  # nothing under node_modules/ or build/ (.gitignore)
    assert "files changed: 7" in result["message"]["text"]
    assert "notes.txt (deleted)" in result["message"]["text"]
    assert "-    return a + b\n+    return a - b\n" in result["diff"]
    assert "old mode 100644 (644)\nnew mode 100755 (755)\n" in result["diff"]
    assert "Binary files a/data.bin and b/data.bin differ" in result["diff"]
    assert result["stat"]["files"] == 7

    plan = apply_undo(bench.store, bench.session)
    restored = tree_state(ws)
    # what the command made in ignored directories is not recorded, so it stays
    leftovers = {k: v for k, v in changed.items() if k not in original
                 and k.startswith(("node_modules/", "build/"))}
    assert sorted(leftovers) == ["build/out.o", "node_modules/dep/extra.js"]
    assert restored == {**original, **leftovers}
    assert not (ws / "gen").exists() and not (ws / "link.py").exists()
    assert (ws / "calc.py").stat().st_mode & 0o777 == 0o750
    assert {f.path: f.action for f in plan.files}["notes.txt"] == "create"

    apply_redo(bench.store, bench.session)
    assert tree_state(ws) == changed


def test_the_users_git_is_untouched(bench: Bench, ws: Path) -> None:
    _git(ws, "stash", "list")
    (ws / "calc.py").write_text("uncommitted work\n")
    _git(ws, "status", "--porcelain")  # let git refresh its index now, not during our run
    git_before = dir_fingerprint(ws / ".git")
    status = _git(ws, "status", "--porcelain")
    assert dir_fingerprint(ws / ".git") == git_before
    bench.run("work", steps(call("run_shell", command="echo changed > README.md && rm notes.txt"),
                            call("write_file", path="x.txt", content="x\n")))
    apply_undo(bench.store, bench.session)
    apply_redo(bench.store, bench.session)
    apply_undo(bench.store, bench.session)
    assert dir_fingerprint(ws / ".git") == git_before
    assert _git(ws, "status", "--porcelain") == status
    assert _git(ws, "stash", "list") == ""
    assert len(_git(ws, "reflog").splitlines()) == 1


def test_shell_and_file_changes_of_one_prompt_are_one_change_set(bench: Bench, ws: Path) -> None:
    original = tree_state(ws)
    bench.run("mixed", steps(
        call("run_shell", command="echo one >> README.md"),
        call("edit_file", path="README.md", old_string="one", new_string="two"),
        call("run_shell", command="echo three >> README.md && echo tmp > t.txt && rm t.txt"),
    ))
    plan = plan_undo(bench.store, bench.session)
    assert [f.path for f in plan.files] == ["README.md"]  # t.txt came and went
    apply_undo(bench.store, bench.session)
    assert tree_state(ws) == original


def test_commands_in_one_turn_are_snapshotted_one_at_a_time(bench: Bench, ws: Path) -> None:
    original = tree_state(ws)
    turn = [{"text": "", "tool_calls": [
        call("run_shell", command="sleep 0.2; echo a > a.txt"),
        call("run_shell", command="echo b > b.txt"),
        call("write_file", path="c.txt", content="c\n")]}, {"text": "Done."}]
    bench.run("parallel", turn)
    results = bench.store.events(bench.session, types=["tool_result"])
    assert [r.data.get("files_modified") for r in results] == [["a.txt"], ["b.txt"], ["c.txt"]]
    apply_undo(bench.store, bench.session)
    assert tree_state(ws) == original


def test_a_failing_command_still_records_what_it_changed(bench: Bench, ws: Path) -> None:
    bench.run("fail", steps(call("run_shell", command="echo half > half.txt; exit 3")))
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    assert result["files_modified"] == ["half.txt"]
    apply_undo(bench.store, bench.session)
    assert not (ws / "half.txt").exists()


def test_without_git_shell_commands_run_unrecorded_with_a_warning(ws: Path,
                                                                   tmp_path: Path) -> None:
    warnings: list[str] = []
    shadow = ShadowRepo(ws, tmp_path / "shadow")
    shadow.git = None
    checkpointer = Checkpointer(ws, shadow, warnings.append)
    bench = Bench(ws, tmp_path / "data")
    bench.checkpointer = checkpointer
    try:
        bench.run("x", steps(call("run_shell", command="echo x > x.txt")))
        bench.run("y", steps(call("run_shell", command="echo y > y.txt")))
    finally:
        bench.close()
    assert (ws / "x.txt").exists()
    assert len(warnings) == 1 and "git is not installed" in warnings[0]  # said once


def test_edits_between_commands_are_not_taken_for_the_commands(bench: Bench, ws: Path) -> None:
    bench.run("one", steps(call("run_shell", command="echo one > one.txt")))
    (ws / "README.md").write_text("the user's edit\n")  # between two runs
    (ws / "mine").mkdir()
    (ws / "mine" / "file.txt").write_text("mine\n")
    bench.run("two", steps(call("run_shell", command="echo two > two.txt")))
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    assert result["files_modified"] == ["two.txt"]
    apply_undo(bench.store, bench.session)
    apply_undo(bench.store, bench.session)
    assert (ws / "README.md").read_text() == "the user's edit\n"
    assert (ws / "mine" / "file.txt").exists()
    assert not (ws / "one.txt").exists() and not (ws / "two.txt").exists()


def test_a_renamed_directory_is_seen_whole(bench: Bench, ws: Path) -> None:
    (ws / "pkg" / "sub").mkdir(parents=True)
    (ws / "pkg" / "sub" / "m.py").write_text("m\n")
    bench.run("warm up", steps(call("run_shell", command="true")))
    original = tree_state(ws)
    bench.run("move", steps(call("run_shell", command="mv pkg lib && echo n > lib/sub/n.py")))
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    assert sorted(result["files_modified"]) == ["lib/sub/m.py", "lib/sub/n.py", "pkg/sub/m.py"]
    bench.run("again", steps(call("run_shell", command="echo o > lib/sub/o.py")))
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    assert result["files_modified"] == ["lib/sub/o.py"]
    apply_undo(bench.store, bench.session)
    apply_undo(bench.store, bench.session)
    assert tree_state(ws) == original
