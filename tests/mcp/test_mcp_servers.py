"""MCP servers in a run, against the echo server (a real subprocess speaking MCP over stdio)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_kit import ECHO_SERVER, Warnings, echo_table

from joiner.core import ToolError
from joiner.mcp import McpServers, ServerConfig, parse_server, start_servers
from joiner.mcp.tool import McpTool


def servers(tables: dict[str, dict], repo: Path, warnings: Warnings, home: Path) -> McpServers:
    configs = [parse_server(name, table) for name, table in tables.items()]
    return McpServers(configs, repo, warnings, log_dir=home / "logs")


def by_name(tools: list[McpTool]) -> dict[str, McpTool]:
    return {tool.spec.name: tool for tool in tools}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0); its state in /proc says it has exited
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1].startswith("Z")


async def test_discovery_naming_kinds_and_calls(repo: Path, home: Path,
                                                warnings: Warnings) -> None:
    table = echo_table(env={"ECHO_SECRET": "s3cr3t-value"})
    async with servers({"echo": table}, repo, warnings, home) as running:
        tools = by_name(running.tools)
        assert set(tools) == {f"mcp__echo__{n}" for n in
                              ("echo", "add", "env_value", "http_header", "pid", "picture", "fail",
                               "crash", "nap")}
        echo, add = tools["mcp__echo__echo"], tools["mcp__echo__add"]
        assert echo.kind == "read" and echo.read_only  # annotated readOnlyHint
        assert add.kind == "execute" and not add.read_only  # not annotated: may do anything
        assert echo.source == "mcp:echo"
        assert echo.spec.description == "Return the text unchanged."
        assert echo.spec.parameters["properties"]["text"]["type"] == "string"
        assert echo.spec.parameters["required"] == ["text"]
        assert await echo.preview({"text": "x"}) is None

        assert (await echo.run({"text": "héllo"})).text == "héllo"
        result = await add.run({"a": 2, "b": 40})
        assert (result.text, result.is_error) == ("42", False)
        assert (await tools["mcp__echo__env_value"].run({"key": "ECHO_SECRET"})).text == \
            "s3cr3t-value"

        picture = await tools["mcp__echo__picture"].run({})
        assert picture.text.splitlines() == [
            "a caption", "[image: image/png, 70 bytes]", "[resource: file:///notes.txt]",
            "resource body"]

        failed = await tools["mcp__echo__fail"].run({"reason": "the disk is full"})
        assert failed.is_error and "the disk is full" in failed.text
        pid = int((await tools["mcp__echo__pid"].run({})).text)
        assert not gone(pid)
    assert warnings == []
    assert gone(pid), "the server process must be stopped when the run ends"


async def test_bad_servers_warn_once_and_the_good_one_works(repo: Path, home: Path,
                                                            warnings: Warnings) -> None:
    tables = {
        "good": echo_table(),
        "missing": {"command": "joiner-no-such-command-xyz"},
        "exits": echo_table("--exit"),
        "hangs": echo_table("--hang", startup_timeout=1.5),
    }
    started = time.monotonic()
    async with servers(tables, repo, warnings, home) as running:
        elapsed = time.monotonic() - started
        assert {t.server for t in running.tools} == {"good"}
        assert (await by_name(running.tools)["mcp__good__echo"].run({"text": "ok"})).text == "ok"
    assert elapsed < 10, "servers start in parallel, each bounded by its startup_timeout"
    assert warnings.about("good") == []
    [missing] = warnings.about("missing")
    assert "command not found: joiner-no-such-command-xyz" in missing
    [exits] = warnings.about("exits")
    assert "did not start" in exits and "missing ECHO_TOKEN" in exits  # its stderr, quoted
    [hangs] = warnings.about("hangs")
    assert "did not start within 1.5s" in hangs and "startup_timeout" in hangs
    assert all("\n" not in line for line in warnings)


async def test_a_crash_mid_run_is_one_warning_and_tool_errors(repo: Path, home: Path,
                                                            warnings: Warnings) -> None:
    async with servers({"echo": echo_table()}, repo, warnings, home) as running:
        tools = by_name(running.tools)
        pid = int((await tools["mcp__echo__pid"].run({})).text)
        with pytest.raises(ToolError, match="MCP server 'echo' stopped"):
            await tools["mcp__echo__crash"].run({})
        for _ in range(2):
            with pytest.raises(ToolError, match="not running"):
                await tools["mcp__echo__echo"].run({"text": "still there?"})
    assert len(warnings) == 1 and "stopped during the run" in warnings[0]
    assert gone(pid)


async def test_ending_the_run_mid_call_is_not_a_crash(repo: Path, home: Path,
                                                      warnings: Warnings) -> None:
    async with servers({"echo": echo_table()}, repo, warnings, home) as running:
        nap = by_name(running.tools)["mcp__echo__nap"]
        call = asyncio.create_task(nap.run({"seconds": 60}))
        await asyncio.sleep(0.5)
    with pytest.raises(ToolError):
        await call
    assert warnings == []


async def test_garbage_on_stdout_and_an_invalid_schema(repo: Path, home: Path,
                                                      warnings: Warnings) -> None:
    table = echo_table("--garbage", "--bad-schema")
    async with servers({"noisy": table}, repo, warnings, home) as running:
        tools = by_name(running.tools)
        assert "mcp__noisy__broken" not in tools
        assert (await tools["mcp__noisy__echo"].run({"text": "fine"})).text == "fine"
    garbage = [w for w in warnings if "not MCP on its stdout" in w]
    schema = [w for w in warnings if "'broken' is skipped" in w]
    assert len(garbage) == 1 and len(schema) == 1 and len(warnings) == 2
    assert "no-such-type" in schema[0]


async def test_secrets_never_reach_warnings_or_tool_errors(repo: Path, home: Path,
                                                          warnings: Warnings) -> None:
    secret = "tok-0123456789abcdef"
    # the server quotes the token on stderr as it fails; Joiner quotes the stderr's last line
    table = echo_table("--exit", env={"ECHO_TOKEN": secret}, startup_timeout=5)
    config = parse_server("leaky", table)
    assert config.redact(f"x {secret} y") == "x *** y"
    async with McpServers([config], repo, warnings, home / "logs") as running:
        assert running.tools == []
    [line] = warnings
    assert "missing ECHO_TOKEN (got '***')" in line and secret not in line


async def test_disabled_servers_do_not_start(repo: Path, home: Path, warnings: Warnings) -> None:
    async with servers({"off": echo_table(enabled=False)}, repo, warnings, home) as running:
        assert running.connections == [] and running.tools == []
    assert warnings == []


async def test_no_servers_import_no_sdk(repo: Path, warnings: Warnings) -> None:
    code = ("import asyncio, sys; from pathlib import Path; from joiner.mcp import start_servers\n"
            "async def main():\n"
            "    async with start_servers({}, Path('.'), print) as s: assert s.tools == []\n"
            "asyncio.run(main()); print('mcp' in sys.modules)")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.decode().strip() == "False"


async def test_a_slow_tool_times_out_as_a_tool_error(repo: Path, home: Path,
                                                     warnings: Warnings) -> None:
    config = {"mcp_servers": {"slow": echo_table(tool_timeout=0.5)}}
    async with start_servers(config, repo, warnings) as running:
        nap = by_name(running.tools)["mcp__slow__nap"]
        with pytest.raises(ToolError, match=r"did not answer nap within 0\.5s"):
            await nap.run({"seconds": 5})
        assert (await nap.run({"seconds": 0})).text == "awake"  # the server is still usable
    assert warnings == []


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """The echo server over streamable HTTP on a free local port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (tmp_path / "http.log").open("w") as log:
        process = subprocess.Popen([sys.executable, str(ECHO_SERVER), "--http", str(port)],
                                   stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no HTTP server"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


async def test_streamable_http_with_headers(http_server: str, repo: Path, home: Path,
                                            warnings: Warnings) -> None:
    table = {"url": http_server, "headers": {"X-Team-Token": "team-secret-1"}}
    async with servers({"web": table}, repo, warnings, home) as running:
        tools = by_name(running.tools)
        assert (await tools["mcp__web__echo"].run({"text": "over http"})).text == "over http"
        header = await tools["mcp__web__http_header"].run({"name": "x-team-token"})
        assert header.text == "team-secret-1"
        assert tools["mcp__web__add"].kind == "execute" and tools["mcp__web__echo"].kind == "read"
    assert warnings == []


async def test_an_http_server_that_is_not_there(repo: Path, home: Path,
                                                warnings: Warnings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    table = {"url": f"http://127.0.0.1:{port}/mcp?key=abcdef", "startup_timeout": 5}
    async with servers({"gone": table}, repo, warnings, home) as running:
        assert running.tools == []
    [line] = warnings
    assert "'gone' did not start" in line and "abcdef" not in line


def test_server_config_is_what_the_table_says() -> None:
    config = parse_server("t", {"command": "x", "args": ["-v"], "startup_timeout": 3})
    assert config == ServerConfig("t", command="x", args=["-v"], startup_timeout=3.0)
