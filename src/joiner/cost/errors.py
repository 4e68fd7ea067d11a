"""Configuration errors of the cost room.

They are ``ValueError`` subclasses so the cost room needs nothing from the CLI;
the runtime maps every ``CostConfigError`` to ``UserError(str(err), 2)``: the
message is already one line saying what is wrong and how to fix it.
"""

from __future__ import annotations


class CostConfigError(ValueError):
    """Bad cost configuration: a malformed price table or budget (exit 2)."""


class PricingError(CostConfigError):
    """A ``[pricing."PROVIDER/MODEL"]`` table in config is malformed."""


class BudgetError(CostConfigError):
    """``--max-budget-usd`` / ``max_budget_usd`` is negative or not a number."""
