"""``[mcp_servers.NAME]`` parsing, and secrets kept out of everything shown."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joiner.mcp.config import MASK, ServerConfigError, mask_url, parse_server, server_configs
from joiner.mcp.tool import schema_problem, tool_name


@pytest.mark.parametrize(("table", "problem"), [
    ({}, "exactly one of command"),
    ({"command": "x", "url": "http://h/mcp"}, "exactly one of command"),
    ({"command": ""}, "non-empty"),
    ({"command": "x", "args": "--flag"}, "args must be a list of strings"),
    ({"command": "x", "env": {"K": ["v"]}}, "env.K must be a string"),
    ({"command": "x", "startup_timeout": 0}, "positive number"),
    ({"command": "x", "startup_timeout": True}, "positive number"),
    ({"command": "x", "enabled": "no"}, "true or false"),
    ({"command": "x", "comand": "y"}, "unknown key 'comand'"),
    ({"url": "ftp://h/x"}, "http:// or https://"),
    ({"url": "https://h/mcp", "env": {"K": "v"}}, "url server has headers"),
    ("mcp-server-time", "must be a table"),
])
def test_bad_tables_say_what_to_fix(table: Any, problem: str) -> None:
    with pytest.raises(ServerConfigError, match=problem):
        parse_server("s", table)


@pytest.mark.parametrize("name", ["", "a b", "x.y", "-lead", "ü", "n" * 41])
def test_bad_names(name: str) -> None:
    with pytest.raises(ServerConfigError, match="the name"):
        parse_server(name, {"command": "x"})


def test_a_bad_table_is_one_warning_and_the_rest_is_kept() -> None:
    lines: list[str] = []
    config = {"mcp_servers": {"ok": {"command": "a"}, "bad": {"command": 1},
                              "web": {"url": "https://h/mcp", "headers": {"X": "y"}}}}
    servers = server_configs(config, lines.append, {"ok": "project"})
    assert [(s.name, s.transport, s.scope) for s in servers] == [
        ("ok", "stdio", "project"), ("web", "http", None)]
    assert lines == ["mcp server 'bad' in config is skipped: command must be a non-empty string"]
    lines.clear()
    assert server_configs({"mcp_servers": ["x"]}, lines.append) == [] and len(lines) == 1


def test_a_secret_repeated_in_the_command_line_is_masked_too() -> None:
    server = parse_server("s", {"command": "srv", "args": ["--key", "abcd-1234"],
                                "env": {"KEY": "abcd-1234"}})
    assert server.describe() == "srv --key ***"
    assert server.masked()["args"] == ["--key", "***"]


def test_url_credentials_and_query_are_masked() -> None:
    assert mask_url("https://user:pw@host:8443/mcp?key=abc#f") == "https://***@host:8443/mcp?***"
    assert mask_url("http://localhost:3000/mcp") == "http://localhost:3000/mcp"
    server = parse_server("w", {"url": "https://u:password1@h/mcp?token=abcdef"})
    assert set(server.secrets()) == {"password1", "token=abcdef"}


# a marker prefix, so a secret cannot be a legitimate part of what is shown ("True", "srv")
secret_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).map(
    lambda s: "SeCrEt" + s)
keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)


@given(env=st.dictionaries(keys, secret_text, max_size=4),
       headers=st.dictionaries(keys, secret_text, max_size=4), http=st.booleans())
def test_nothing_shown_holds_a_secret(env: dict[str, str], headers: dict[str, str],
                                      http: bool) -> None:
    table: dict[str, Any] = ({"url": "https://example.com/mcp", "headers": headers} if http
                             else {"command": "srv", "args": ["--port", "1"], "env": env})
    server = parse_server("s", table)
    shown = repr(server.masked()) + server.describe()
    for secret in (headers if http else env).values():
        assert secret not in shown
        assert secret not in server.redact(f"error: {secret} was refused")
    assert all(v == MASK for v in server.masked().get("env", {}).values())
    assert all(v == MASK for v in server.masked().get("headers", {}).values())


@given(server=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", fullmatch=True),
       tool=st.text(min_size=1, max_size=200))
def test_tool_names_are_safe_for_every_provider(server: str, tool: str) -> None:
    name = tool_name(server, tool)
    assert len(name) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    assert name.startswith("mcp__")
    if len(f"mcp__{server}__{tool}") <= 64 and tool.isascii() and tool.isidentifier():
        assert name == f"mcp__{server}__{tool}"


def test_long_names_stay_distinct() -> None:
    a, b = tool_name("srv", "x" * 80 + "a"), tool_name("srv", "x" * 80 + "b")
    assert a != b and len(a) == len(b) == 64


@pytest.mark.parametrize(("schema", "problem"), [
    ({"type": "object", "properties": {"x": {"type": "string"}}}, None),
    ({"type": "object"}, None),
    ([], "not a JSON object"),
    ({"type": "string"}, 'root "type" is not "object"'),
    ({"properties": {}}, 'root "type" is not "object"'),
    ({"type": "object", "properties": {"x": {"type": "nope"}}}, "invalid"),
    ({"type": "object", "required": "x"}, "invalid"),
])
def test_schema_problems(schema: Any, problem: str | None) -> None:
    found = schema_problem(schema)
    assert (found is None) if problem is None else (found is not None and problem in found)
