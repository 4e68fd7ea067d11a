"""The token tracker: live totals from the cost meter's usage events, the 80% budget warning."""

from __future__ import annotations

from pathlib import Path

from ui_support import finish_turn, send

from joiner.core.messages import Usage
from joiner.cost.meter import CostMeter
from joiner.cost.pricing import Prices
from joiner.ui.widgets.tracker import TokenTracker, bar, money, tokens


def _price(workspace: Path, model: str, per_mtok: float) -> None:
    config = workspace / ".joiner" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f'[pricing."{model}"]\ninput_per_mtok = {per_mtok}\n'
                      f"output_per_mtok = {per_mtok}\n")


async def test_tracker_follows_usage_and_warns_at_80_percent(make_app, workspace: Path) -> None:
    steps = [{"text": "one", "usage": {"input_tokens": 400_000, "output_tokens": 0}},
             {"text": "two", "usage": {"input_tokens": 450_000, "output_tokens": 2_000}}]
    app = make_app(steps, permission_mode="auto", max_budget_usd="1.00")
    _price(workspace, app.options.model, 1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        line = app.tracker.line_text().plain
        assert "in 400k" in line and "$0.4000" in line and "40% of $1.00" in line
        assert not app.tracker.has_class("-warning")
        await send(pilot, "second")
        await finish_turn(pilot)
        line = app.tracker.line_text().plain
        assert "in 850k" in line and "out 2.0k" in line and "$0.8520" in line
        assert "85% of $1.00 !" in line
        assert app.tracker.has_class("-warning")


async def test_resumed_session_shows_its_earlier_totals(make_app, workspace: Path) -> None:
    app = make_app([{"text": "one", "usage": {"input_tokens": 1234, "output_tokens": 56}}],
                   permission_mode="auto")
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        session_id = app.session.session_id
    again = make_app([], resume=session_id[:8])
    async with again.run_test() as pilot:
        await pilot.pause(0.3)
        assert again.session.session_id == session_id
        assert "in 1.2k · out 56" in again.tracker.line_text().plain
        assert [w.text for w in again.conversation.children if hasattr(w, "text")][:2] == [
            "first", "one"]


async def test_context_window_use_from_the_meter_payload() -> None:
    meter = CostMeter(Prices(), budget_usd=None, context_window=10_000)
    payload = meter.record(Usage(input_tokens=8_100, output_tokens=10), "openai/unpriced-x")
    tracker = TokenTracker()
    tracker.record(payload)
    line = tracker.line_text().plain
    assert "context 81%" in line and "$?" in line  # no known price: cost unknown, not $0


def test_formatting() -> None:
    assert [tokens(n) for n in (999, 1234, 56_789, 2_500_000)] == ["999", "1.2k", "57k", "2.5M"]
    assert [money(c) for c in (None, 0, 0.01234, 12.5)] == ["$?", "$0", "$0.0123", "$12.50"]
    assert bar(0) == "░" * 10 and bar(80) == "█" * 8 + "░" * 2 and bar(150) == "█" * 10
