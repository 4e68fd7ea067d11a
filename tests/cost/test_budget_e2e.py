"""As a user would: ``joiner -p`` against the loopback server, prices in config.toml,
``--max-budget-usd``, then ``joiner usage --json`` over the runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

PRICE_TOML = """
[pricing."openai/loop-model"]
input_per_mtok = 3.0
output_per_mtok = 15.0
cache_read_per_mtok = 0.3
cache_write_per_mtok = 3.75

[pricing."anthropic/loop-model"]
input_per_mtok = 3.0
output_per_mtok = 15.0
cache_read_per_mtok = 0.3
cache_write_per_mtok = 3.75
"""
RATES = {"input_tokens": Decimal("3.0"), "output_tokens": Decimal("15.0"),
         "cache_read_tokens": Decimal("0.3"), "cache_write_tokens": Decimal("3.75")}


def cost(usage: dict[str, int]) -> Decimal:
    return sum((usage.get(k, 0) * rate for k, rate in RATES.items()), Decimal(0)) / 10**6


def tool_step(n: int, usage: dict[str, int]) -> dict[str, Any]:
    return {"text": f"step {n}",
            "tool_calls": [{"name": "read_file", "arguments": {"path": "notes.txt",
                                                               "offset": n + 1}}],
            "usage": usage}


class Joiner:
    """Runs the installed ``joiner`` in a workspace with its own JOINER_HOME."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.workspace = tmp_path / "ws"
        self.home.mkdir()
        self.workspace.mkdir()
        (self.home / "config.toml").write_text(PRICE_TOML)
        (self.workspace / "notes.txt").write_text("".join(f"line {i}\n" for i in range(20)))

    def __call__(self, *args: str, server: Any = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
        env["JOINER_HOME"] = str(self.home)
        if server is not None:
            env |= {"OPENAI_API_KEY": "sk-loopback", "ANTHROPIC_API_KEY": "sk-loopback",
                    "OPENAI_BASE_URL": server.openai_base_url,
                    "ANTHROPIC_BASE_URL": server.base_url}
        exe = Path(sys.executable).with_name("joiner")
        return subprocess.run([str(exe), *args], cwd=self.workspace, env=env,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def joiner(tmp_path: Path) -> Joiner:
    return Joiner(tmp_path)


@pytest.mark.parametrize("model, usage", [
    ("openai/loop-model", {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 800}),
    ("anthropic/loop-model", {"input_tokens": 1200, "output_tokens": 300,
                              "cache_read_tokens": 800, "cache_write_tokens": 400}),
])
def test_result_cost_is_the_exact_cost_of_the_reported_tokens(
        joiner: Joiner, loopback: Any, model: str, usage: dict[str, int]) -> None:
    server = loopback([tool_step(1, usage), {"text": "All read.", "usage": usage}])
    done = joiner("-p", "read notes.txt", "--model", model, "--output-format", "json",
                  server=server)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["stop_reason"] == "end_turn" and result["is_error"] is False
    both = {k: 2 * usage.get(k, 0) for k in RATES}
    assert result["usage"] == {**both, "cost_usd": float(2 * cost(usage))}


def test_budget_stops_after_the_request_that_crossed_it(joiner: Joiner, loopback: Any) -> None:
    usage = {"input_tokens": 100_000, "output_tokens": 1000, "cache_read_tokens": 50_000}
    assert cost(usage) == Decimal("0.33")  # per request
    server = loopback([tool_step(n, usage) for n in range(6)] + [{"text": "done"}])
    done = joiner("-p", "read it all", "--model", "openai/loop-model", "--output-format",
                  "json", "--max-budget-usd", "0.7", server=server)
    assert done.returncode == 1
    assert len(server.requests) == 3  # $0.33, $0.66 (94%: warned), $0.99: crossed; no 4th
    result = json.loads(done.stdout)
    assert result["stop_reason"] == "budget" and result["is_error"] is True
    assert result["num_turns"] == 3
    assert result["result"] == (f"Budget of $0.70 reached: spent $0.99. Resume with --resume "
                                f"{result['session_id']} and a higher --max-budget-usd.")
    assert result["usage"]["cost_usd"] == 0.99
    assert "Budget warning: spent $0.66 of $0.70 (94%)" in done.stderr

    # The session stays resumable; its earlier spend counts toward the new budget.
    server2 = loopback([tool_step(n, usage) for n in range(6)] + [{"text": "done"}])
    again = joiner("-p", "go on", "--resume", result["session_id"], "--output-format", "json",
                   "--max-budget-usd", "1.5", server=server2)
    assert again.returncode == 1, again.stderr
    assert len(server2.requests) == 2  # $0.99 + $0.33 + $0.33 = $1.65 >= $1.50
    resumed = json.loads(again.stdout)
    assert resumed["session_id"] == result["session_id"]
    assert resumed["result"].startswith("Budget of $1.50 reached: spent $1.65.")
    assert resumed["usage"]["cost_usd"] == 0.66  # this run's

    # joiner usage adds up both runs, exactly.
    report = json.loads(joiner("usage", "--json").stdout)
    assert report["total"]["requests"] == 5
    assert report["total"]["cost_usd"] == 1.65
    assert report["total"]["input_tokens"] == 500_000
    assert report["by_model"][0]["model"] == "openai/loop-model"
    assert [s["session_id"] for s in report["by_session"]] == [result["session_id"]]


def test_a_budget_already_spent_makes_no_request(joiner: Joiner, loopback: Any) -> None:
    usage = {"input_tokens": 100_000}
    first = loopback([{"text": "ok", "usage": usage}])
    done = joiner("-p", "hi", "--model", "openai/loop-model", "--output-format", "json",
                  server=first)
    session = json.loads(done.stdout)["session_id"]
    second = loopback([{"text": "never", "usage": usage}])
    again = joiner("-p", "more", "--resume", session, "--output-format", "json",
                   "--max-budget-usd", "0.3", server=second)
    assert again.returncode == 1
    assert second.requests == []
    assert json.loads(again.stdout)["stop_reason"] == "budget"


def test_a_server_that_reports_no_usage_gets_an_estimate(joiner: Joiner,
                                                         loopback: Any) -> None:
    server = loopback([{"text": "An answer of some length. " * 20, "no_usage": True}])
    done = joiner("-p", "say something", "--model", "openai/loop-model", "--output-format",
                  "stream-json", server=server)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    usage = next(e for e in events if e["type"] == "usage")
    assert usage["estimated"] is True
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert Decimal(repr(usage["cost_usd"])) == cost(usage)
    assert events[-1]["type"] == "result"
    assert events[-1]["usage"]["cost_usd"] == usage["cost_usd"]


def test_a_model_without_price_reports_null_cost_and_a_note(joiner: Joiner,
                                                            loopback: Any) -> None:
    server = loopback([{"text": "hi", "usage": {"input_tokens": 10, "output_tokens": 2}}])
    done = joiner("-p", "hi", "--model", "openai/unpriced", "--output-format", "json",
                  server=server)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["usage"]["cost_usd"] is None
    assert '[pricing."openai/unpriced"]' in done.stderr


@pytest.mark.parametrize("budget", ["-1", "abc", "0"])
def test_a_bad_budget_is_one_line_and_exit_2(joiner: Joiner, budget: str) -> None:
    done = joiner("-p", "hi", "--model", "openai/loop-model", "--max-budget-usd", budget)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and repr(budget) in done.stderr
    assert "positive number" in done.stderr  # 0 is refused too: it allows no request


def test_a_malformed_price_table_is_one_line_and_exit_2(joiner: Joiner,
                                                        loopback: Any) -> None:
    (joiner.home / "config.toml").write_text(
        '[pricing."openai/loop-model"]\ninput_per_mtok = "three"\noutput_per_mtok = 1\n')
    server = loopback([{"text": "never"}])
    done = joiner("-p", "hi", "--model", "openai/loop-model", server=server)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "input_per_mtok" in done.stderr
    assert server.requests == []
