"""Tokens, cost and budgets.

- ``pricing``: the price table (built-in + ``[pricing."PROVIDER/MODEL"]`` overrides)
  and the exact cost of a request.
- ``meter``: ``CostMeter``, the core's ``Meter``: the ``usage`` event payload after
  every request, running totals, the 80% warning and the budget stop.
- ``report``: the ``joiner usage`` aggregates, read with SQL from the store.

Configuration mistakes raise ``CostConfigError`` (``PricingError``, ``BudgetError``),
``ValueError`` subclasses whose message is one line; the runtime maps them to exit 2.
"""

from __future__ import annotations

from joiner.cost.errors import BudgetError, CostConfigError, PricingError
from joiner.cost.meter import CostMeter, parse_budget
from joiner.cost.pricing import Price, Prices, cost_usd, exact_cost

__all__ = [
    "BudgetError",
    "CostConfigError",
    "CostMeter",
    "Price",
    "Prices",
    "PricingError",
    "cost_usd",
    "exact_cost",
    "parse_budget",
]
