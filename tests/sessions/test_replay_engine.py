"""The replay engine: stepping, the conversation and the files at any step, the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from session_events import answer, prompt, result, usage

from joiner.cli.replay import replay as replay_command
from joiner.core.events import Event
from joiner.sessions import open_store
from joiner.sessions.patches import PatchMismatch, apply_diff
from joiner.sessions.replay import Replay
from joiner.tools.diffs import make_diff

BEFORE = "def add(a, b):\n    return a + b\n"
AFTER = BEFORE + "\n\ndef mul(a, b):\n    return a * b\n"


def _call(call_id: str, name: str, args: dict) -> Event:
    return Event("tool_call", {"id": call_id, "name": name, "arguments": json.dumps(args)})


def _session_events() -> list[Event]:
    numbered = "".join(f"{i:6}\t{line}\n" for i, line in enumerate(BEFORE.splitlines(), 1))
    edit = {"path": "calc.py", "old_string": "    return a + b\n",
            "new_string": "    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"}
    events = [
        prompt("Add a mul function to calc.py"),
        answer("Let me read it.", [("c1", "read_file", {"path": "calc.py"})]),
        usage(10, 5),
        _call("c1", "read_file", {"path": "calc.py"}),
        result("c1", "read_file", numbered, files_read=["calc.py"]),
        answer("", [("c2", "edit_file", edit), ("c3", "write_file",
                                                 {"path": "notes.md", "content": "# notes\n"})]),
        _call("c2", "edit_file", edit),
        _call("c3", "write_file", {"path": "notes.md", "content": "# notes\n"}),
        result("c3", "write_file", "Created notes.md", files_modified=["notes.md"],
               diff=make_diff("notes.md", None, "# notes\n")),
        result("c2", "edit_file", "Edited calc.py", files_modified=["calc.py"],
               diff=make_diff("calc.py", BEFORE, AFTER)),
        answer("Added mul to calc.py."),
    ]
    for seq, event in enumerate(events, 1):
        event.seq = seq
        event.time = 1000.0 + seq * 0.5
    return events


def test_stepping_rebuilds_conversation_and_files_at_each_step() -> None:
    r = Replay(_session_events())
    assert r.at_start and r.current is None and r.step_back() is None
    assert r.messages() == [] and r.files() == {}
    r.step_forward()
    assert [m.text for m in r.messages()] == ["Add a mul function to calc.py"]
    r.seek(5)  # after the read
    calc = r.files()["calc.py"]
    assert calc.read and not calc.modified and calc.content == BEFORE
    r.seek(9)  # notes.md written, calc.py not yet edited
    files = r.files()
    assert files["notes.md"].content == "# notes\n" and files["notes.md"].exists
    assert files["calc.py"].content == BEFORE
    assert r.step_forward().type == "tool_result"  # the edit's result
    calc = r.files()["calc.py"]
    assert calc.modified and calc.content == AFTER and len(calc.diffs) == 1
    messages = r.messages()
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant", "tool", "tool"]
    assert r.step_forward().type == "assistant_message" and r.at_end
    assert r.step_forward() is None
    assert r.step_back().type == "assistant_message" and r.position == len(r) - 1
    assert r.files()["calc.py"].content == AFTER
    r.seek(0)
    assert r.seek_type("user_prompt").data["message"]["text"].startswith("Add")
    assert r.seek_type("assistant_message").seq == 2
    assert r.seek_type("assistant_message").seq == 6
    assert r.seek_type("assistant_message", forward=False).seq == 2


def test_a_change_that_cannot_be_followed_makes_content_unknown() -> None:
    events = [prompt("p"), answer("", [("c1", "run_shell", {"command": "sed -i s/a/b/ x"})]),
              _call("c1", "run_shell", {"command": "sed -i s/a/b/ x"}),
              result("c1", "run_shell", "exit 0", files_modified=["x"])]
    for seq, event in enumerate(events, 1):
        event.seq = seq
    state = Replay(events)
    state.seek(4)
    x = state.files()["x"]
    assert x.modified and x.content is None and x.diffs == []


def test_timeline_lines() -> None:
    r = Replay(_session_events())
    lines = []
    while (event := r.step_forward()) is not None:
        lines.append(r.line(event))
    assert lines[0] == "    +0.0s  user_prompt        Add a mul function to calc.py"
    assert "[calls read_file]" in lines[1]
    assert lines[3].split()[1:] == ["tool_call", "read_file", "path=calc.py"]
    assert "(modified calc.py)" in lines[9]
    assert lines[-1].endswith("Added mul to calc.py.") and lines[-1].startswith("    +5.0s")


def test_replay_headless_command(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store() as store:
        sid = store.create_session("/ws", "m")
        store.append_many(sid, _session_events())
    out = CliRunner().invoke(replay_command, [sid[:6], "--headless"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert len(lines) == 11 and "user_prompt" in lines[0] and "edit_file" in out.output
    slept: list[float] = []
    monkeypatch.setattr("joiner.cli.replay.time.sleep", slept.append)
    out = CliRunner().invoke(replay_command, [sid[:6], "--headless", "--speed", "2"])
    assert out.exit_code == 0 and slept == [0.25] * 10  # 0.5 s gaps at twice the pace
    out = CliRunner().invoke(replay_command, [sid])  # no TUI on a pipe: the timeline, and a note
    assert out.exit_code == 0 and "user_prompt" in out.output
    assert CliRunner().invoke(replay_command, ["0" * 8, "--headless"]).exit_code != 0


lines_st = st.lists(st.sampled_from(["a", "b", "c", "", "def f():", "    pass"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(before=lines_st, after=lines_st, nl_before=st.booleans(), nl_after=st.booleans(),
       exists=st.sampled_from(["both", "created", "deleted"]))
def test_recorded_diffs_apply_exactly(before: list[str], after: list[str], nl_before: bool,
                                      nl_after: bool, exists: str) -> None:
    old = "\n".join(before) + ("\n" if nl_before and before else "")
    new = "\n".join(after) + ("\n" if nl_after and after else "")
    old_text = None if exists == "created" else old
    new_text = None if exists == "deleted" else new
    diff = make_diff("f.py", old_text, new_text)
    assume(diff or old_text == new_text)  # creating/deleting an empty file gives no diff
    assert apply_diff(old_text, diff) == new_text


def test_a_diff_that_does_not_fit_is_refused() -> None:
    diff = make_diff("f.py", "a\nb\nc\n", "a\nB\nc\n")
    try:
        apply_diff("x\ny\nz\n", diff)
    except PatchMismatch:
        return
    raise AssertionError("a mismatching diff was applied")
