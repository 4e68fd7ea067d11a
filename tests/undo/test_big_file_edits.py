"""edit_file on a large file: read once, written once, never split whole, recorded exactly.

The diff's context comes from the line starts around each replaced region (``TextLines``);
the change's before/after are the very bytes read and written; the store keeps each content
once (the before of a later edit is the after of the earlier one).
"""

from __future__ import annotations

import asyncio
import builtins
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undo_kit import Bench, call, steps

import joiner.tools.diffs as diffs
import joiner.tools.edits as edits
import joiner.tools.fileio as fileio
from joiner.tools import builtin_tools
from joiner.tools.diffs import TextLines, diff_changes, split_lines
from joiner.tools.edits import find_all, line_numbers, replace_at
from joiner.workspace.guard import Workspace
from joiner.workspace.undo import apply_undo

texts = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "a", "x\r\n", "é\n", "y\r",
                                  "\x0c\n", "\u2028", "a b\n"]), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_text_lines_are_split_lines_from_any_known_starts(text: str, data: st.DataObject) -> None:
    lines = split_lines(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    known = data.draw(st.lists(st.integers(0, len(lines)), max_size=4))
    view = TextLines(text, {i: offsets[i] for i in known})
    a = data.draw(st.integers(0, len(lines) + 2))
    b = data.draw(st.integers(a, len(lines) + 4))
    assert view[a:b] == lines[a:b]


@settings(max_examples=400, deadline=None)
@given(text=texts, old=st.sampled_from(["a", "a\n", "\n", "b\nc", "\na", "c\n\n", "a b"]),
       new=st.sampled_from(["", "z", "z\n", "\n", "q\nr\n", "a"]))
def test_the_diff_from_line_starts_is_the_diff_from_all_lines(text: str, old: str,
                                                              new: str) -> None:
    starts = find_all(text, old)
    replaced = replace_at(text, starts, old, new)
    assert replaced.after == text.replace(old, new)
    assert replaced.lines == line_numbers(text, starts)
    assert diff_changes("f", TextLines(text, replaced.starts), replaced.changes) == \
        diff_changes("f", split_lines(text), replaced.changes)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.py"
    path.write_text("".join(f"value_{i} = compute({i})  # line {i}\n" for i in range(50_000)))
    path.chmod(0o751)
    return path


def test_a_large_file_is_read_once_written_once_and_never_split_whole(
        big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit = {t.spec.name: t for t in builtin_tools(Workspace(big.parent))}["edit_file"]
    split_sizes: list[int] = []
    opened: list[str] = []

    def split(text: str) -> list[str]:
        split_sizes.append(len(text))
        return split_lines(text)

    def counted_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return builtins.open(file, *args, **kwargs)

    for module in (diffs, edits):
        monkeypatch.setattr(module, "split_lines", split)
    monkeypatch.setattr(fileio, "open", counted_open, raising=False)
    arguments = {"path": "big.py", "old_string": "= compute(30000)",
                 "new_string": "= recompute(30000)"}
    preview = asyncio.run(edit.preview(arguments))
    assert opened == [str(big)]
    out = asyncio.run(edit.run(arguments))
    assert opened == [str(big)] * 2  # once for the preview, once for the edit
    assert max(split_sizes) < 200  # only the replaced line, never the 2 MB file
    assert out.meta["diff"] == preview
    assert "at line 30001" in out.text
    assert preview.splitlines()[2:] == [
        "@@ -29998,7 +29998,7 @@", *[f" value_{i} = compute({i})  # line {i}" for i in
                                     range(29997, 30000)],
        "-value_30000 = compute(30000)  # line 30000",
        "+value_30000 = recompute(30000)  # line 30000",
        *[f" value_{i} = compute({i})  # line {i}" for i in range(30001, 30004)]]
    (change,) = out.meta["changes"]
    assert change["before"]["mode"] == change["after"]["mode"] == 0o751
    assert change["after"]["text"] == big.read_text()


def test_bytes_that_are_not_utf8_are_recorded_and_restored_exactly(bench: Bench,
                                                                    ws: Path) -> None:
    original = b"caf\xe9 = 1\nvalue = 2\n"  # latin-1: not UTF-8
    (ws / "latin.py").write_bytes(original)
    bench.run("edit", steps(call("edit_file", path="latin.py", old_string="value = 2",
                                 new_string="value = 3")))
    record = bench.store.events(bench.session, types=["tool_result"])[-1].data["changes"][0]
    assert "base64" in record["before"] and "text" in record["after"]
    assert (ws / "latin.py").read_bytes() == "caf\ufffd = 1\nvalue = 3\n".encode()
    apply_undo(bench.store, bench.session)
    assert (ws / "latin.py").read_bytes() == original


def test_the_store_keeps_each_content_once(bench: Bench, ws: Path) -> None:
    (ws / "big.txt").write_text("".join(f"line {i}\n" for i in range(5_000)))
    count, _size = bench.store.blob_stats()
    bench.run("one", steps(call("edit_file", path="big.txt", old_string="line 10\n",
                                new_string="line ten\n")))
    after_first, _ = bench.store.blob_stats()
    bench.run("two", steps(call("edit_file", path="big.txt", old_string="line 20\n",
                                new_string="line twenty\n")))
    after_second, _ = bench.store.blob_stats()
    assert after_first - count == 2  # the file before, the file after
    assert after_second - after_first == 1  # its before is the first edit's after
