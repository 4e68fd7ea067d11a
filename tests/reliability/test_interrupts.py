"""Ctrl+C in a headless run, for real: SIGINT to a ``joiner -p`` process while the answer
streams and while ``run_shell`` runs a command with a child. The request and the command's
whole process group stop, the interruption is recorded, the session id to resume is printed,
exit 130, and the session resumes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from reliability_kit import WIRES, Joiner, StallAfterText, no_traceback


def wait_for(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def interrupt(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def process_gone(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet (its parent, the killed shell, is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def stalling() -> Iterator[StallAfterText]:
    server = StallAfterText("Once upon a time, there was a")
    yield server
    server.stop()


@pytest.mark.parametrize("wire", WIRES)
def test_ctrl_c_while_the_answer_streams(joiner: Joiner, loopback: Any, stalling: StallAfterText,
                                         wire: str) -> None:
    server = stalling  # sends some text, then nothing
    proc = joiner.start("-p", "tell me a story", "--model", f"{wire}/loop-model",
                        "--output-format", "stream-json", server=server)
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())  # the text is on screen: the stream is live
    assert first == {"type": "text_delta", "text": "Once upon a time, there was a"}
    started = time.monotonic()
    done = interrupt(proc)
    assert time.monotonic() - started < 10
    assert done.returncode == 130
    no_traceback(done)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["stop_reason"] == "interrupted" and result["is_error"] is True
    session_id = result["session_id"]

    stored = joiner.events(session_id)
    kinds = [e["type"] for e in stored]
    assert kinds[0] == "user_prompt" and "interrupted" in kinds
    [partial] = [e["data"] for e in stored if e["type"] == "assistant_partial"]
    assert partial == {"text": "Once upon a time, there was a", "error": "interrupted"}
    assert joiner.session(session_id)["status"] == "interrupted"

    again = loopback([{"text": "The end."}])
    resumed = joiner("-p", "finish it", "--resume", session_id, "--model",
                     f"{wire}/loop-model", server=again)
    assert resumed.returncode == 0 and resumed.stdout.strip() == "The end.", resumed.stderr
    assert "tell me a story" in json.dumps(again.requests[0].body["messages"])


def test_ctrl_c_during_a_long_shell_command_kills_its_process_group(joiner: Joiner,
                                                                    loopback: Any) -> None:
    command = "sleep 300 & echo $! > child.pid; sleep 301"
    server = loopback([{"text": "Running it.", "tool_calls": [
        {"name": "run_shell", "arguments": {"command": command, "timeout": 600}}]},
        {"text": "never asked"}])
    proc = joiner.start("-p", "run the long job", "--model", "openai/loop-model",
                        "--permission-mode", "auto", server=server)
    pid_file = joiner.workspace / "child.pid"
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip())
    child = int(pid_file.read_text())
    assert not process_gone(child)
    done = interrupt(proc)
    assert done.returncode == 130
    no_traceback(done)
    assert done.stdout == "Running it.\n"
    [line] = done.stderr.splitlines()
    assert line.startswith("joiner: Interrupted by the user; resume with: joiner --resume ")
    session_id = line.rsplit(" ", 1)[1]
    wait_for(lambda: process_gone(child), timeout=10)  # the background child too
    assert len(server.requests) == 1

    stored = joiner.events(session_id)
    [result] = [e["data"] for e in stored if e["type"] == "tool_result"]
    assert result["interrupted"] is True and result["message"]["is_error"] is True
    assert [e["type"] for e in stored][-2:] == ["interrupted", "error"]
    shown = joiner.session(session_id)
    assert shown["status"] == "interrupted"
    assert [t["name"] for t in shown["tool_calls"]] == ["run_shell"]

    # resumes with a valid conversation: the interrupted call has its error result
    again = loopback([{"text": "Understood, not running it again."}])
    resumed = joiner("-p", "skip it", "--resume", session_id, server=again)
    assert resumed.returncode == 0, resumed.stderr
    sent = again.requests[0].body["messages"]
    assert [m["role"] for m in sent if m["role"] != "system"] == ["user", "assistant", "tool",
                                                                 "user"]


def test_ctrl_c_while_waiting_for_the_server(joiner: Joiner) -> None:
    """SIGINT before any answer: the server took the request and never replies."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    server = SimpleNamespace(openai_base_url=f"http://127.0.0.1:{port}/v1",
                             base_url=f"http://127.0.0.1:{port}")
    try:
        proc = joiner.start("-p", "hello?", "--model", "openai/loop-model",
                            "--output-format", "json", server=server)
        wait_for(lambda: _has_session(joiner))
        time.sleep(0.3)
        done = interrupt(proc)
    finally:
        silent.close()
    assert done.returncode == 130
    no_traceback(done)
    result = json.loads(done.stdout)
    assert result["stop_reason"] == "interrupted"
    assert joiner.session(result["session_id"])["messages"] == [{"role": "user",
                                                                 "text": "hello?"}]


def _has_session(joiner: Joiner) -> bool:
    listed = joiner("sessions", "list", "--json")
    return listed.returncode == 0 and bool(json.loads(listed.stdout or "[]"))


def test_the_shell_tool_kills_the_group_when_cancelled(tmp_path: Path) -> None:
    """The same at the tool's level: cancellation (not only the timeout) kills the group."""
    import asyncio

    from joiner.tools import builtin_tools
    from joiner.workspace.guard import Workspace

    (tmp_path / ".git").mkdir()
    [shell] = [t for t in builtin_tools(Workspace(tmp_path), None) if t.spec.name == "run_shell"]

    async def main() -> int:
        task = asyncio.ensure_future(shell.run(
            {"command": "sleep 300 & echo $! > child.pid; sleep 301"}))
        await asyncio.to_thread(wait_for, lambda: (tmp_path / "child.pid").exists()
                                and (tmp_path / "child.pid").read_text().strip())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return int((tmp_path / "child.pid").read_text())

    child = asyncio.run(main())
    wait_for(lambda: process_gone(child), timeout=10)
