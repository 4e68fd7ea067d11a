"""The text form of ``joiner usage`` fits the terminal: no model name, day or number wraps."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from joiner.cost.usage_view import print_usage, rounded

SONNET = "anthropic/claude-sonnet-4-5"
NUMBER_CELL = re.compile(r"^(\d[\d,]*(\.\d+)?[kMB]?|\$[\d,]+\.\d+|unknown)$")


def entry(requests: int = 1234, tokens: int = 12_345_678, cost: float | None = 1234.57,
          **keys: Any) -> dict[str, Any]:
    return {**keys, "requests": requests, "input_tokens": tokens, "output_tokens": tokens // 10,
            "cache_read_tokens": tokens * 8, "cache_write_tokens": tokens // 3, "cost_usd": cost}


def report(models: list[str], tokens: int = 12_345_678, title: str = "Fix the failing test"
           ) -> dict[str, Any]:
    return {"total": entry(tokens=tokens * len(models)),
            "by_model": [entry(tokens=tokens, model=m) for m in models],
            "by_day": [entry(tokens=tokens, day="2026-11-01")],
            "by_session": [entry(tokens=tokens, session_id="4fa3c33b898c4da3b1fb4364",
                                 title=title, workspace="/w")]}


def render(data: dict[str, Any], width: int) -> list[str]:
    console = Console(record=True, width=width)
    print_usage(data, None, 20, console)
    return console.export_text().splitlines()


def rows(lines: list[str]) -> list[list[str]]:
    """The cells of the tables' body and footer lines (between │ borders)."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines
            if line.startswith("│")]


def test_at_80_columns_a_long_model_name_stays_on_one_line() -> None:
    lines = render(report([SONNET, "openai/gpt-4o-mini-2024-07-18"]), 80)
    assert max(len(line) for line in lines) <= 80
    cells = rows(lines)
    assert [SONNET, "12.3M", "1.23M", "98.8M", "4.12M", "$1,234.57"] in cells
    assert all(row[0] for row in cells)  # no continuation line: nothing wrapped
    assert "Not shown at this width: requests (a wider terminal or --json has them)." in lines
    assert any(row[0].startswith("4fa3c33b Fix the failing") for row in cells)


def test_a_wide_terminal_shows_every_column_with_exact_numbers() -> None:
    lines = render(report([SONNET]), 140)
    assert [SONNET, "1,234", "12,345,678", "1,234,567", "98,765,424", "4,115,226",
            "$1,234.57"] in rows(lines)
    assert not any("Not shown" in line for line in lines)


def test_rounded_counts() -> None:
    assert [rounded(n) for n in (0, 9_999, 10_000, 12_345, 99_960, 999_600, 1_234_567,
                                 123_456_789, 987_654_321, 2_500_000_000)] == [
        "0", "9,999", "10.0k", "12.3k", "100k", "1.00M", "1.23M", "123M", "988M", "2.50B"]


@settings(max_examples=60, deadline=None)
@given(width=st.integers(50, 200),
       models=st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789-./", min_size=1,
                               max_size=40), min_size=1, max_size=4, unique=True),
       tokens=st.integers(0, 5 * 10**10),
       title=st.text("abc def", max_size=40))
def test_every_table_fits_without_wrapping_or_cutting_a_number(
        width: int, models: list[str], tokens: int, title: str) -> None:
    lines = render(report(models, tokens, title), width)
    table_lines = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert all(len(line) <= width for line in table_lines)
    cells = rows(lines)
    assert all(row[0] for row in cells)  # one line per row
    for row in cells:
        assert all(NUMBER_CELL.match(cell) for cell in row[1:]), row
    shown = {row[0] for row in cells}
    for model in models:  # whole, or cut with an ellipsis only when it cannot fit
        assert model in shown or len(model) + 60 > width
