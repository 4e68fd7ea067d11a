"""Random argument dicts against every tool: a result, a ValidationError or a ToolError, never
another exception (issue #9, part 7). Paths and strings are drawn so that some calls are valid
and reach the tools' real work, inside a workspace with a symlink pointing out of it."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tool_support import make_tools

from joiner.core import Tool, ToolError, ToolOutput

PATHS = st.one_of(
    st.sampled_from(["a.txt", "a.txt", "src/b.py", "src", "."]),
    st.sampled_from(["..", "../x", "/etc/passwd", "out/s.txt", "out", "new/dir/f.txt", "bin.dat",
                     "", "src/../a.txt", "~", "a.txt/x"]),
    st.text(max_size=20),
)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                         st.integers(), max_size=2))
SAFE_COMMANDS = st.text(max_size=20).map(lambda text: "echo " + shlex.quote(text))


def values_for(name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    typed: st.SearchStrategy[Any]
    if name == "path":
        typed = PATHS
    elif name == "command":
        typed = SAFE_COMMANDS
    elif name == "timeout":
        typed = st.floats(0.01, 2)
    elif kind == "integer":
        typed = st.one_of(st.integers(0, 4), st.integers(-3, 3000))
    elif kind == "boolean":
        typed = st.booleans()
    elif name in ("old_string", "pattern"):
        typed = st.one_of(st.sampled_from(["line one", "line", "\n", "(", "[", "x*", ".", "x = 1"]),
                          st.text(max_size=8))
    else:
        typed = st.text(max_size=40)
    return typed


@st.composite
def arguments(draw: st.DrawFn, tool: Tool) -> dict[str, Any]:
    """Mostly well-formed: required arguments usually there, values usually of the right type,
    now and then an unknown argument."""
    parameters = tool.spec.parameters
    required = set(parameters.get("required", ()))
    args = {}
    for name, schema in parameters["properties"].items():
        if draw(st.integers(0, 19)) < (19 if name in required else 10):
            wild = draw(st.integers(0, 19)) == 0
            args[name] = draw(VALUES if wild else values_for(name, schema))
    if draw(st.integers(0, 19)) == 0:
        args[draw(st.text(max_size=6))] = draw(VALUES)
    return args


def make_workspace(base: Path) -> Path:
    root = base / "root"
    outside = base / "outside"
    (root / "src").mkdir(parents=True)
    outside.mkdir()
    (outside / "s.txt").write_text("secret\n")
    (root / "out").symlink_to(outside)
    (root / "a.txt").write_text("line one\nline two\nline two\n")
    (root / "src" / "b.py").write_text("x = 1\n")
    (root / "bin.dat").write_bytes(b"\x00\x01line")
    return root


@pytest.mark.parametrize("name", ["read_file", "write_file", "edit_file", "list_files", "grep",
                                  "run_shell"])
def test_random_arguments_never_crash_a_tool(name: str, tmp_path: Path) -> None:
    root = make_workspace(tmp_path)
    tool = make_tools(root)[name]
    outside = (tmp_path / "outside").resolve()

    @settings(max_examples=60 if name == "run_shell" else 150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(args=arguments(tool))
    def check(args: dict[str, Any]) -> None:
        try:
            result = asyncio.run(tool.run(args))
        except (ValidationError, ToolError):
            return
        assert isinstance(result, ToolOutput) and isinstance(result.text, str)
        try:
            preview = asyncio.run(tool.preview(args))
        except (ValidationError, ToolError):
            preview = None
        assert preview is None or isinstance(preview, str)
        assert sorted(p.name for p in outside.iterdir()) == ["s.txt"]
        assert (outside / "s.txt").read_text() == "secret\n"

    check()


LINES = st.lists(st.sampled_from(["a\n", "b\n", "ab\n", "\n", "a", "b b", "c\r\n", "é\n"]),
                 min_size=1, max_size=20).map("".join)


def test_random_edits_behave_like_str_replace(tmp_path: Path) -> None:
    """edit_file with a random piece of a random file: the file becomes ``str.replace``'s result
    (or is untouched with a ToolError for several matches), and the diff in ``meta`` applies."""
    from test_diffs import apply_diff

    tool = make_tools(tmp_path)["edit_file"]
    target = tmp_path / "f.txt"

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=LINES, data=st.data(), new=LINES | st.just(""), replace_all=st.booleans())
    def check(text: str, data: st.DataObject, new: str, replace_all: bool) -> None:
        start = data.draw(st.integers(0, len(text) - 1))
        old = text[start:data.draw(st.integers(start + 1, len(text)))]
        target.write_bytes(text.encode())
        args = {"path": "f.txt", "old_string": old, "new_string": new,
                "replace_all": replace_all}
        count = text.count(old)
        try:
            out = asyncio.run(tool.run(args))
        except ToolError as err:
            assert target.read_bytes() == text.encode()
            assert old == new or (count > 1 and not replace_all), err
            return
        after = target.read_bytes().decode()
        assert after == text.replace(old, new)
        assert apply_diff(text, out.meta["diff"]) == after

    check()
