from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from tool_support import make_tools

from joiner.core import ToolError
from joiner.tools.shell import HeadTail


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


async def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_exit_code_stdout_stderr_in_the_workspace_root(tmp_path: Path) -> None:
    (tmp_path / "marker.txt").write_text("here")
    out = await make_tools(tmp_path)["run_shell"].run(
        {"command": "cat marker.txt; echo; pwd; echo oops >&2; exit 3"})
    assert out.text == (f"exit code: 3\nstdout:\nhere\n{tmp_path.resolve()}\nstderr:\noops")
    assert out.meta == {"exit_code": 3, "timed_out": False}
    assert not out.is_error


async def test_bash_features_and_closed_stdin(tmp_path: Path) -> None:
    out = await make_tools(tmp_path)["run_shell"].run(
        {"command": "[[ 1 == 1 ]] && echo bash; read line; echo \"read=$?\""})
    assert "bash\nread=1" in out.text
    assert "stdout:" in out.text and "exit code: 0" in out.text


async def test_empty_output_and_errors(tmp_path: Path) -> None:
    tool = make_tools(tmp_path)["run_shell"]
    assert (await tool.run({"command": "true"})).text == "exit code: 0\nstdout: (empty)"
    with pytest.raises(ToolError, match="the command is empty"):
        await tool.run({"command": "   "})
    for bad in ({}, {"command": 1}, {"command": "ls", "timeout": 0},
                {"command": "ls", "timeout": -1}, {"command": "ls", "timeout": float("nan")}):
        with pytest.raises(ValidationError):
            await tool.run(bad)


async def test_long_output_is_cut_in_the_middle(tmp_path: Path) -> None:
    tool = make_tools(tmp_path, shell_max_bytes=1000)["run_shell"]
    out = await tool.run({"command": "seq 1 100000"})
    stdout = out.text.split("stdout:\n", 1)[1]
    assert stdout.startswith("1\n2\n3\n")
    assert stdout.endswith("99999\n100000")
    assert "bytes cut from the middle of the output" in stdout
    assert len(stdout) < 1300


def test_head_tail_keeps_both_ends_and_counts() -> None:
    buffer = HeadTail(10)
    full = "".join(f"{i:04}" for i in range(1000))
    for i in range(1000):
        buffer.add(f"{i:04}".encode())
    text = buffer.text()
    assert text.startswith(full[:5] + "\n") and text.endswith("\n" + full[-5:])
    assert "3990 bytes cut" in text
    small = HeadTail(100)
    small.add(b"hello ")
    small.add(b"world")
    assert small.text() == "hello world"


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    tool = make_tools(tmp_path)["run_shell"]
    started = time.monotonic()
    out = await tool.run({"command": "sleep 60 & echo $! > child.pid; echo started; wait",
                          "timeout": 0.5})
    assert time.monotonic() - started < 5
    assert out.is_error and out.meta["timed_out"]
    assert "did not finish within 0.5s and was killed" in out.text
    assert "started" in out.text  # the output so far is kept
    child = int((tmp_path / "child.pid").read_text())
    assert await wait_gone(child)


async def test_a_command_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    tool = make_tools(tmp_path)["run_shell"]
    out = await tool.run({"command": "trap '' TERM; sleep 30", "timeout": 0.3})
    assert out.meta["timed_out"]


async def test_timeout_is_capped_by_the_limit(tmp_path: Path) -> None:
    tool = make_tools(tmp_path, shell_max_timeout=0.3)["run_shell"]
    out = await tool.run({"command": "sleep 30", "timeout": 1000})
    assert "within 0.3s" in out.text
    assert "at most 0.3" in tool.spec.parameters["properties"]["timeout"]["description"]


async def test_cancelling_the_call_kills_the_group(tmp_path: Path) -> None:
    tool = make_tools(tmp_path)["run_shell"]
    task = asyncio.create_task(tool.run({"command": "sleep 60 & echo $! > child.pid; wait"}))
    pid_file = tmp_path / "child.pid"
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(int(pid_file.read_text()))


async def test_a_background_process_does_not_hold_the_call(tmp_path: Path) -> None:
    tool = make_tools(tmp_path)["run_shell"]
    started = time.monotonic()
    out = await tool.run({"command": "sleep 30 & echo $! > bg.pid; echo done"})
    assert time.monotonic() - started < 5
    assert "exit code: 0" in out.text and "done" in out.text
    assert "background process still holds the output open" in out.text
    os.kill(int((tmp_path / "bg.pid").read_text()), 9)  # our own test child


async def test_shell_refused_in_default_mode_headless(tmp_path: Path) -> None:
    """Through the core's tool runner: the refusal reaches the model, the command never runs."""
    from joiner.core.messages import ToolCall
    from joiner.core.tool_runner import ToolRunner
    from joiner.workspace.permissions import PermissionGate

    events: list = []

    class Sink:
        def emit(self, event: object) -> None:
            events.append(event)

    tools = list(make_tools(tmp_path).values())
    runner = ToolRunner(tools, PermissionGate("default"), Sink())
    [result] = await runner.run_all([ToolCall("c1", "run_shell",
                                              '{"command": "touch ran.txt"}')])
    assert result.is_error
    assert "permission mode 'default' does not allow shell commands" in result.text
    assert not (tmp_path / "ran.txt").exists()
    runner = ToolRunner(tools, PermissionGate("auto"), Sink())
    [result] = await runner.run_all([ToolCall("c2", "run_shell",
                                              '{"command": "touch ran.txt"}')])
    assert not result.is_error and (tmp_path / "ran.txt").exists()
