"""The run's meter: tokens and exact cost per request, running totals, the budget.

The loop calls ``record`` after every model response (its return value is the
``usage`` event's payload, the numbers of the token tracker) and
``budget_exceeded`` before every request: once the spent cost reaches the budget
no further request is made. Spent cost is kept in integer picodollars (10^-12
USD), so totals are exact sums, never sums of rounded floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from joiner.core.messages import Usage
from joiner.cost.errors import BudgetError
from joiner.cost.pricing import (
    PICODOLLARS_PER_USD,
    Price,
    Prices,
    exact_cost,
    from_picodollars,
    to_picodollars,
)

TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
WARN_AT = Decimal("0.8")


def parse_budget(value: object, source: str = "--max-budget-usd") -> float | None:
    """A budget from the command line (string) or config (number); None if unset.

    Raises ``BudgetError`` (exit 2) for a negative, non-numeric or infinite value.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BudgetError(f"{source} must be a number of US dollars >= 0, not {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise BudgetError(f"{source} must be a number of US dollars >= 0 (e.g. 2.50), "
                          f"not {value!r}")
    return number


def money(usd: Decimal | float) -> str:
    """$1.00, $0.0026, $12.35: cents, or four decimals under a dollar when they matter."""
    d = Decimal(str(usd)) if isinstance(usd, float) else usd
    if d == 0 or abs(d) >= 1:
        return f"${d:,.2f}"
    four = f"{d:.4f}".rstrip("0")
    return f"${four}" if len(four.split(".")[1]) > 2 else f"${d:.2f}"


class Totals:
    """Token counts and exact spend (picodollars) of some requests."""

    def __init__(self) -> None:
        self.tokens = dict.fromkeys(TOKEN_KINDS, 0)
        self.pico = 0
        self.priced = 0  # requests with a known price
        self.unpriced = 0  # requests without one

    def add(self, usage: Usage, pico: int | None) -> None:
        for kind in TOKEN_KINDS:
            self.tokens[kind] += getattr(usage, kind)
        if pico is None:
            self.unpriced += 1
        else:
            self.priced += 1
            self.pico += pico

    @property
    def known_pico(self) -> int | None:
        """The spend; None when no request (or earlier total) had a known price."""
        return None if self.unpriced and not self.priced else self.pico

    def as_usage(self) -> dict[str, Any]:
        """The contract's ``usage`` object (plus nothing)."""
        pico = self.known_pico
        return {**self.tokens, "cost_usd": None if pico is None else float(from_picodollars(pico))}

    @classmethod
    def restored(cls, spent: Mapping[str, Any]) -> Totals:
        """Totals from a ``usage`` event's ``totals`` or a result's ``usage`` object."""
        totals = cls()
        for kind in TOKEN_KINDS:
            totals.tokens[kind] = int(spent.get(kind) or 0)
        pico, usd = spent.get("cost_picodollars"), spent.get("cost_usd")
        if pico is not None:
            totals.pico, totals.priced = int(pico), 1
        elif usd is not None:
            totals.pico, totals.priced = round(Decimal(repr(float(usd))) * PICODOLLARS_PER_USD), 1
        elif any(totals.tokens.values()):
            totals.unpriced = 1  # earlier requests, none with a known price
        return totals


class CostMeter:
    """Implements the core's ``Meter`` protocol.

    ``model_prices``: the price table (``Prices.from_config(config)``); None means
    the built-in table. ``budget_usd``: stop once the session's spent cost reaches
    it. ``context_window``: the model's window, for ``context_used_pct``.
    ``warn``: called with one line for the 80% budget warning and for the note
    about a model with no known price (each at most once). ``spent``: a resumed
    session's earlier totals (``sessions.usage_totals``, a ``usage`` event's
    ``totals`` or a result's ``usage``). ``session_id``: named in the budget
    message so the user can resume.

    Two scopes: ``total()`` (the result's ``usage``, like its ``num_turns``) counts
    this run's requests; the ``usage`` events' ``totals``, the budget and its
    percentages count the whole session, earlier spend included.
    """

    def __init__(
        self,
        model_prices: Prices | None,
        budget_usd: float | None = None,
        context_window: int | None = None,
        warn: Callable[[str], None] | None = None,
        *,
        spent: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> None:
        self.prices = model_prices if model_prices is not None else Prices()
        self.budget_usd = parse_budget(budget_usd, "the budget")
        self._budget = None if budget_usd is None else Decimal(repr(float(budget_usd)))
        self.context_window = context_window
        self.warn = warn or (lambda line: None)
        self.session_id = session_id
        self.run = Totals()
        self.session = Totals.restored(spent) if spent else Totals()
        self._price_cache: dict[str, Price | None] = {}
        self._noted_unpriced: set[str] = set()
        self._warned_budget = False

    # -- the Meter protocol ---------------------------------------------------

    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        """Account one request; returns the payload of its ``usage`` event."""
        price = self._price(model)
        cost = exact_cost(usage, price)
        pico = None if cost is None else to_picodollars(cost)
        self.run.add(usage, pico)
        self.session.add(usage, pico)
        if pico is None:
            self._note_unpriced(model)
        self._check_budget_warning()
        prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        return {
            "model": model,
            **{kind: getattr(usage, kind) for kind in TOKEN_KINDS},
            "estimated": usage.estimated,
            "cost_usd": None if cost is None else float(cost),
            "cost_picodollars": pico,
            "totals": {**self.session.as_usage(), "cost_picodollars": self.session.known_pico},
            "budget_usd": self.budget_usd,
            "budget_used_pct": self._budget_used_pct(),
            "context_window": self.context_window,
            "context_used_pct": (round(100 * prompt / self.context_window, 2)
                                 if self.context_window else None),
        }

    def total(self) -> dict[str, Any]:
        """This run's ``usage`` object: the four token kinds and ``cost_usd``.

        ``cost_usd`` sums every request with a known price; it is null only when
        no request had one.
        """
        return self.run.as_usage()

    def budget_exceeded(self) -> str | None:
        """The stop message once the session's spent cost reaches the budget, else None."""
        self._check_budget_warning()
        if self._budget is None or self.spent_usd < self._budget:
            return None
        resume = f"--resume {self.session_id}" if self.session_id else "--resume SESSION_ID"
        return (f"Budget of {money(self._budget)} reached: spent {money(self.spent_usd)}. "
                f"Resume with {resume} and a higher --max-budget-usd.")

    # -- helpers ----------------------------------------------------------------

    @property
    def spent_usd(self) -> Decimal:
        """The session's exact spent cost (requests with a known price)."""
        return from_picodollars(self.session.pico)

    def _price(self, model: str) -> Price | None:
        if model not in self._price_cache:
            self._price_cache[model] = self.prices.lookup(model)
        return self._price_cache[model]

    def _budget_used_pct(self) -> float | None:
        if self._budget is None:
            return None
        if self._budget == 0:
            return 100.0
        return round(float(100 * self.spent_usd / self._budget), 2)

    def _check_budget_warning(self) -> None:
        if self._warned_budget or self._budget is None or self._budget == 0:
            return
        spent = self.spent_usd
        if WARN_AT * self._budget <= spent < self._budget:
            self._warned_budget = True
            pct = math.floor(100 * spent / self._budget)
            self.warn(f"Budget warning: spent {money(spent)} of {money(self._budget)} "
                      f"({pct}%); the run stops once it reaches {money(self._budget)}.")

    def _note_unpriced(self, model: str) -> None:
        if model in self._noted_unpriced:
            return
        self._noted_unpriced.add(model)
        budget = (" --max-budget-usd cannot count its requests." if self._budget is not None
                  else "")
        self.warn(f'No price known for {model}: its cost is shown as unknown.{budget} '
                  f'Set one in config.toml: [pricing."{model}"] input_per_mtok = ... '
                  "output_per_mtok = ... (USD per million tokens).")
