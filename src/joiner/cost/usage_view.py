"""The text form of ``joiner usage``: Rich tables of the report from ``report.usage_report``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from joiner.cost.meter import money

COLUMNS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens",
           "cache_write_tokens", "cost_usd")
HEADERS = ("requests", "input", "output", "cache read", "cache write", "cost")


def _cost(value: float | None) -> str:
    return "unknown" if value is None else money(Decimal(repr(value)))


def _table(title: str, key_header: str, rows: list[tuple[str, dict[str, Any]]],
           total: dict[str, Any] | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_footer=total is not None)
    table.add_column(key_header, footer="total" if total else "", overflow="fold")
    for name, header in zip(COLUMNS, HEADERS, strict=True):
        footer = "" if total is None else (
            _cost(total[name]) if name == "cost_usd" else f"{total[name]:,}")
        table.add_column(header, justify="right", footer=footer)
    for key, entry in rows:
        table.add_row(key, *(f"{entry[n]:,}" for n in COLUMNS[:-1]), _cost(entry["cost_usd"]))
    return table


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
    console.print(_table("By model", "model",
                         [(e["model"] or "?", e) for e in report["by_model"]], total))
    console.print(_table("By day", "day", [(e["day"], e) for e in report["by_day"]]))
    sessions = report["by_session"]
    shown = [(f"{e['session_id'][:8]} {e['title'][:40]}".rstrip(), e)
             for e in sessions[:sessions_shown]]
    more = len(sessions) - len(shown)
    title = "By session (most recent first)" + (f"; {more} more with --json" if more else "")
    console.print(_table(title, "session", shown))
    unknown = [e["model"] for e in report["by_model"] if e["cost_usd"] is None]
    if unknown:
        console.print(f"No price known for {', '.join(unknown)}: set one with "
                      '[pricing."PROVIDER/MODEL"] in config.toml.', markup=False)
