"""The agent loop against the scripted provider: tools, concurrency, errors, limits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from joiner.core import Approval, ApprovalRequest, ProviderError, ToolError, ToolOutput
from joiner.core.events import Event
from joiner.core.loop import Agent
from joiner.core.messages import ToolSpec, Usage
from joiner.providers.scripted import ScriptedProvider


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events if e.durable]


class CountingMeter:
    def __init__(self, budget_tokens: int | None = None) -> None:
        self.usage = Usage()
        self.budget_tokens = budget_tokens

    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        self.usage = self.usage + usage
        return usage.to_dict()

    def total(self) -> dict[str, Any]:
        return {**self.usage.to_dict(), "cost_usd": 0.0}

    def budget_exceeded(self) -> str | None:
        if self.budget_tokens is not None and self.usage.output_tokens >= self.budget_tokens:
            return "budget reached"
        return None


class EchoArgs(BaseModel):
    text: str
    delay: float = 0.0


class Echo:
    kind = "read"

    def __init__(self, name: str = "echo", kind: str = "read") -> None:
        self.spec = ToolSpec(name, "echo text", EchoArgs.model_json_schema())
        self.kind = kind
        self.started: list[str] = []

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        args = EchoArgs.model_validate(arguments)
        self.started.append(args.text)
        await asyncio.sleep(args.delay)
        if args.text == "boom":
            raise ToolError("boom failed")
        if args.text == "crash":
            raise ZeroDivisionError("division by zero")
        return ToolOutput(args.text.upper())

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None


class Allow:
    def __init__(self, allowed: bool = True) -> None:
        self.allowed = allowed
        self.asked: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> Approval:
        self.asked.append(request)
        return Approval(self.allowed, "" if self.allowed else "not in this mode")


def agent(steps: list[dict], tools=None, approver=None, **kw) -> tuple[Agent, Recorder, Any]:
    provider = ScriptedProvider(steps)
    sink = Recorder()
    return (Agent(provider, tools or [Echo()], approver or Allow(), sink, CountingMeter(), **kw),
            sink, provider)


async def test_answer_without_tools_ends_the_turn() -> None:
    a, sink, _ = agent([{"text": "hello there"}])
    result = await a.run("hi")
    assert result.stop_reason == "end_turn" and result.result == "hello there"
    assert sink.types() == ["user_prompt", "request_start", "assistant_message", "usage"]
    assert "".join(e.data["text"] for e in sink.events if e.type == "text_delta") == "hello there"


async def test_prompt_is_recorded_before_the_model_is_called() -> None:
    a, sink, _ = agent([])  # the script has no answer: the request fails
    result = await a.run("remember me")
    assert sink.events[0].type == "user_prompt"
    assert sink.events[0].data["message"]["text"] == "remember me"
    assert result.stop_reason == "error" and result.is_error


async def test_parallel_tool_calls_return_in_call_order() -> None:
    calls = [{"name": "echo", "arguments": {"text": "slow", "delay": 0.05}},
             {"name": "echo", "arguments": {"text": "fast"}}]
    a, _sink, provider = agent([{"tool_calls": calls}, {"text": "done"}])
    result = await a.run("go")
    assert result.result == "done" and result.num_turns == 2
    tool_msgs = [m for m in provider.requests[1].messages if m.role == "tool"]
    assert [m.text for m in tool_msgs] == ["SLOW", "FAST"]
    echo = a.tools[0]
    assert echo.started == ["slow", "fast"]  # both started before the slow one finished


async def test_bad_tool_calls_become_tool_errors_and_the_run_goes_on() -> None:
    calls = [{"name": "nope", "arguments": {}},
             {"name": "echo", "arguments": "{not json"},
             {"name": "echo", "arguments": {"txt": 1}},
             {"name": "echo", "arguments": {"text": "boom"}},
             {"name": "echo", "arguments": {"text": "crash"}}]
    a, _, provider = agent([{"tool_calls": calls}, {"text": "recovered"}])
    result = await a.run("go")
    assert result.stop_reason == "end_turn" and result.result == "recovered"
    results = [m for m in provider.requests[1].messages if m.role == "tool"]
    assert all(m.is_error for m in results)
    assert "unknown tool 'nope'" in results[0].text and "echo" in results[0].text
    assert "not valid JSON" in results[1].text
    assert "text" in results[2].text and "invalid arguments" in results[2].text
    assert results[3].text == "Error: boom failed"
    assert "ZeroDivisionError" in results[4].text


async def test_refused_write_tells_the_model() -> None:
    writer = Echo("write", kind="edit")
    approver = Allow(False)
    a, _, provider = agent([{"tool_calls": [{"name": "write", "arguments": {"text": "x"}}]},
                            {"text": "ok"}], tools=[writer], approver=approver)
    await a.run("go")
    assert len(approver.asked) == 1 and writer.started == []
    result = next(m for m in provider.requests[1].messages if m.role == "tool")
    assert result.is_error and "not in this mode" in result.text


async def test_max_turns_stops_the_run() -> None:
    step = {"tool_calls": [{"name": "echo", "arguments": {"text": "again"}}]}
    a, _, provider = agent([step, {**step, "text": "x"}, step], max_turns=2)
    result = await a.run("go")
    assert result.stop_reason == "max_turns" and result.is_error
    assert len(provider.requests) == 2


async def test_budget_stops_before_the_next_request() -> None:
    step = {"tool_calls": [{"name": "echo", "arguments": {"text": "a"}}],
            "usage": {"input_tokens": 1, "output_tokens": 100}}
    provider = ScriptedProvider([step, step, step])
    a = Agent(provider, [Echo()], Allow(), Recorder(), CountingMeter(budget_tokens=150))
    result = await a.run("go")
    assert result.stop_reason == "budget" and len(provider.requests) == 2


async def test_repeated_identical_steps_are_stopped_as_a_loop() -> None:
    step = {"tool_calls": [{"name": "echo", "arguments": {"text": "same"}}]}
    a, _, provider = agent([step] * 10)
    result = await a.run("go")
    assert result.stop_reason == "loop"
    assert len(provider.requests) == 5
    assert "[joiner]" in provider.requests[3].messages[-1].text  # the model was warned first


async def test_retryable_errors_are_retried_with_events() -> None:
    class Flaky(ScriptedProvider):
        fails = 2

        async def stream(self, request):
            if self.fails:
                self.fails -= 1
                raise ProviderError(self.name, "429 slow down", retryable=True, retry_after=0)
            async for item in super().stream(request):
                yield item

    sink = Recorder()
    a = Agent(Flaky([{"text": "ok"}]), [], Allow(), sink, CountingMeter())
    result = await a.run("go")
    assert result.result == "ok"
    assert [e.data["attempt"] for e in sink.events if e.type == "retry"] == [1, 2]


async def test_cancel_mid_tool_closes_dangling_calls() -> None:
    step = {"tool_calls": [{"name": "echo", "arguments": {"text": "slow", "delay": 5}}]}
    a, sink, _ = agent([step])
    task = asyncio.ensure_future(a.run("go"))
    await asyncio.sleep(0.1)
    task.cancel()
    result = await task
    assert result.stop_reason == "interrupted"
    closed = [e for e in sink.events if e.type == "tool_result"]
    assert closed and closed[-1].data["message"]["is_error"]


@pytest.mark.parametrize("text", ["", "x" * 1000])
async def test_streamed_text_equals_the_answer(text: str) -> None:
    a, sink, _ = agent([{"text": text}])
    result = await a.run("go")
    assert "".join(e.data["text"] for e in sink.events if e.type == "text_delta") == result.result
