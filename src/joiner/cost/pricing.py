"""Prices per model and the exact cost of a request.

Prices are USD per million tokens (``Decimal``), one rate per token kind. A cost
is computed from the integer token counts with ``Decimal`` arithmetic, so it is
exact; it is turned into a float only for display and JSON. ``cost_picodollars``
is the same cost as an integer number of 10^-12 USD, which is what the store
sums (exactly) and what a resumed session restarts from.

Token kinds are priced separately and never overlap: the providers report
``input_tokens`` WITHOUT the cached part (the OpenAI provider subtracts
``prompt_tokens_details.cached_tokens``; Anthropic reports them apart already),
``cache_read_tokens`` at the cache-hit rate, ``cache_write_tokens`` at the
cache-write rate (Anthropic's 5-minute rate; OpenAI does not bill cache writes
and reports none).

Lookup (``Prices.lookup("anthropic/claude-sonnet-4-5-20250929")``): config
overrides first, then the built-in table, for the exact name and then the name
without a date suffix (``-20250929``, ``-2025-08-07``, ``@20250929``) or
``-latest``. ``local/``, ``scripted/`` and ``replay/`` models cost 0. Anything
else has no price (``None``): its cost is reported as unknown, never as 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from joiner.core.messages import Usage
from joiner.cost.builtin_prices import BUILTIN_PRICES, PriceRow
from joiner.cost.errors import PricingError

MTOK = 1_000_000
PICODOLLARS_PER_USD = 10**12
FREE_PROVIDERS = frozenset({"local", "scripted", "replay"})
PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok")


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens of each kind.

    ``long_prompt_above`` / ``long_prompt``: some models bill a whole request at
    higher rates once its prompt (input + cache read + cache write tokens) is
    longer than a threshold (Claude Haiku 5.5 above 100K, GPT-5.5 above 272K...).
    """

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    long_prompt_above: int | None = None
    long_prompt: Price | None = None
    source: str = "builtin"  # builtin | config | free

    def rates_for(self, usage: Usage) -> Price:
        """The rates that apply to this request (the long-prompt tier if it is one)."""
        prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        if self.long_prompt is not None and self.long_prompt_above is not None \
                and prompt > self.long_prompt_above:
            return self.long_prompt
        return self

    def cost(self, usage: Usage) -> Decimal:
        """The exact cost of one request in USD."""
        r = self.rates_for(usage)
        micro = (usage.input_tokens * r.input + usage.output_tokens * r.output
                 + usage.cache_read_tokens * r.cache_read
                 + usage.cache_write_tokens * r.cache_write)
        return micro / MTOK

    def as_config(self) -> dict[str, float]:
        """The base rates under the config key names (for display)."""
        return dict(zip(PRICE_KEYS, (float(self.input), float(self.output),
                                     float(self.cache_read), float(self.cache_write)),
                        strict=True))


FREE = Price(Decimal(0), Decimal(0), Decimal(0), Decimal(0), source="free")


def exact_cost(usage: Usage, price: Price | None) -> Decimal | None:
    """The exact USD cost of ``usage`` at ``price``; None if the price is unknown."""
    return None if price is None else price.cost(usage)


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """The cost of ``usage`` as a float for JSON (the nearest double of the exact cost)."""
    cost = exact_cost(usage, price)
    return None if cost is None else float(cost)


def to_picodollars(usd: Decimal) -> int:
    """USD to an integer number of 10^-12 USD (exact for rates with <= 6 decimals)."""
    return int((usd * PICODOLLARS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_picodollars(pico: int) -> Decimal:
    return Decimal(pico) / PICODOLLARS_PER_USD


def _price_from_row(row: PriceRow) -> Price:
    inp, out, read, write, *tier = row
    long_above, long_rates = (tier[0], tier[1]) if tier else (None, None)
    return Price(Decimal(inp), Decimal(out), Decimal(read), Decimal(write), long_above,
                 _price_from_row(long_rates) if long_rates else None)


_BUILTIN: dict[str, Price] = {spec: _price_from_row(row) for spec, row in BUILTIN_PRICES.items()}

_DATE_SUFFIX = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|@\d{8}|-latest)$")


def candidate_names(spec: str) -> list[str]:
    """``PROVIDER/MODEL`` and its tolerated variants, most specific first."""
    provider, _, model = spec.strip().lower().partition("/")
    names = [model]
    stripped = _DATE_SUFFIX.sub("", model)
    if stripped != model:
        names.append(stripped)
    if provider == "anthropic":  # "claude-sonnet-4.5" is written "claude-sonnet-4-5" by the API
        names += [n.replace(".", "-") for n in names if "." in n]
    return [f"{provider}/{n}" for n in names]


class Prices:
    """The built-in table with the config's ``[pricing."PROVIDER/MODEL"]`` overrides."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self.overrides = {k.lower(): v for k, v in (overrides or {}).items()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> Prices:
        """Read and validate ``config["pricing"]``; raises ``PricingError`` (exit 2)."""
        table = (config or {}).get("pricing")
        if table is None:
            return cls()
        if not isinstance(table, Mapping):
            raise PricingError('pricing in config must be tables like [pricing."openai/my-model"] '
                               "with input_per_mtok = 3.0 ...")
        return cls({spec: parse_price_table(spec, value) for spec, value in table.items()})

    def lookup(self, spec: str) -> Price | None:
        """The price of ``PROVIDER/MODEL``, or None if nobody knows it."""
        for name in candidate_names(spec):
            if name in self.overrides:
                return self.overrides[name]
            if name in _BUILTIN:
                return _BUILTIN[name]
        if spec.strip().lower().partition("/")[0] in FREE_PROVIDERS:
            return FREE
        return None


def price_for(model: str, config: Mapping[str, Any] | None) -> Prices:
    """The runtime's entry: the validated price table for a run of ``model``.

    Returns the whole table (the built-in one with the config's overrides), so a
    run whose model changes is still priced; raises ``PricingError`` for a
    malformed ``[pricing]`` table even if it names another model.
    """
    del model  # every model is looked up at record time; kept for the call site's clarity
    return Prices.from_config(config)


def builtin_price(spec: str) -> Price | None:
    """The built-in table's price for ``spec`` (no overrides, no free providers)."""
    return next((_BUILTIN[n] for n in candidate_names(spec) if n in _BUILTIN), None)


def parse_price_table(spec: object, value: object) -> Price:
    """One ``[pricing."PROVIDER/MODEL"]`` table to a ``Price``; PricingError if malformed.

    Keys left out take the built-in price of that model, if it has one; else the
    cache rates default to the input rate (never under-count) and the input and
    output rates are required. An override has no long-prompt tier.
    """
    where = f"[pricing.{_quoted(spec)}]"
    if not isinstance(spec, str) or not _is_model_spec(spec):
        hint = ""
        if isinstance(value, Mapping) and value and all(isinstance(v, Mapping)
                                                        for v in value.values()):
            inner = next(iter(value))
            hint = f' (quote the name: [pricing."{spec}/{inner}"])'
        raise PricingError(f"{where} in config: the name must be PROVIDER/MODEL, "
                           f'e.g. [pricing."openai/my-model"]{hint}')
    if not isinstance(value, Mapping):
        raise PricingError(f"{where} in config must be a table with {', '.join(PRICE_KEYS)}")
    unknown = sorted(str(k) for k in value if k not in PRICE_KEYS)
    if unknown:
        raise PricingError(f"{where} in config: unknown key {unknown[0]!r}; "
                           f"use {', '.join(PRICE_KEYS)} (USD per million tokens)")
    rates = {key: _rate(where, key, value[key]) for key in PRICE_KEYS if key in value}
    base = builtin_price(spec)
    if base is None:
        missing = [k for k in PRICE_KEYS[:2] if k not in rates]
        if missing:
            raise PricingError(f"{where} in config needs {' and '.join(missing)} "
                               "(USD per million tokens): no built-in price to fill it from")
        rates.setdefault("cache_read_per_mtok", rates["input_per_mtok"])
        rates.setdefault("cache_write_per_mtok", rates["input_per_mtok"])
        return Price(*(rates[k] for k in PRICE_KEYS), source="config")
    merged = replace(base, long_prompt_above=None, long_prompt=None, source="config")
    fields = dict(zip(PRICE_KEYS, ("input", "output", "cache_read", "cache_write"), strict=True))
    return replace(merged, **{fields[k]: v for k, v in rates.items()})


def _rate(where: str, key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise PricingError(f"{where} in config: {key} must be a number >= 0 "
                           f"(USD per million tokens), not {value!r}")
    # repr() of a float is its shortest exact spelling: 0.3 -> Decimal("0.3").
    return Decimal(int(value)) if isinstance(value, int) else Decimal(repr(float(value)))


def _is_model_spec(spec: str) -> bool:
    provider, sep, model = spec.partition("/")
    return bool(sep and provider.strip() and model.strip())


def _quoted(spec: object) -> str:
    return f'"{spec}"' if isinstance(spec, str) else repr(spec)
