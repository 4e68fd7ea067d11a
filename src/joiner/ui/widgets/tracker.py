"""The token tracker: the session's tokens, cost, budget bar and context use, always visible.

It reads the ``usage`` events of the cost meter (running totals after every request)
and shows them on one line; the budget bar turns to a warning at 80% of the budget.
Words and the ``!`` mark carry the warning too, so it is seen without colour (NO_COLOR).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

WARN_AT = 80.0
BAR_CELLS = 10


def tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def money(cost: float | None) -> str:
    if cost is None:
        return "$?"
    if cost == 0:
        return "$0"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


def bar(pct: float, cells: int = BAR_CELLS) -> str:
    filled = max(0, min(cells, round(pct / 100 * cells)))
    return "█" * filled + "░" * (cells - filled)


class TokenTracker(Static):
    """One line: ``in 12.3k · out 456 · $0.0123 · budget ██░░ 21% · ctx 8%``."""

    DEFAULT_CLASSES = "tracker"
    def __init__(self, budget: float | None = None, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.budget = budget
        self.budget_pct: float | None = None
        self.context_pct: float | None = None
        self.requests = 0
        self.totals: dict[str, Any] = {}

    def on_mount(self) -> None:
        self.redraw()

    def show_totals(self, totals: dict[str, Any] | None) -> None:
        """Totals of an earlier part of the session (on resume), before any new request."""
        self.totals = dict(totals or {})
        if self.budget and self.totals.get("cost_usd") is not None:
            self.budget_pct = float(self.totals["cost_usd"]) / self.budget * 100
        self.redraw()

    def record(self, data: dict[str, Any]) -> None:
        """Apply one ``usage`` event's payload."""
        self.requests += 1
        totals = data.get("totals")
        if isinstance(totals, dict):
            self.totals = totals
        else:  # a meter without running totals: add this request's figures up here
            summed = dict(self.totals)
            for key in ("input_tokens", "output_tokens", "cache_read_tokens",
                        "cache_write_tokens"):
                summed[key] = int(summed.get(key) or 0) + int(data.get(key) or 0)
            if data.get("cost_usd") is None or (
                    "cost_usd" in summed and summed["cost_usd"] is None):
                summed["cost_usd"] = None
            else:
                summed["cost_usd"] = float(summed.get("cost_usd") or 0) + float(data["cost_usd"])
            self.totals = summed
        if data.get("budget_used_pct") is not None:
            self.budget_pct = float(data["budget_used_pct"])
        elif self.budget and self.totals.get("cost_usd") is not None:
            self.budget_pct = float(self.totals["cost_usd"]) / self.budget * 100
        if data.get("context_used_pct") is not None:
            self.context_pct = float(data["context_used_pct"])
        self.redraw()

    def set_budget(self, budget: float | None) -> None:
        self.budget = budget
        self.budget_pct = None
        self.show_totals(self.totals)

    @property
    def warning(self) -> bool:
        return self.budget_pct is not None and self.budget_pct >= WARN_AT

    def redraw(self) -> None:
        if self.is_attached:
            self.set_class(self.warning, "-warning")
            self.update(self.line_text(), layout=False)  # one line high: no layout pass

    def line_text(self) -> Text:
        t = self.totals
        cached = int(t.get("cache_read_tokens") or 0) + int(t.get("cache_write_tokens") or 0)
        line = Text()
        line.append("in ", "dim").append(tokens(int(t.get("input_tokens") or 0)))
        if cached:
            line.append(" +cache ", "dim").append(tokens(cached))
        line.append(" · out ", "dim").append(tokens(int(t.get("output_tokens") or 0)))
        line.append(" · ", "dim").append(money(t.get("cost_usd", 0.0)), "bold")
        if self.budget:
            pct = self.budget_pct or 0.0
            style = "bold yellow" if self.warning else "green"
            line.append(" · budget ", "dim").append(bar(pct), style)
            line.append(f" {pct:.0f}% of ${self.budget:.2f}", style)
            if self.warning:
                line.append(" !", "bold yellow")
        if self.context_pct is not None:
            style = "yellow" if self.context_pct >= WARN_AT else ""
            line.append(" · context ", "dim").append(f"{self.context_pct:.0f}%", style)
        return line
