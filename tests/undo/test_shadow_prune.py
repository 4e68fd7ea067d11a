"""Pruning the shadow repository: old snapshots' objects go, undo and redo stay byte-exact, a
live session is never pruned under, and the next session's snapshots still work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from undo_kit import Bench, call, steps, tree_state

from joiner.workspace.checkpoints import Checkpointer
from joiner.workspace.gitobjects import ObjectWriter
from joiner.workspace.shadow import ShadowRepo, shadow_dir
from joiner.workspace.shadow_prune import (
    STAMP,
    WORKSPACE_MARK,
    is_live,
    prune,
    prune_due,
    remove_shadow,
    schedule_prune,
    stamp,
    sweep_orphans,
)
from joiner.workspace.undo import apply_redo, apply_undo

HOUR = 3600.0


def git(git_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", *args], env={**env, "GIT_DIR": str(git_dir)},
                          capture_output=True, text=True, check=check)


def all_objects(git_dir: Path) -> set[str]:
    out = git(git_dir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").stdout
    return set(out.split())


def index_reaches(git_dir: Path) -> set[str]:
    out = git(git_dir, "rev-list", "--objects", "--indexed-objects").stdout
    return {line.split()[0] for line in out.splitlines()}


def age_everything(git_dir: Path, seconds: float) -> None:
    """Make every object look ``seconds`` old (as after a day of use)."""
    when = time.time() - seconds
    for dirpath, _dirs, files in os.walk(git_dir / "objects"):
        for name in files:
            os.utime(Path(dirpath, name), (when, when))


def shell(command: str) -> list[dict[str, object]]:
    return steps(call("run_shell", command=command))


def test_undo_and_redo_of_old_shell_commands_stay_byte_exact_after_pruning(
        bench: Bench, ws: Path) -> None:
    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    states = [tree_state(ws)]
    for i in range(6):  # six prompts, each a shell command rewriting and creating files
        bench.run(f"round {i}", shell(
            f"printf 'round {i}\\n%.0s' $(seq {50 + i}) >> README.md && "
            f"echo 'v{i}' > calc.py && printf '\\000\\377{i}' > data.bin && "
            f"echo made > new{i}.txt && rm -f new{i - 1}.txt"))
        states.append(tree_state(ws))
    bench.checkpointer.close()  # the session ends
    before = all_objects(git_dir)
    kept = index_reaches(git_dir)
    unreferenced = before - kept
    assert len(unreferenced) >= 10  # the snapshots of rounds 0..4 and their trees
    age_everything(git_dir, 2 * HOUR)

    report = prune(git_dir)
    assert report.done and report.objects_after < report.objects_before
    assert report.bytes_after < report.bytes_before
    after = all_objects(git_dir)
    assert after == kept  # exactly what the index reaches: the rest is gone
    assert not any(git(git_dir, "cat-file", "-e", sha, check=False).returncode == 0
                   for sha in unreferenced)
    assert list((git_dir / "objects" / "pack").glob("*.pack"))  # kept objects are packed
    fsck = git(git_dir, "fsck", "--full", "--no-dangling", check=False)
    assert fsck.returncode == 0, fsck.stderr

    # walk all the way back, byte for byte, then all the way forward again
    for i in range(6, 0, -1):
        apply_undo(bench.store, bench.session)
        assert tree_state(ws) == states[i - 1]
    for i in range(1, 7):
        apply_redo(bench.store, bench.session)
        assert tree_state(ws) == states[i]


def test_the_next_session_snapshots_and_records_as_before_after_a_prune(
        bench: Bench, ws: Path, tmp_path: Path) -> None:
    """The index the prune keeps is the next session's stat cache: the files it trusts
    unread (older than the index) must still have their objects."""
    for path in ws.rglob("*"):  # old files: git trusts their index entries, never rereads them
        os.utime(path, (time.time() - 2 * HOUR,) * 2, follow_symlinks=False)
    readme = (ws / "README.md").read_bytes()
    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    bench.run("first", shell("echo one > calc.py && echo a > added.txt"))
    bench.checkpointer.close()
    age_everything(git_dir, 2 * HOUR)
    assert prune(git_dir).done
    # a new session on the same workspace: its first snapshot uses the index the prune kept
    bench.checkpointer = Checkpointer(ws, ShadowRepo(ws, git_dir))
    before = tree_state(ws)
    bench.run("second", shell("sed -i 's/Calc/Calculator/' README.md && echo two > calc.py "
                              "&& rm added.txt && echo b > other.txt"))
    result = bench.store.events(bench.session, types=["tool_result"])[-1].data
    changes = {c["path"]: c for c in result["changes"]}
    assert sorted(changes) == ["README.md", "added.txt", "calc.py", "other.txt"]
    assert changes["README.md"]["before"]["text"].encode() == readme  # from the kept index
    assert "-# Calc\n+# Calculator\n" in result["diff"]
    apply_undo(bench.store, bench.session)
    assert tree_state(ws) == before


def test_a_live_session_is_never_pruned_under(bench: Bench, ws: Path) -> None:
    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    bench.run("one", shell("echo one > calc.py"))
    bench.run("two", shell("echo two > calc.py"))
    assert is_live(git_dir)
    age_everything(git_dir, 2 * HOUR)
    before = all_objects(git_dir)
    report = prune(git_dir)
    assert not report.done and report.reason == "a session is using it"
    assert all_objects(git_dir) == before
    # the session goes on as if nothing happened, and its changes are recorded
    bench.run("three", shell("echo three > calc.py"))
    assert apply_undo(bench.store, bench.session).files[0].path == "calc.py"
    assert (ws / "calc.py").read_text() == "two\n"
    bench.checkpointer.close()
    assert not is_live(git_dir)


def test_objects_newer_than_the_check_are_kept(bench: Bench, ws: Path) -> None:
    """What a session starting during a prune writes (or re-touches) survives it."""
    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    bench.run("one", shell("echo one > calc.py"))
    bench.checkpointer.close()
    age_everything(git_dir, 2 * HOUR)
    writer = ObjectWriter(git_dir, 40)
    old = writer.write("blob", b"an old blob, written again by the new session\n")
    stale = writer.write("blob", b"an old blob nobody needs\n")
    age_everything(git_dir, 2 * HOUR)
    fresh = writer.write("blob", b"written by a session that just started\n")
    assert writer.write("blob", b"an old blob, written again by the new session\n") == old
    assert prune(git_dir, margin_s=60).done
    objects = all_objects(git_dir)
    assert fresh in objects and old in objects
    assert stale not in objects


def test_a_prune_is_due_once_a_day_and_runs_in_a_process_of_its_own(
        bench: Bench, ws: Path) -> None:
    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    bench.run("one", shell("echo one > calc.py"))
    bench.run("two", shell("echo two > calc.py"))
    assert not prune_due(git_dir)  # a new repository waits a day
    assert not schedule_prune(git_dir)
    stamp(git_dir, time.time() - 25 * HOUR)
    age_everything(git_dir, 2 * HOUR)
    unreferenced = all_objects(git_dir) - index_reaches(git_dir)
    assert unreferenced and prune_due(git_dir)

    started = time.perf_counter()
    bench.checkpointer.close()  # the session's end starts it and does not wait for it
    assert time.perf_counter() - started < 2.0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (all_objects(git_dir) & unreferenced):
        time.sleep(0.1)
    assert not all_objects(git_dir) & unreferenced
    assert not prune_due(git_dir)  # stamped: not again for a day
    assert time.time() - (git_dir / STAMP).stat().st_mtime < 120


def test_a_repository_from_before_stamps_is_due_at_once(tmp_path: Path) -> None:
    git_dir = tmp_path / "shadow"
    git(git_dir, "init", "-q", "--bare", str(git_dir))
    assert prune_due(git_dir)
    assert prune(git_dir, margin_s=0).done


def test_orphaned_and_batch_repositories_are_removed_unless_live(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kept_ws, gone_ws, fresh_ws, live_ws = (tmp_path / n for n in ("kept", "gone", "fresh",
                                                                  "live"))
    repos = {}
    for ws in (kept_ws, gone_ws, fresh_ws, live_ws):
        ws.mkdir()
        (ws / "f.txt").write_text("x\n")
        shadow = ShadowRepo(ws, shadow_dir(data, ws), watch=False)
        shadow.snapshot()
        repos[ws.name] = shadow
        assert (shadow.git_dir / WORKSPACE_MARK).read_text() == str(ws.resolve())
    for name in ("kept", "gone", "fresh"):
        repos[name].close()
    for ws in (gone_ws, fresh_ws, live_ws):
        for f in ws.iterdir():
            f.unlink()
        ws.rmdir()
    later = time.time() + 8 * 86400  # a week and a day later
    os.utime(repos["fresh"].git_dir / STAMP, (later, later))  # used lately
    assert sweep_orphans(data / "shadow", now=later) == 1
    assert not repos["gone"].git_dir.exists()
    assert repos["kept"].git_dir.exists() and repos["fresh"].git_dir.exists()
    assert repos["live"].git_dir.exists()
    assert sweep_orphans(data / "shadow", now=later) == 0  # at most once a day

    # a batch task's copy removed: its repository goes at once, unless a session holds it
    assert not remove_shadow(data, live_ws)
    repos["live"].close()
    assert remove_shadow(data, live_ws)
    assert not repos["live"].git_dir.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="flock semantics as on Linux")
def test_one_prune_at_a_time(bench: Bench) -> None:
    import fcntl

    git_dir = bench.checkpointer.shadow.git_dir  # type: ignore[union-attr]
    bench.run("one", shell("echo one > calc.py"))
    bench.checkpointer.close()
    with open(git_dir / "joiner-prune.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        report = prune(git_dir)
    assert not report.done and report.reason == "another prune is running"
