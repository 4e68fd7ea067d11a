"""Adding and removing servers in a config file keeps everything else, comments included."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joiner.mcp.edit import ConfigEditError, add_server, remove_server, server_names

ORIGINAL = """\
# Joiner config of the project (hand-written)
model = "openai/gpt-5"  # the team's default

[pricing."openai/my-model"]
input_per_mtok = 3.0   # USD per million

# our servers
[mcp_servers.docs]
url = "https://docs.example.com/mcp"  # the docs server
headers = { Authorization = "Bearer abc" }

[limits]
read_max_lines = 500
"""


def test_add_keeps_comments_and_other_content(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ORIGINAL)
    add_server(path, "time", {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"],
                              "env": {"TZ_KEY": "k"}})
    text = path.read_text()
    for line in ORIGINAL.splitlines():
        assert line in text  # every line, comment and blank kept as it was
    data = tomllib.loads(text)
    assert data["mcp_servers"]["time"] == {"command": "mcp-server-time",
                                           "args": ["--local-timezone", "UTC"],
                                           "env": {"TZ_KEY": "k"}}
    assert data["mcp_servers"]["docs"]["url"] == "https://docs.example.com/mcp"
    assert data["limits"] == {"read_max_lines": 500}
    assert server_names(path) == ["docs", "time"]

    assert remove_server(path, "time")
    assert path.read_text().rstrip() == ORIGINAL.rstrip()
    assert remove_server(path, "docs")
    text = path.read_text()
    assert "mcp_servers" not in text and "# Joiner config of the project" in text
    assert tomllib.loads(text)["limits"] == {"read_max_lines": 500}


def test_a_new_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / ".joiner" / "config.toml"
    add_server(path, "web", {"url": "https://h/mcp", "headers": {"Authorization": "Bearer x"}})
    assert tomllib.loads(path.read_text()) == {
        "mcp_servers": {"web": {"url": "https://h/mcp", "headers": {"Authorization": "Bearer x"}}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "[mcp_servers.web]" in path.read_text()  # not an empty [mcp_servers] header


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ORIGINAL)
    path.chmod(0o644)
    add_server(path, "t", {"command": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_refusals_leave_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ORIGINAL)
    with pytest.raises(ConfigEditError, match="already in"):
        add_server(path, "docs", {"command": "x"})
    with pytest.raises(ConfigEditError, match="the name"):
        add_server(path, "bad name", {"command": "x"})
    with pytest.raises(ConfigEditError, match="exactly one of"):
        add_server(path, "both", {"command": "x", "url": "https://h"})
    assert not remove_server(path, "nope")
    assert path.read_text() == ORIGINAL
    broken = tmp_path / "broken.toml"
    broken.write_text("model = \n")
    with pytest.raises(ConfigEditError, match="not valid TOML"):
        add_server(broken, "t", {"command": "x"})
    odd = tmp_path / "odd.toml"
    odd.write_text('mcp_servers = "nope"\n')
    with pytest.raises(ConfigEditError, match="fix it by hand"):
        add_server(odd, "t", {"command": "x"})
    assert broken.read_text() == "model = \n" and odd.read_text() == 'mcp_servers = "nope"\n'


names = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, args=st.lists(values, max_size=4),
       env=st.dictionaries(st.from_regex(r"[A-Z_]{1,8}", fullmatch=True), values, max_size=3))
def test_add_then_remove_round_trips(tmp_path: Path, name: str, args: list[str],
                                     env: dict[str, str]) -> None:
    path = tmp_path / "round.toml"
    path.write_text(ORIGINAL)
    table: dict = {"command": "srv", "args": args, "env": env}
    if name == "docs":
        return
    add_server(path, name, table)
    assert tomllib.loads(path.read_text())["mcp_servers"][name] == table
    assert remove_server(path, name)
    assert path.read_text().rstrip() == ORIGINAL.rstrip()
