from __future__ import annotations

import difflib
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joiner.tools.diffs import diff_changes, make_diff, split_lines
from joiner.tools.edits import find_all, replace_at

HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def ref_lines(text: str) -> list[str]:
    """Lines ended by \n only, written independently of the module under test."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def apply_diff(before: str, diff: str) -> str:
    """A strict unified-diff applier (checks every context and removed line and the ranges)."""
    if not diff:
        return before
    old = ref_lines(before)
    lines = diff.split("\n")[2:]  # the --- and +++ headers
    out: list[str] = []
    at = 0
    i = 0
    while i < len(lines) and lines[i]:
        m = HUNK.fullmatch(lines[i])
        assert m, lines[i]
        o_start, o_len = int(m[1]), int(m[2] or 1)
        n_len = int(m[4] or 1)
        start = o_start - 1 if o_len else o_start
        out += old[at:start]
        at = start
        i += 1
        seen_old = seen_new = 0
        while i < len(lines) and lines[i] and lines[i][0] in " -+\\":
            tag, text = lines[i][0], lines[i][1:] + "\n"
            if i + 1 < len(lines) and lines[i + 1].startswith("\\ No newline"):
                text = text[:-1]
                i += 1
            if tag in " -":
                assert old[at] == text, (old[at], text)
                at += 1
                seen_old += 1
            if tag in " +":
                out.append(text)
                seen_new += 1
            i += 1
        assert (seen_old, seen_new) == (o_len, n_len)
    out += old[at:]
    return "".join(out)


texts = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "a", "b", "x\r\n", "é\n", "y\r",
                                  "\x0c\n", "\u2028"]),
                 max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(before=texts, after=texts)
def test_make_diff_applies_back(before: str, after: str) -> None:
    diff = make_diff("f.txt", before, after)
    assert apply_diff(before, diff) == after
    assert (diff == "") == (before == after)


@settings(max_examples=300, deadline=None)
@given(text=texts, old=st.sampled_from(["a", "a\n", "\n", "b\nc", "\na", "c\n\n"]),
       new=st.sampled_from(["", "z", "z\n", "\n", "q\nr\n", "a"]))
def test_edit_regions_match_str_replace_and_their_diff_applies(text: str, old: str,
                                                               new: str) -> None:
    starts = find_all(text, old)
    replaced = replace_at(text, starts, old, new)
    assert replaced.after == text.replace(old, new)
    diff = diff_changes("f.txt", split_lines(text), replaced.changes)
    assert apply_diff(text, diff) == replaced.after


@given(text=texts)
def test_split_lines_splits_at_newlines_only(text: str) -> None:
    assert split_lines(text) == ref_lines(text)


def test_new_and_deleted_files() -> None:
    assert make_diff("n.txt", None, "a\nb") == (
        "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n")
    assert make_diff("n.txt", "a\n", None) == "--- a/n.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"


def test_same_as_difflib_for_an_ordinary_change() -> None:
    before = "".join(f"line {i}\n" for i in range(40))
    after = before.replace("line 5\n", "line five\n").replace("line 30\n", "")
    ours = make_diff("f", before, after)
    theirs = "".join(difflib.unified_diff(split_lines(before), split_lines(after), "a/f", "b/f"))
    assert ours == theirs.replace("--- a/f\n+++ b/f\n", "--- a/f\n+++ b/f\n", 1)


def test_large_files_fall_back_to_a_linear_diff_that_is_still_correct() -> None:
    before = "".join(f"{i}\n" for i in range(30_000))
    after = "".join(f"{i * 7 % 30_001}\n" for i in range(30_000))  # nearly every line differs
    diff = make_diff("big.txt", before, after)
    assert apply_diff(before, diff) == after
    small_change = before.replace("15000\n", "fifteen thousand\n")
    diff = make_diff("big.txt", before, small_change)
    assert diff.count("\n") == 2 + 1 + 6 + 2  # headers, hunk header, context, -/+


@pytest.mark.parametrize("before,after", [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb", "a\nb\n"),
    ("", "new\n"),
    ("x\n" * 20, "x\n" * 9 + "y\n" + "x\n" * 10 + "tail"),
])
def test_git_apply_accepts_our_diffs(tmp_path: Path, before: str, after: str) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text(before)
    patch = tmp_path / "p.diff"
    patch.write_text(make_diff("f.txt", before if before else None, after))
    if not before:
        (tmp_path / "f.txt").unlink()
    subprocess.run(["git", "apply", str(patch)], cwd=tmp_path, check=True)
    assert (tmp_path / "f.txt").read_text() == after
