"""The segmenter: a streamed answer cut into stable pieces, fences kept whole or re-opened."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from joiner.ui.segments import Segmenter

PIECES = st.sampled_from(["word ", "more words ", "\n", "\n\n", "```python\n", "```\n",
                          "x = 1\n", "- item\n", "# Title\n", "~~~\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=300), st.integers(1, 50))
def test_any_stream_is_shown_exactly_whatever_the_chunking(pieces: list[str], cut: int) -> None:
    text = "".join(pieces)
    segmenter = Segmenter(soft=40, hard=10_000)  # no forced fence cuts: the text is unchanged
    for i in range(0, len(text), cut):
        segmenter.feed(text[i : i + cut])
    assert "".join(segmenter.closed) + segmenter.current == text


def test_segments_close_at_blank_lines_outside_fences() -> None:
    segmenter = Segmenter(soft=10, hard=10_000)
    segmenter.feed("first paragraph\n\n```\ncode\n\nmore code\n```\n\nnext\n")
    assert segmenter.closed == ["first paragraph\n\n", "```\ncode\n\nmore code\n```\n\n"]
    assert segmenter.current == "next\n"


def test_a_huge_code_block_is_cut_with_its_fence_reopened() -> None:
    segmenter = Segmenter(soft=10, hard=30)
    segmenter.feed("```python\n" + "".join(f"x{i} = {i}\n" for i in range(10)) + "```\n")
    assert len(segmenter.closed) >= 2
    for piece in segmenter.closed:
        assert piece.startswith("```python\n") and piece.endswith("```\n")


def test_no_cut_before_a_line_that_may_continue_the_block_above() -> None:
    segmenter = Segmenter(soft=5, hard=10_000)
    segmenter.feed("1. first item\n\n   more of the first\n\n2. second\n\n    indented code\n\n"
                   "Next paragraph.\n")
    assert segmenter.closed == ["1. first item\n\n   more of the first\n\n2. second\n\n"
                                "    indented code\n\n"]
    assert segmenter.current == "Next paragraph.\n"
