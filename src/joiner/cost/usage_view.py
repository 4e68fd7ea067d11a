"""The text form of ``joiner usage``: Rich tables of the report from ``report.usage_report``.

The tables fit the terminal without wrapping a cell: a model name, a day or a number is never
broken over lines. When the full table is too wide, it gives way step by step (``LAYOUTS``):
token counts rounded (``12.3M``) under two-line headers, then the columns that matter least
left out (requests, then cache writes, then cache reads; a note says which, and ``--json`` has
them all), and last the key column cut with an ellipsis (a session's title first: its id is
kept). All three tables take the same layout, so their columns line up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from joiner.cost.meter import money

COLUMNS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens",
           "cache_write_tokens", "cost_usd")
HEADERS = {"requests": "requests", "input_tokens": "input", "output_tokens": "output",
           "cache_read_tokens": "cache read", "cache_write_tokens": "cache write",
           "cost_usd": "cost"}
SPLIT_HEADERS = {**HEADERS, "cache_read_tokens": "cache\nread",
                 "cache_write_tokens": "cache\nwrite"}
CELL_EXTRA = 3  # a column's padding (1 each side) and its right border
TABLE_EXTRA = 1  # the table's left border
SESSION_KEY_MIN = 24  # the session id (8) and the start of its title: cut no shorter


@dataclass(frozen=True, slots=True)
class Layout:
    rounded: bool  # token counts as 12.3M, under two-line headers
    dropped: tuple[str, ...] = ()  # columns left out, least useful first

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in COLUMNS if c not in self.dropped)

    @property
    def headers(self) -> dict[str, str]:
        return SPLIT_HEADERS if self.rounded else HEADERS


LAYOUTS = (Layout(False), Layout(True), Layout(True, ("requests",)),
           Layout(True, ("requests", "cache_write_tokens")),
           Layout(True, ("requests", "cache_write_tokens", "cache_read_tokens")))


def _cost(value: float | None) -> str:
    return "unknown" if value is None else money(Decimal(repr(value)))


def rounded(count: int) -> str:
    """Three significant digits with k, M or B from 10,000 on: ``9,999``, ``12.3k``, ``1.23M``."""
    if abs(count) < 10_000:
        return f"{count:,}"
    for unit, size in (("k", 10**3), ("M", 10**6), ("B", 10**9)):
        value = count / size
        if abs(value) < 999.5 or unit == "B":
            digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
            return f"{value:.{digits}f}{unit}"
    raise AssertionError("not reached")


def _cell(name: str, entry: dict[str, Any], layout: Layout) -> str:
    if name == "cost_usd":
        return _cost(entry[name])
    return rounded(entry[name]) if layout.rounded else f"{entry[name]:,}"


@dataclass(slots=True)
class _Part:
    """One table's content, laid out later."""

    title: str
    key_header: str
    rows: list[tuple[str, dict[str, Any]]]
    total: dict[str, Any] | None = None
    key_min: int | None = None  # the key may be cut down to this width (None: never cut)

    def keys(self) -> list[str]:
        return [self.key_header, *(key for key, _ in self.rows),
                *(["total"] if self.total else [])]

    def number_width(self, layout: Layout) -> int:
        width = TABLE_EXTRA
        entries = [entry for _, entry in self.rows] + ([self.total] if self.total else [])
        for name in layout.columns:
            header = max(cell_len(line) for line in layout.headers[name].split("\n"))
            width += max([header, *(cell_len(_cell(name, e, layout)) for e in entries)])
            width += CELL_EXTRA
        return width

    def key_width(self) -> int:
        return max(cell_len(key) for key in self.keys())

    def needed(self, layout: Layout) -> int:
        """The width without cutting the key (past ``key_min``) or wrapping anything."""
        key = self.key_width() if self.key_min is None else min(self.key_width(), self.key_min)
        return self.number_width(layout) + key + CELL_EXTRA

    def table(self, layout: Layout, width: int) -> Table:
        table = Table(title=self.title, title_justify="left", show_footer=self.total is not None)
        key_room = max(width - self.number_width(layout) - CELL_EXTRA, 1)
        table.add_column(self.key_header, footer="total" if self.total else "", no_wrap=True,
                         overflow="ellipsis", max_width=key_room)
        for name in layout.columns:
            footer = "" if self.total is None else _cell(name, self.total, layout)
            table.add_column(layout.headers[name], justify="right", footer=footer, no_wrap=True)
        for key, entry in self.rows:
            table.add_row(key, *(_cell(name, entry, layout) for name in layout.columns))
        return table


def choose_layout(parts: Sequence[_Part], width: int) -> Layout:
    """The first layout in which every table fits ``width``; else the narrowest."""
    for layout in LAYOUTS:
        if all(part.needed(layout) <= width for part in parts):
            return layout
    return LAYOUTS[-1]


def print_usage(report: dict[str, Any], since: str | None, sessions_shown: int,
                console: Console | None = None) -> None:
    console = console or Console()
    total = report["total"]
    scope = f" since {since}" if since else ""
    if not total["requests"]:
        console.print(f"No model requests recorded{scope}.")
        return
    console.print(f"[bold]{total['requests']:,}[/] requests{scope}, "
                  f"cost [bold]{_cost(total['cost_usd'])}[/]")
    sessions = report["by_session"]
    shown = [(f"{e['session_id'][:8]} {e['title'][:40]}".rstrip(), e)
             for e in sessions[:sessions_shown]]
    more = len(sessions) - len(shown)
    parts = [
        _Part("By model", "model", [(e["model"] or "?", e) for e in report["by_model"]], total),
        _Part("By day", "day", [(e["day"], e) for e in report["by_day"]]),
        _Part("By session (most recent first)" + (f"; {more} more with --json" if more else ""),
              "session", shown, key_min=SESSION_KEY_MIN),
    ]
    layout = choose_layout(parts, console.width)
    for part in parts:
        console.print(part.table(layout, console.width))
    if layout.dropped:
        left_out = ", ".join(HEADERS[name] for name in layout.dropped)
        console.print(f"Not shown at this width: {left_out} (a wider terminal or --json has "
                      "them).", style="dim")
    unknown = [e["model"] for e in report["by_model"] if e["cost_usd"] is None]
    if unknown:
        console.print(f"No price known for {', '.join(unknown)}: set one with "
                      '[pricing."PROVIDER/MODEL"] in config.toml.', markup=False)
