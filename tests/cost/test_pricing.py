"""Prices: the built-in table, lookups, config overrides and exact costs."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joiner.core.messages import Usage
from joiner.cost.errors import CostConfigError, PricingError
from joiner.cost.pricing import (
    FREE,
    Price,
    Prices,
    cost_usd,
    exact_cost,
    from_picodollars,
    parse_price_table,
    price_for,
    to_picodollars,
)


def test_anthropic_cost_counts_every_token_kind_at_its_rate() -> None:
    # Sonnet 4.5: $3 input, $15 output, $0.30 cache read, $3.75 cache write (5m).
    price = Prices().lookup("anthropic/claude-sonnet-4-5")
    usage = Usage(input_tokens=1000, output_tokens=500, cache_read_tokens=2000,
                  cache_write_tokens=100)
    assert exact_cost(usage, price) == Decimal("0.011475")  # 0.003 + 0.0075 + 0.0006 + 0.000375
    assert cost_usd(usage, price) == 0.011475


def test_openai_cached_tokens_are_priced_apart_from_the_uncached_input() -> None:
    # The OpenAI provider reports input_tokens WITHOUT the cached ones. GPT-4.1: $2 / $0.50 / $8.
    price = Prices().lookup("openai/gpt-4.1")
    usage = Usage(input_tokens=700, output_tokens=500, cache_read_tokens=300)
    assert exact_cost(usage, price) == Decimal("0.00555")  # 0.0014 + 0.00015 + 0.004


def test_cache_reads_are_never_free() -> None:
    price = Prices().lookup("anthropic/claude-opus-4-5")
    only_reads = Usage(cache_read_tokens=1_000_000)
    assert exact_cost(only_reads, price) == Decimal("0.50")


def test_long_prompt_tier_bills_the_whole_request_at_the_higher_rates() -> None:
    price = Prices().lookup("anthropic/claude-haiku-5-5")
    at_threshold = Usage(input_tokens=90_000, cache_read_tokens=10_000, output_tokens=1000)
    above = Usage(input_tokens=90_001, cache_read_tokens=10_000, output_tokens=1000)
    # <= 100K prompt: $0.10 in, $0.01 read, $0.50 out
    assert exact_cost(at_threshold, price) == Decimal("0.0090") + Decimal("0.0001") \
        + Decimal("0.0005")
    # > 100K prompt: $0.50 in, $0.05 read, $2.50 out, on every token
    assert exact_cost(above, price) == Decimal("0.0450005") + Decimal("0.0005") \
        + Decimal("0.0025")


@pytest.mark.parametrize("spec, base", [
    ("anthropic/claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5"),
    ("anthropic/claude-haiku-4-5-20251001", "anthropic/claude-haiku-4-5"),
    ("anthropic/claude-3-5-haiku-latest", "anthropic/claude-3-5-haiku"),
    ("anthropic/claude-opus-4-1@20250805", "anthropic/claude-opus-4-1"),
    ("anthropic/Claude-Sonnet-4.5", "anthropic/claude-sonnet-4-5"),
    ("openai/gpt-4o-2024-08-06", "openai/gpt-4o"),
    ("openai/gpt-5-mini-2025-08-07", "openai/gpt-5-mini"),
    ("openai/GPT-4.1", "openai/gpt-4.1"),
])
def test_lookup_tolerates_dated_and_spelled_variants(spec: str, base: str) -> None:
    prices = Prices()
    assert prices.lookup(base) is not None
    assert prices.lookup(spec) == prices.lookup(base)


def test_a_dated_suffix_does_not_join_two_different_models() -> None:
    prices = Prices()
    assert prices.lookup("openai/gpt-4o-mini-2024-07-18") == prices.lookup("openai/gpt-4o-mini")
    assert prices.lookup("openai/gpt-4o-mini") != prices.lookup("openai/gpt-4o")


@pytest.mark.parametrize("spec", ["local/gemma3-270m", "scripted/test", "replay/0a1b2c"])
def test_local_scripted_and_replayed_models_are_free(spec: str) -> None:
    price = Prices().lookup(spec)
    assert price == FREE
    assert cost_usd(Usage(10**6, 10**6, 10**6, 10**6), price) == 0.0


@pytest.mark.parametrize("spec", ["openai/llama3.1", "anthropic/claude-unknown-9", "nope"])
def test_unknown_models_have_no_price(spec: str) -> None:
    price = Prices().lookup(spec)
    assert price is None
    assert cost_usd(Usage(1, 1), price) is None


CONTRACT_TOML = """
model = "anthropic/claude-sonnet-4-5"
[pricing."openai/my-model"]
input_per_mtok = 3.0
output_per_mtok = 15.0
cache_read_per_mtok = 0.3
cache_write_per_mtok = 3.75
"""


def test_config_price_from_the_contract_example() -> None:
    prices = Prices.from_config(tomllib.loads(CONTRACT_TOML))
    price = prices.lookup("openai/my-model")
    assert price == Price(Decimal("3.0"), Decimal("15.0"), Decimal("0.3"), Decimal("3.75"),
                          source="config")
    usage = Usage(input_tokens=580, output_tokens=60, cache_read_tokens=1000,
                  cache_write_tokens=200)
    # 580*3 + 60*15 + 1000*0.3 + 200*3.75 = 1740 + 900 + 300 + 750 = 3690 micro-dollars
    assert exact_cost(usage, price) == Decimal("0.00369")


def test_override_beats_the_builtin_price_and_covers_dated_names() -> None:
    config = {"pricing": {"anthropic/claude-sonnet-4-5": {
        "input_per_mtok": 1, "output_per_mtok": 2, "cache_read_per_mtok": 0.5,
        "cache_write_per_mtok": 1.5}}}
    prices = Prices.from_config(config)
    for spec in ("anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5-20250929"):
        assert exact_cost(Usage(10**6, 10**6, 10**6, 10**6), prices.lookup(spec)) == Decimal(5)
    assert prices.lookup("anthropic/claude-sonnet-4-5").long_prompt is None
    # Other models keep their built-in price.
    assert prices.lookup("openai/gpt-4.1") == Prices().lookup("openai/gpt-4.1")


def test_partial_override_keeps_the_other_builtin_rates() -> None:
    prices = Prices.from_config({"pricing": {"openai/gpt-4.1": {"output_per_mtok": 9}}})
    price = prices.lookup("openai/gpt-4.1")
    assert (price.input, price.output, price.cache_read) == (2, 9, Decimal("0.50"))


def test_new_model_without_cache_rates_charges_cache_at_the_input_rate() -> None:
    prices = Prices.from_config({"pricing": {"openai/qwen3": {
        "input_per_mtok": 0.2, "output_per_mtok": 0.8}}})
    price = prices.lookup("openai/qwen3")
    assert price.cache_read == price.cache_write == Decimal("0.2")


def test_override_can_price_a_local_model() -> None:
    prices = Prices.from_config({"pricing": {"local/big": {
        "input_per_mtok": 1, "output_per_mtok": 1}}})
    assert exact_cost(Usage(10**6, 0), prices.lookup("local/big")) == 1
    assert prices.lookup("local/other") == FREE


def test_a_price_for_an_unused_model_is_harmless() -> None:
    prices = price_for("anthropic/claude-sonnet-4-5", {"pricing": {"openai/never-used": {
        "input_per_mtok": 1, "output_per_mtok": 1}}})
    assert prices.lookup("anthropic/claude-sonnet-4-5") == Prices().lookup(
        "anthropic/claude-sonnet-4-5")


@pytest.mark.parametrize("toml_text, words", [
    ('pricing = "cheap"', "must be tables"),
    ('[pricing]\n"openai/x" = 3', "must be a table"),
    ('[pricing."openai/x"]\ninput_per_mtok = -1\noutput_per_mtok = 1', "input_per_mtok must be"),
    ('[pricing."openai/x"]\ninput_per_mtok = "3"\noutput_per_mtok = 1', "not '3'"),
    ('[pricing."openai/x"]\ninput_per_mtok = true\noutput_per_mtok = 1', "not True"),
    ('[pricing."openai/x"]\ninput_per_mtok = nan\noutput_per_mtok = 1', "not nan"),
    ('[pricing."openai/x"]\ninput_per_mtok = inf\noutput_per_mtok = 1', "not inf"),
    ('[pricing."openai/x"]\ninput_per_mtoken = 1\noutput_per_mtok = 1', "unknown key"),
    ('[pricing."openai/x"]\noutput_per_mtok = 1', "needs input_per_mtok"),
    ('[pricing."openai/x"]', "needs input_per_mtok and output_per_mtok"),
    ('[pricing.mymodel]\ninput_per_mtok = 1\noutput_per_mtok = 1', "PROVIDER/MODEL"),
    ('[pricing.openai.mymodel]\ninput_per_mtok = 1', 'quote the name: [pricing."openai/mymodel"]'),
])
def test_malformed_price_tables_are_one_line_errors(toml_text: str, words: str) -> None:
    with pytest.raises(PricingError) as info:
        Prices.from_config(tomllib.loads(toml_text))
    message = str(info.value)
    assert words in message
    assert "\n" not in message
    assert isinstance(info.value, CostConfigError) and isinstance(info.value, ValueError)


def test_no_pricing_section_is_the_builtin_table() -> None:
    assert Prices.from_config({}).lookup("openai/gpt-5") == Prices().lookup("openai/gpt-5")
    assert Prices.from_config(None).overrides == {}


def test_every_builtin_rate_is_exact_in_picodollars() -> None:
    from joiner.cost.pricing import _BUILTIN

    for spec, price in _BUILTIN.items():
        for p in (price, price.long_prompt):
            if p is None:
                continue
            for rate in (p.input, p.output, p.cache_read, p.cache_write):
                assert rate >= 0, spec
                # One token at this rate is a whole number of picodollars.
                assert (rate * 10**6) == (rate * 10**6).to_integral_value(), spec
            assert p.output >= p.input, spec


rates = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False,
                    allow_infinity=False)
tokens = st.integers(min_value=0, max_value=10**9)


# The machine is shared: generation speed is not what these tests are about.
relaxed = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@relaxed
@given(rates, rates, rates, rates, tokens, tokens, tokens, tokens)
def test_cost_is_the_exact_rational_sum(ri: Decimal, ro: Decimal, rr: Decimal, rw: Decimal,
                                         i: int, o: int, r: int, w: int) -> None:
    price = Price(ri, ro, rr, rw)
    cost = exact_cost(Usage(i, o, r, w), price)
    expected = (Fraction(ri) * i + Fraction(ro) * o + Fraction(rr) * r + Fraction(rw) * w) \
        / 10**6
    assert Fraction(cost) == expected
    assert Fraction(from_picodollars(to_picodollars(cost))) == expected


toml_scalars = st.one_of(
    st.integers(min_value=-10, max_value=10**6), st.floats(allow_nan=True),
    st.booleans(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2))


@relaxed
@given(st.dictionaries(st.sampled_from(["input_per_mtok", "output_per_mtok",
                                        "cache_read_per_mtok", "cache_write_per_mtok",
                                        "bogus"]), toml_scalars),
       st.sampled_from(["openai/x", "anthropic/claude-sonnet-4-5", "x", ""]))
def test_any_price_table_is_a_price_or_a_pricing_error(table: dict, spec: str) -> None:
    try:
        price = parse_price_table(spec, table)
    except PricingError as err:
        assert "\n" not in str(err)
        return
    for rate in (price.input, price.output, price.cache_read, price.cache_write):
        assert rate >= 0
