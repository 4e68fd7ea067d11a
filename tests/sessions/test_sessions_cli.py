"""``joiner sessions …`` as a user runs them: list, show, export, fork, delete, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from session_events import answer, prompt, result, usage

from joiner.cli.errors import UserError
from joiner.cli.sessions import sessions
from joiner.sessions import open_store

JOINER = [sys.executable, "-m", "joiner"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")  # the workspace is the git root above
    return repo


def _record(workspace: str, text: str = "Fix the bug") -> str:
    with open_store() as store:
        sid = store.create_session(workspace, "openai/gpt-test", permission_mode="auto")
        store.append_many(sid, [
            prompt(text),
            answer("Looking.", [("c1", "read_file", {"path": "a.py"}),
                                ("c2", "edit_file", {"path": "a.py", "old_string": "x"})]),
            usage(100, 20, 0.25),
            result("c1", "read_file", "x" * 5000, files_read=["a.py"]),
            result("c2", "edit_file", "Error: no match", True),
            answer("Fixed."),
            usage(150, 10, None),
        ])
        store.set_status(sid, "done")
    return sid


def _run(*args: str, as_json: bool = False) -> tuple[int, dict | list | str]:
    out = CliRunner().invoke(sessions, list(args), catch_exceptions=True)
    if isinstance(out.exception, UserError):
        return out.exception.code, str(out.exception)
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    return out.exit_code, json.loads(out.output) if as_json or "--json" in args else out.output


def test_list_this_workspace_then_all(repo: Path) -> None:
    mine = _record(str(repo))
    other = _record("/elsewhere", "Other work")
    code, listed = _run("list", "--json")
    assert code == 0 and [s["id"] for s in listed] == [mine]
    assert listed[0]["title"] == "Fix the bug" and listed[0]["status"] == "done"
    assert listed[0]["created_at"].endswith("Z")
    _code, every = _run("list", "--json", "--all")
    assert [s["id"] for s in every] == [other, mine]
    _code, text = _run("list")
    assert mine[:12] in text and "Fix the bug" in text and other[:12] not in text


def test_show_json_has_the_contract_keys(repo: Path) -> None:
    sid = _record(str(repo))
    code, shown = _run("show", sid[:6], "--json")
    assert code == 0
    for key in ("id", "workspace", "title", "model", "created_at", "updated_at", "status",
                "messages", "tool_calls", "files_read", "files_modified", "usage"):
        assert key in shown
    assert shown["id"] == sid and shown["workspace"] == str(repo)
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant", "tool", "tool",
                                                      "assistant"]
    first, second = shown["tool_calls"]
    assert first["name"] == "read_file" and first["arguments"] == {"path": "a.py"}
    assert not first["is_error"] and len(first["result"]) < 2100  # cut
    assert "more characters" in first["result"]
    assert second["is_error"] and second["result"] == "Error: no match"
    assert shown["files_read"] == ["a.py"] and shown["files_modified"] == []
    assert shown["usage"]["input_tokens"] == 250 and shown["usage"]["output_tokens"] == 30
    assert shown["usage"]["cost_usd"] == 0.25
    code, text = _run("show", sid)
    assert code == 0 and "Fix the bug" in text and "read_file" in text and "Fixed." in text


def test_export_json_and_markdown(repo: Path) -> None:
    sid = _record(str(repo))
    code, exported = _run("export", sid, "--format", "json", as_json=True)
    assert code == 0
    assert [e["seq"] for e in exported["events"]] == list(range(1, 8))
    assert exported["tool_calls"][0]["result"] == "x" * 5000  # whole, not cut
    code, markdown = _run("export", sid, "--format", "markdown")
    assert code == 0 and markdown.startswith("# Fix the bug\n")
    assert "## User" in markdown and "> Fix the bug" in markdown
    assert "**Tool call** `read_file`" in markdown and "**Error** of `edit_file`" in markdown
    assert markdown.rstrip().endswith("Fixed.")


def test_fork_and_delete(repo: Path) -> None:
    sid = _record(str(repo))
    code, out = _run("fork", sid[:8])
    new_id = str(out).strip()
    assert code == 0 and len(new_id) == 32 and new_id != sid
    _code, forked = _run("show", new_id, "--json")
    _code, original = _run("show", sid, "--json")
    assert forked["messages"] == original["messages"] and forked["parent_id"] == sid
    assert _run("delete", sid)[0] == 0
    code, message = _run("show", sid)
    assert code == 2 and "no session" in str(message)
    assert _run("show", new_id, "--json")[0] == 0


def test_a_running_session_is_deleted_only_with_force(repo: Path) -> None:
    with open_store() as store:
        sid = store.create_session(str(repo), "m")  # this live process runs it
    code, message = _run("delete", sid)
    assert code == 1 and "is running" in str(message)
    assert _run("delete", sid, "--force")[0] == 0
    assert _run("show", sid)[0] == 2


def test_unknown_or_ambiguous_ids_are_one_line_errors(repo: Path) -> None:
    ids = [_record(str(repo)) for _ in range(17)]
    firsts = [i[0] for i in ids]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    for command in ("show", "export", "fork", "delete"):
        code, message = _run(command, shared)
        assert code == 2 and "several sessions" in str(message)
        code, message = _run(command, "nothex")
        assert code == 2 and "\n" not in str(message)


def test_real_cli_run_then_sessions_commands_and_resume(repo: Path, tmp_path: Path) -> None:
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        {"text": "Reading.", "tool_calls": [{"name": "read_file",
                                             "arguments": {"path": "calc.py"}}]},
        {"text": "It adds.", "usage": {"input_tokens": 7, "output_tokens": 3}},
    ]))
    env = {**os.environ}

    def joiner(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*JOINER, *args], capture_output=True, text=True, env=env,
                              cwd=repo / "sub", timeout=120)

    run = joiner("-p", "What does calc.py do?", "--model", f"scripted/{script}",
                 "--output-format", "json")
    assert run.returncode == 0, run.stderr
    sid = json.loads(run.stdout)["session_id"]
    listed = json.loads(joiner("sessions", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [sid] and listed[0]["status"] == "done"
    shown = json.loads(joiner("sessions", "show", sid[:8], "--json").stdout)
    assert shown["files_read"] == ["calc.py"]
    assert [t["name"] for t in shown["tool_calls"]] == ["read_file"]
    assert shown["messages"][-1]["text"] == "It adds."

    script.write_text(json.dumps([{"text": "Still adds."}]))
    resumed = joiner("-p", "And now?", "--model", f"scripted/{script}", "--resume", sid[:8],
                     "--output-format", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["session_id"] == sid
    shown = json.loads(joiner("sessions", "show", sid, "--json").stdout)
    assert [m["text"] for m in shown["messages"] if m["role"] == "user"] == [
        "What does calc.py do?", "And now?"]

    missing = joiner("sessions", "show", "abcdef0123")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr
