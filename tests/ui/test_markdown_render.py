"""How answer pieces become lines: drafts, Markdown drawn in pieces, packed lines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from joiner.ui.markdown_render import AnswerMarkdown, draft, estimate_height, lines, markdown
from joiner.ui.packed_lines import pack, unpack
from joiner.ui.segments import Segmenter

CONSOLE = Console(width=70, color_system="truecolor", force_terminal=True)
OPTIONS = CONSOLE.options.update_width(70)
# not a rule (---): Rich follows one with two blank lines in a whole answer, one between pieces
BLOCKS = st.sampled_from([
    "A paragraph of words that goes on for a while and wraps around the edge of the view.\n\n",
    "## A heading\n\n", "- item one\n- item two\n\n", "1. first\n2. second\n\n",
    "```python\ndef f(x):\n    return x\n```\n\n", "> a quote that says something\n\n",
    "Short line with `code` and **bold**.\n\n", "    indented code\n\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n", "- loose item\n\n- another\n\n  its second line\n\n"])


def texts(source: str, trim_top: bool = False) -> list[str]:
    return ["".join(text for text, _ in line)
            for line in lines(CONSOLE, OPTIONS, markdown(source, True), Style(), trim_top)]


@settings(max_examples=60, deadline=None)
@given(st.lists(BLOCKS, min_size=1, max_size=10), st.sampled_from([1, 40, 200]))
def test_an_answer_drawn_in_pieces_looks_as_drawn_whole(blocks: list[str], soft: int) -> None:
    source = "".join(blocks)
    segmenter = Segmenter(soft=soft)
    segmenter.feed(source)
    pieces = segmenter.closed + ([segmenter.current] if segmenter.current else [])
    joined: list[str] = []
    for index, piece in enumerate(pieces):
        if index:
            joined.append("")  # the blank line the widget puts between pieces
        joined += texts(piece, trim_top=index > 0)
    assert joined == texts(source)


def test_answer_markdown_shares_a_parser_and_draws_as_rich_does() -> None:
    source = "## A\n\nSome *words*, ~~struck~~, `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    ours, rich = markdown(source, True), Markdown(source, hyperlinks=False)
    assert set(vars(rich)) <= set(vars(ours))  # a new Rich attribute would be missing here
    assert markdown("x", True).parsed is not ours.parsed
    plain = AnswerMarkdown(source, code_theme="monokai", inline_code_lexer=None)
    assert [t.type for t in plain.parsed] == [t.type for t in rich.parsed]
    assert CONSOLE.render_lines(plain, OPTIONS) == CONSOLE.render_lines(rich, OPTIONS)


def test_drafts_wrap_plain_text_at_spaces_and_keep_every_word() -> None:
    source = "hello world this is a long line of text\n\n  indented  two\n" + "x" * 30
    narrow = CONSOLE.options.update_width(20)
    drawn = ["".join(text for text, _ in line)
             for line in draft(CONSOLE, narrow, source, Style())]
    assert drawn == ["hello world this is", "a long line of text", "", "  indented  two",
                     "x" * 20, "x" * 10]
    assert all(len(line) <= 20 for line in drawn)


def test_drafts_of_wide_or_control_characters_go_through_rich() -> None:
    narrow = CONSOLE.options.update_width(6)
    drawn = draft(CONSOLE, narrow, "日本語のテキスト\tx", Style())
    rich = list(lines(CONSOLE, narrow, Text("日本語のテキスト\tx"), Style()))
    assert drawn == rich


def test_packed_lines_unpack_to_the_same_segments() -> None:
    segments = [Segment("a", Style(bold=True)), Segment("b"), Segment("c", Style(color="red"))]
    packed = pack(segments)
    assert unpack(packed) == segments
    assert all(isinstance(number, int) for _, number in packed)  # no Style object inside


def test_code_blocks_are_highlighted_and_inline_code_styled() -> None:
    drawn = list(lines(CONSOLE, OPTIONS, markdown("Use `x`.\n\n```python\nx = 1\n```\n", True),
                       Style()))
    code_styles = {number for line in drawn for text, number in line if text == "x"}
    assert code_styles  # found, and styled (a style number for a colour, not the default)
    plain = pack([Segment("x")])[0][1]
    assert plain not in code_styles


def test_the_height_estimate_is_close_for_prose() -> None:
    source = "word " * 200
    real = len(list(lines(CONSOLE, OPTIONS, markdown(source, True), Style())))
    assert abs(estimate_height(source, 70) - real) <= 2
