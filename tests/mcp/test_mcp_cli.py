"""``joiner mcp add | list | remove`` and MCP tools in ``joiner tools list``, as users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from mcp_kit import ECHO_SERVER

SECRET = "sk-live-0123456789"


def joiner(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "joiner", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)


def test_add_list_remove(repo: Path, home: Path) -> None:
    (repo / "sub").mkdir()
    added = joiner(repo / "sub", home, "mcp", "add", "echo", "--env", f"ECHO_KEY={SECRET}", "--",
                   sys.executable, str(ECHO_SERVER), "--bad-schema")
    assert added.returncode == 0, added.stderr
    project = repo / ".joiner" / "config.toml"  # at the workspace root, not in sub/
    assert f"added MCP server 'echo' to {project}" in added.stdout
    assert "may be committed" in added.stderr  # a secret in the project's config: one note
    assert tomllib.loads(project.read_text())["mcp_servers"]["echo"] == {
        "command": sys.executable, "args": [str(ECHO_SERVER), "--bad-schema"],
        "env": {"ECHO_KEY": SECRET}}

    web = joiner(repo, home, "mcp", "add", "web", "--scope", "user", "--url",
                 "http://127.0.0.1:9/mcp?token=abcdef", "--header", "Authorization=Bearer xyz1")
    assert web.returncode == 0, web.stderr
    assert "web" in tomllib.loads((home / "config.toml").read_text())["mcp_servers"]

    listed = joiner(repo, home, "mcp", "list")
    assert listed.returncode == 1  # a server failed to start (nothing listens on port 9)
    out = listed.stdout
    assert "echo  (project, stdio)  ok, 9 tools" in out
    assert "web  (user, http)  failed to start" in out
    assert "env: ECHO_KEY=***" in out and "headers: Authorization: ***" in out
    assert "http://127.0.0.1:9/mcp?***" in out
    for secret in (SECRET, "xyz1", "abcdef"):
        assert secret not in out and secret not in listed.stderr
    assert "mcp__echo__echo" in out and "mcp__echo__broken" not in out
    stderr_lines = listed.stderr.strip().splitlines()
    assert len(stderr_lines) == 2  # the invalid schema, the server that did not start
    assert any("'broken' is skipped" in line for line in stderr_lines)

    as_json = json.loads(joiner(repo, home, "mcp", "list", "--json").stdout)
    assert [(s["name"], s["scope"], s["state"]) for s in as_json] == [
        ("web", "user", "failed"), ("echo", "project", "ready")]
    assert as_json[1]["env"] == {"ECHO_KEY": "***"} and SECRET not in json.dumps(as_json)

    tools = json.loads(joiner(repo, home, "tools", "list", "--json").stdout)
    mcp_tools = {t["name"]: t for t in tools if t["source"] == "mcp:echo"}
    assert len(mcp_tools) == 9 and "mcp__echo__broken" not in mcp_tools
    assert mcp_tools["mcp__echo__echo"]["read_only"] is True
    assert mcp_tools["mcp__echo__add"]["read_only"] is False
    assert mcp_tools["mcp__echo__add"]["parameters"]["required"] == ["a", "b"]

    removed = joiner(repo, home, "mcp", "remove", "web")
    assert removed.returncode == 0 and "from " + str(home / "config.toml") in removed.stdout
    assert "mcp_servers" not in tomllib.loads((home / "config.toml").read_text())
    again = joiner(repo, home, "mcp", "remove", "web")
    assert again.returncode == 2 and again.stderr.startswith("joiner: no MCP server named 'web'")


def test_bad_usage_is_one_line_and_exit_2(repo: Path, home: Path) -> None:
    for args, message in [
        (("mcp", "add", "x"), "say how to reach the server"),
        (("mcp", "add", "x", "--url", "https://h/mcp", "--", "cmd"), "not both"),
        (("mcp", "add", "x", "--env", "NOEQUALS", "--", "cmd"), "is not KEY=VALUE"),
        (("mcp", "add", "bad name", "--", "cmd"), "the name must be"),
        (("mcp", "add", "x", "--header", "A=b", "--", "cmd"), "--header is for --url"),
    ]:
        result = joiner(repo, home, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    assert not (repo / ".joiner").exists()
    joiner(repo, home, "mcp", "add", "x", "--", "cmd")
    twice = joiner(repo, home, "mcp", "add", "x", "--", "cmd")
    assert twice.returncode == 2 and "already in" in twice.stderr


def test_remove_asks_which_scope_when_both_have_it(repo: Path, home: Path) -> None:
    assert joiner(repo, home, "mcp", "add", "t", "--", "a").returncode == 0
    assert joiner(repo, home, "mcp", "add", "t", "--scope", "user", "--", "b").returncode == 0
    both = joiner(repo, home, "mcp", "remove", "t")
    assert both.returncode == 2 and "--scope" in both.stderr
    assert joiner(repo, home, "mcp", "remove", "t", "--scope", "user").returncode == 0
    assert joiner(repo, home, "mcp", "remove", "t").returncode == 0


def test_list_with_nothing_configured(repo: Path, home: Path) -> None:
    result = joiner(repo, home, "mcp", "list")
    assert result.returncode == 0 and "no MCP servers configured" in result.stdout
    assert json.loads(joiner(repo, home, "mcp", "list", "--json").stdout) == []
