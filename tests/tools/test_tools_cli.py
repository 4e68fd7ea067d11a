from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def joiner(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOINER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "joiner", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    return root


def test_tools_list_json_shape(project: Path, tmp_path: Path) -> None:
    done = joiner(project, "tools", "list", "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    infos = json.loads(done.stdout)
    assert [i["name"] for i in infos] == ["read_file", "write_file", "edit_file", "list_files",
                                          "grep", "run_shell"]
    for info in infos:
        assert set(info) == {"name", "description", "parameters", "read_only", "source"}
        assert info["source"] == "builtin"
        assert info["parameters"]["type"] == "object"
    assert {i["name"] for i in infos if i["read_only"]} == {"read_file", "list_files", "grep"}


def test_tools_list_text(project: Path, tmp_path: Path) -> None:
    done = joiner(project, "tools", "list", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 6
    assert lines[0].split()[:3] == ["read_file", "read-only", "builtin"]


def test_tools_list_follows_the_project_config(project: Path, tmp_path: Path) -> None:
    (project / ".joiner").mkdir()
    (project / ".joiner" / "config.toml").write_text(
        'permission_mode = "plan"\n[limits]\nread_max_lines = 7\n')
    done = joiner(project, "tools", "list", "--json", home=tmp_path / "home")
    infos = json.loads(done.stdout)
    assert [i["name"] for i in infos] == ["read_file", "list_files", "grep"]
    assert "At most 7 lines" in infos[0]["description"]


def test_tools_list_bad_limit_is_one_line_exit_2(project: Path, tmp_path: Path) -> None:
    (project / ".joiner").mkdir()
    (project / ".joiner" / "config.toml").write_text("[limits]\nread_max_line = 7\n")
    done = joiner(project, "tools", "list", home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "unknown tool limit 'read_max_line'" in done.stderr


ECHO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "echo_server.py"


@pytest.mark.skipif(not ECHO_SERVER.exists(), reason="the MCP room's echo server is not here")
def test_tools_list_includes_mcp_tools(project: Path, tmp_path: Path) -> None:
    (project / ".joiner").mkdir()
    (project / ".joiner" / "config.toml").write_text(
        f"[mcp_servers.echo]\ncommand = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(ECHO_SERVER))}]\n")
    done = joiner(project, "tools", "list", "--json", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    infos = json.loads(done.stdout)
    assert infos[0]["source"] == "builtin"
    echo = next(i for i in infos if i["name"] == "mcp__echo__echo")
    assert echo["source"] == "mcp:echo" and echo["read_only"] is True
    assert set(echo) == {"name", "description", "parameters", "read_only", "source"}
