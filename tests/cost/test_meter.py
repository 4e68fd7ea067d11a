"""CostMeter: the usage event payload, totals, the 80% warning and the budget stop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from joiner.core.events import USAGE, Event
from joiner.core.loop import Agent
from joiner.core.messages import Usage
from joiner.cost.errors import BudgetError
from joiner.cost.meter import CostMeter, money, parse_budget
from joiner.cost.pricing import Price, Prices
from joiner.providers.scripted import ScriptedProvider

# $1 per million tokens of every kind: a request of N tokens costs N / 10^6 dollars.
FLAT = Price(Decimal(1), Decimal(1), Decimal(1), Decimal(1), source="config")
MODEL = "openai/flat"


def flat_prices() -> Prices:
    return Prices({MODEL: FLAT, "scripted/test": FLAT})


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def test_usage_payload_has_the_request_the_totals_and_the_percentages() -> None:
    meter = CostMeter(Prices(), budget_usd=1.0, context_window=200_000)
    usage = Usage(input_tokens=1000, output_tokens=500, cache_read_tokens=2000,
                  cache_write_tokens=100)
    first = meter.record(usage, "anthropic/claude-sonnet-4-5")
    assert first == {
        "model": "anthropic/claude-sonnet-4-5",
        "input_tokens": 1000, "output_tokens": 500, "cache_read_tokens": 2000,
        "cache_write_tokens": 100, "estimated": False,
        "cost_usd": 0.011475, "cost_picodollars": 11_475_000_000,
        "totals": {"input_tokens": 1000, "output_tokens": 500, "cache_read_tokens": 2000,
                   "cache_write_tokens": 100, "cost_usd": 0.011475,
                   "cost_picodollars": 11_475_000_000},
        "budget_usd": 1.0, "budget_used_pct": 1.15,
        "context_window": 200_000, "context_used_pct": 1.55,  # (1000 + 2000 + 100) / 200K
    }
    second = meter.record(Usage(10, 5, estimated=True), "anthropic/claude-sonnet-4-5")
    assert second["estimated"] is True
    assert second["context_used_pct"] == 0.01  # the last request only
    assert second["totals"]["input_tokens"] == 1010
    assert meter.total() == {"input_tokens": 1010, "output_tokens": 505,
                             "cache_read_tokens": 2000, "cache_write_tokens": 100,
                             "cost_usd": 0.011475 + 0.000105}


def test_no_budget_and_no_window_give_nulls() -> None:
    payload = CostMeter(None).record(Usage(10, 5), "openai/gpt-4.1")
    assert payload["budget_usd"] is None and payload["budget_used_pct"] is None
    assert payload["context_window"] is None and payload["context_used_pct"] is None


def test_totals_are_exact_sums_not_sums_of_rounded_floats() -> None:
    meter = CostMeter(flat_prices())
    for _ in range(3):
        meter.record(Usage(input_tokens=100_000), MODEL)  # $0.1 each
    assert 0.1 + 0.1 + 0.1 != 0.3
    assert meter.total()["cost_usd"] == 0.3
    assert meter.spent_usd == Decimal("0.3")


def test_a_local_model_is_free_and_silent() -> None:
    lines = Lines()
    meter = CostMeter(None, budget_usd=0.01, warn=lines)
    payload = meter.record(Usage(10**6, 10**6), "local/gemma3-270m")
    assert payload["cost_usd"] == 0.0
    assert meter.total()["cost_usd"] == 0.0
    assert meter.budget_exceeded() is None
    assert lines.lines == []


def test_unknown_price_is_null_with_one_note_per_model() -> None:
    lines = Lines()
    meter = CostMeter(Prices(), warn=lines)
    for _ in range(3):
        payload = meter.record(Usage(100, 10), "openai/llama3.1")
    assert payload["cost_usd"] is None and payload["cost_picodollars"] is None
    assert meter.total()["cost_usd"] is None
    assert payload["totals"]["input_tokens"] == 300
    assert len(lines.lines) == 1
    assert '[pricing."openai/llama3.1"]' in lines.lines[0]
    assert "input_per_mtok" in lines.lines[0] and "config.toml" in lines.lines[0]
    meter.record(Usage(100, 10), "openai/qwen3")
    assert len(lines.lines) == 2


def test_known_costs_still_add_up_next_to_an_unpriced_model() -> None:
    meter = CostMeter(flat_prices(), budget_usd=5.0, warn=Lines())
    meter.record(Usage(500_000), MODEL)
    meter.record(Usage(10**6), "openai/llama3.1")
    assert meter.total()["cost_usd"] == 0.5


def test_note_for_an_unpriced_model_says_the_budget_cannot_count_it() -> None:
    lines = Lines()
    CostMeter(Prices(), budget_usd=1.0, warn=lines).record(Usage(1, 1), "openai/llama3.1")
    assert "--max-budget-usd" in lines.lines[0]


def test_budget_stops_after_the_request_that_crossed_it() -> None:
    meter = CostMeter(flat_prices(), budget_usd=1.0, warn=Lines())
    assert meter.budget_exceeded() is None
    meter.record(Usage(600_000), MODEL)  # $0.60
    assert meter.budget_exceeded() is None
    meter.record(Usage(300_000), MODEL)  # $0.90
    assert meter.budget_exceeded() is None
    meter.record(Usage(300_000), MODEL)  # $1.20: crossed
    message = meter.budget_exceeded()
    assert message == ("Budget of $1.00 reached: spent $1.20. "
                       "Resume with --resume SESSION_ID and a higher --max-budget-usd.")


def test_reaching_the_budget_exactly_stops() -> None:
    meter = CostMeter(flat_prices(), budget_usd=0.5, session_id="abc123")
    meter.record(Usage(500_000), MODEL)
    assert meter.budget_exceeded() == ("Budget of $0.50 reached: spent $0.50. "
                                       "Resume with --resume abc123 and a higher "
                                       "--max-budget-usd.")


def test_the_80_percent_warning_comes_once() -> None:
    lines = Lines()
    meter = CostMeter(flat_prices(), budget_usd=1.0, warn=lines)
    meter.record(Usage(790_000), MODEL)
    meter.budget_exceeded()
    assert lines.lines == []
    meter.record(Usage(10_000), MODEL)  # exactly 80%
    meter.budget_exceeded()
    meter.record(Usage(100_000), MODEL)  # 90%
    meter.budget_exceeded()
    assert lines.lines == ["Budget warning: spent $0.80 of $1.00 (80%); "
                           "the run stops once it reaches $1.00."]
    meter.record(Usage(200_000), MODEL)
    assert meter.budget_exceeded() is not None
    assert len(lines.lines) == 1


def test_jumping_past_the_budget_gives_the_stop_message_not_the_warning() -> None:
    lines = Lines()
    meter = CostMeter(flat_prices(), budget_usd=0.1, warn=lines)
    meter.record(Usage(10**6), MODEL)
    assert meter.budget_exceeded() is not None
    assert lines.lines == []


def test_a_resumed_sessions_earlier_spend_counts_toward_the_budget() -> None:
    lines = Lines()
    earlier = {"input_tokens": 900_000, "output_tokens": 0, "cache_read_tokens": 0,
               "cache_write_tokens": 0, "cost_usd": 0.9}
    meter = CostMeter(flat_prices(), budget_usd=1.0, warn=lines, spent=earlier)
    assert meter.budget_exceeded() is None
    assert len(lines.lines) == 1  # already at 90%
    payload = meter.record(Usage(100_000), MODEL)
    assert payload["totals"]["input_tokens"] == 1_000_000
    assert payload["totals"]["cost_usd"] == 1.0
    assert payload["budget_used_pct"] == 100.0
    assert meter.budget_exceeded() is not None
    # The result's usage is this run's, like its num_turns.
    assert meter.total() == {"input_tokens": 100_000, "output_tokens": 0,
                             "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 0.1}


def test_spent_from_the_stores_usage_totals(tmp_path: Any) -> None:
    from joiner.core.events import Event
    from joiner.sessions import open_store, usage_totals

    first = CostMeter(flat_prices())
    store = open_store(tmp_path / "s.db")
    session = store.create_session("/w", MODEL)
    for _ in range(3):
        store.append(session, Event(USAGE, first.record(Usage(100_000), MODEL)))
    resumed = CostMeter(flat_prices(), budget_usd=0.35, spent=usage_totals(store, session))
    store.close()
    assert resumed.spent_usd == Decimal("0.3")  # exact, not 0.30000000000000004
    assert resumed.budget_exceeded() is None
    resumed.record(Usage(50_000), MODEL)
    assert resumed.budget_exceeded() is not None


def test_restoring_from_picodollars_is_exact() -> None:
    meter = CostMeter(flat_prices(), spent={"cost_usd": 0.30000000000000004,
                                            "cost_picodollars": 300_000_000_000})
    assert meter.spent_usd == Decimal("0.3")


def test_a_session_that_already_spent_its_budget_makes_no_request() -> None:
    meter = CostMeter(flat_prices(), budget_usd=0.5, spent={"cost_usd": 0.75})
    assert meter.budget_exceeded() == ("Budget of $0.50 reached: spent $0.75. "
                                       "Resume with --resume SESSION_ID and a higher "
                                       "--max-budget-usd.")


def test_earlier_unpriced_spend_keeps_the_total_unknown() -> None:
    meter = CostMeter(Prices(), spent={"input_tokens": 5, "cost_usd": None}, warn=Lines())
    meter.record(Usage(1, 1), "openai/llama3.1")
    assert meter.total()["cost_usd"] is None


@pytest.mark.parametrize("value, expected", [
    (None, None), ("0.5", 0.5), (" 2 ", 2.0), (3, 3.0), (0.25, 0.25), ("0", 0.0)])
def test_parse_budget_accepts_numbers(value: Any, expected: float | None) -> None:
    assert parse_budget(value) == expected


@pytest.mark.parametrize("value", ["-1", -0.01, "abc", "", "nan", "inf", True, [1]])
def test_parse_budget_refuses_bad_values_in_one_line(value: Any) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(value)
    assert "--max-budget-usd" in str(info.value) and "\n" not in str(info.value)


def test_the_meter_refuses_a_negative_budget() -> None:
    with pytest.raises(BudgetError):
        CostMeter(None, budget_usd=-1)


@pytest.mark.parametrize("usd, text", [
    (Decimal("1"), "$1.00"), (Decimal("0.5"), "$0.50"), (Decimal("0.00264"), "$0.0026"),
    (Decimal("0.5123"), "$0.5123"), (Decimal("1234.567"), "$1,234.57"), (0.1, "$0.10"),
    (Decimal(0), "$0.00")])
def test_money(usd: Decimal | float, text: str) -> None:
    assert money(usd) == text


# -- through the agent loop ------------------------------------------------------------------

class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class AllowAll:
    async def approve(self, request: Any) -> Any:
        from joiner.core import Approval

        return Approval(True)


def steps(n: int, tokens: int) -> list[dict[str, Any]]:
    """n answers that each call a (missing) tool with new arguments, then a final answer."""
    calls = [{"text": f"step {i}", "tool_calls": [{"name": "probe", "arguments": {"i": i}}],
              "usage": {"input_tokens": tokens, "output_tokens": 0}} for i in range(n)]
    return [*calls, {"text": "done", "usage": {"input_tokens": tokens}}]


async def test_the_loop_stops_after_the_request_that_crossed_the_budget() -> None:
    provider = ScriptedProvider(steps(6, 400_000))  # $0.40 a request
    sink = Recorder()
    lines = Lines()
    meter = CostMeter(flat_prices(), budget_usd=1.0, warn=lines)
    result = await Agent(provider, [], AllowAll(), sink, meter).run("go")
    assert len(provider.requests) == 3  # $0.40, $0.80 (warning), $1.20: crossed, no 4th
    assert result.stop_reason == "budget" and result.is_error
    assert result.result == ("Budget of $1.00 reached: spent $1.20. "
                             "Resume with --resume SESSION_ID and a higher --max-budget-usd.")
    assert result.usage == {"input_tokens": 1_200_000, "output_tokens": 0,
                            "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_usd": 1.2}
    usage_events = [e.data for e in sink.events if e.type == USAGE]
    assert [u["turn"] for u in usage_events] == [1, 2, 3]
    assert [u["budget_used_pct"] for u in usage_events] == [40.0, 80.0, 120.0]
    assert len(lines.lines) == 1 and "80%" in lines.lines[0]


async def test_the_loop_runs_to_the_end_under_the_budget() -> None:
    provider = ScriptedProvider(steps(2, 100_000))
    result = await Agent(provider, [], AllowAll(), Recorder(),
                         CostMeter(flat_prices(), budget_usd=1.0)).run("go")
    assert result.stop_reason == "end_turn"
    assert result.usage["cost_usd"] == 0.3
