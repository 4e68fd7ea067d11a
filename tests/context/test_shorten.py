"""Head-and-tail cutting: the note says what was cut and the way back really gets it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from joiner.context.estimate import estimate_text
from joiner.context.shorten import MARK, head_and_tail, how_to_get_back, shortened_result
from joiner.core.messages import Message, ToolCall
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace

WAY_BACK = re.compile(r'read_file\(path=("[^"]*"), offset=(\d+), limit=(\d+)\)')


async def test_the_read_file_way_back_returns_exactly_the_cut_lines(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("".join(f"x_{i} = {i} * 2  # {i}\n" for i in range(900)))
    read = {t.spec.name: t for t in builtin_tools(Workspace(tmp_path))}["read_file"]
    whole = (await read.run({"path": "big.py"})).text
    call = ToolCall("c1", "read_file", json.dumps({"path": "big.py"}))
    cut = shortened_result(Message.tool_result(call, whole), 300, "testing", call)
    assert estimate_text(cut.text) < 400 < estimate_text(whole)
    head, note, tail = re.split(r"\n(\[joiner: [^\n]*\])\n", cut.text)
    assert note.startswith(MARK + "testing: ") and note.count(MARK) == 1
    path, offset, limit = WAY_BACK.search(note).groups()  # type: ignore[union-attr]
    again = (await read.run({"path": json.loads(path), "offset": int(offset),
                             "limit": int(limit)})).text
    assert f"{int(limit)} lines" in note
    again = again.partition("… ")[0]  # read_file's own "N more lines: read on" note
    assert head + "\n" + again + tail == whole


@given(st.lists(st.text(alphabet="abc xyz_()0123\t", max_size=60), min_size=1, max_size=300),
       st.integers(min_value=40, max_value=600))
def test_a_cut_keeps_a_head_and_a_tail_of_the_original(lines: list[str], keep: int) -> None:
    text = "\n".join(lines)
    cut = head_and_tail(text, keep, "why", None)
    if cut is text:
        assert estimate_text(text) <= keep or MARK not in cut
        return
    head, _, rest = cut.partition("\n" + MARK)
    tail = rest.partition("]\n")[2]
    assert text.startswith(head) and text.endswith(tail)
    assert len(head) + len(tail) < len(text)
    assert estimate_text(cut) <= keep + estimate_text(rest.partition("]\n")[0]) + 60


def test_the_way_back_depends_on_the_tool() -> None:
    grep = ToolCall("c", "grep", '{"pattern": "x"}')
    shell = ToolCall("c", "run_shell", '{"command": "make"}')
    mcp = ToolCall("c", "mcp__time__now", "{}")
    assert "Run grep again" in how_to_get_back(grep, "")
    assert "not kept" in how_to_get_back(shell, "")
    assert "mcp__time__now again" in how_to_get_back(mcp, "")
    assert "again" in how_to_get_back(None, "")


def test_a_short_result_is_left_alone() -> None:
    message = Message("tool", "short", tool_call_id="c", name="grep")
    assert shortened_result(message, 100, "why", None) is message
