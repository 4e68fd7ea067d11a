"""The local provider end to end with the real model (Gemma 3 270M in llama.cpp).

These load the real weights once per test process (about 2 s) and generate only a few
tokens each, so they run in CI with the rest of the suite. Marked ``slow`` to be easy to
deselect locally (``-m "not slow"``), never to be skipped in CI.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from joiner.core import Approval, ApprovalRequest, ProviderError
from joiner.core.events import Event
from joiner.core.loop import Agent
from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from joiner.providers import ProviderConfigError, _local_engine, create_provider
from joiner.providers._local_model import model_file
from joiner.providers.local import LoadProgress, LocalProvider, create

SAMPLE = Path(__file__).parents[2] / "benchmarks" / "sample_repo"
READ = ToolSpec("read_file", "Read a file.", {
    "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})
GREP = ToolSpec("grep", "Search.", {
    "type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]})

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return create("gemma3-270m", {"max_answer_tokens": 12})


async def collect(stream: AsyncIterator[StreamItem]) -> tuple[list[StreamItem], ModelResponse]:
    items = [item async for item in stream]
    assert isinstance(items[-1], ModelResponse)
    assert not any(isinstance(i, ModelResponse) for i in items[:-1])
    return items[:-1], items[-1]


def test_create_is_cheap_and_knows_the_window(provider: LocalProvider) -> None:
    fresh = create_provider("local/gemma3-270m")
    assert isinstance(fresh, LocalProvider) and fresh.name == "local/gemma3-270m"
    assert fresh.context_window == 32768
    assert not fresh.loading


async def test_a_real_answer_streams_with_llama_cpp_counts(provider: LocalProvider) -> None:
    request = ModelRequest("", [Message.user("What is the capital of France?")], [])
    deltas, response = await collect(provider.stream(request))
    text = "".join(d.text for d in deltas if isinstance(d, TextDelta))
    assert deltas and text.strip() == response.message.text
    assert "Paris" in text
    assert response.message.role == "assistant" and not response.message.tool_calls
    assert response.model == "local/gemma3-270m"
    assert response.stop_reason in ("end_turn", "max_tokens")
    usage = response.usage
    assert 1 <= usage.output_tokens <= 12 and not usage.estimated
    assert usage.input_tokens + usage.cache_read_tokens > 20  # the whole prompt, in tokens
    assert provider.loaded and not provider.loading


async def test_a_tool_request_becomes_a_parsed_tool_call(provider: LocalProvider) -> None:
    request = ModelRequest("", [Message.user("Show me calc.py")], [READ, GREP])
    deltas, response = await collect(provider.stream(request))
    (call,) = response.message.tool_calls
    assert (call.name, call.parsed_arguments()) == ("read_file", {"path": "calc.py"})
    assert deltas == [ToolCallDelta(0, call.id, call.name, call.arguments)]
    assert response.stop_reason == "tool_use" and response.usage.output_tokens >= 2


async def test_the_same_call_twice_becomes_an_answer(provider: LocalProvider) -> None:
    first = ModelRequest("", [Message.user("Show me calc.py")], [READ])
    _, response = await collect(provider.stream(first))
    call = response.message.tool_calls[0]
    again = ModelRequest("", [*first.messages, response.message,
                              Message.tool_result(call, "     1\tdef add(a, b):")], [READ])
    _, answer = await collect(provider.stream(again))
    assert not answer.message.tool_calls and answer.message.text


class Allow:
    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(True)


class Meter:
    def __init__(self) -> None:
        self.usage = Usage()

    def record(self, usage: Usage, model: str) -> dict[str, object]:
        self.usage = self.usage + usage
        return usage.to_dict()

    def total(self) -> dict[str, object]:
        return {**self.usage.to_dict(), "cost_usd": 0.0}

    def budget_exceeded(self) -> str | None:
        return None


async def test_the_agent_loop_reads_a_file_and_answers(provider: LocalProvider,
                                                       tmp_path: Path) -> None:
    from joiner.tools import builtin_tools
    from joiner.workspace.guard import Workspace

    root = tmp_path / "repo"
    shutil.copytree(SAMPLE, root)
    events: list[Event] = []
    sink = type("Sink", (), {"emit": lambda self, e: events.append(e)})()
    agent = Agent(provider, builtin_tools(Workspace(root)), Allow(), sink, Meter(),
                  max_turns=3)
    result = await agent.run("What does calc.py define?")
    calls = [c for m in result.messages for c in m.tool_calls]
    assert calls and calls[0].name == "read_file"
    assert calls[0].parsed_arguments() == {"path": "calc.py"}
    tool_results = [m for m in result.messages if m.role == "tool"]
    assert "def add" in tool_results[0].text and not tool_results[0].is_error
    assert result.stop_reason == "end_turn" and result.result.strip()
    assert result.usage["output_tokens"] > 0


async def test_stopping_the_stream_early_frees_the_model(provider: LocalProvider) -> None:
    long = LocalProvider("gemma3-270m", {"max_answer_tokens": 200})
    request = ModelRequest("", [Message.user("Write a long story about a dragon.")], [])
    stream = long.stream(request)
    async for item in stream:
        if isinstance(item, TextDelta):
            break
    await stream.aclose()
    short = ModelRequest("", [Message.user("Say hi.")], [])
    _, response = await asyncio.wait_for(collect(provider.stream(short)), timeout=120)
    assert response.usage.output_tokens <= 12


async def test_the_event_loop_keeps_running_while_it_generates(provider: LocalProvider) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        request = ModelRequest("", [Message.user("Count from one to ten.")], [])
        seen_at: list[int] = []
        async for item in provider.stream(request):
            if isinstance(item, TextDelta):
                seen_at.append(ticks)
    finally:
        task.cancel()
    assert len(seen_at) >= 2 and seen_at[-1] > seen_at[0]  # ticks between tokens


async def test_concurrent_requests_share_the_one_model(provider: LocalProvider) -> None:
    other = LocalProvider("gemma3-270m", {"max_answer_tokens": 6})
    requests = [ModelRequest("", [Message.user(q)], []) for q in ("Say yes.", "Say no.")]
    (_, first), (_, second) = await asyncio.gather(
        collect(provider.stream(requests[0])), collect(other.stream(requests[1])))
    assert first.message.text and second.message.text
    assert provider._options == other._options  # one engine, loaded once


async def test_load_reports_its_phases(provider: LocalProvider) -> None:
    phases: list[str] = []
    fresh = LocalProvider("gemma3-270m", {"max_answer_tokens": 12})
    fresh.on_load_progress = lambda p: phases.append(p.phase)
    await fresh.load()
    # the weights are already in this process: no phases, or all of them in order
    assert phases in ([], ["preparing", "loading", "ready"])
    reports: list[tuple[str, float]] = []
    fresh._prepare_and_load(lambda phase, fraction, message: reports.append((phase, fraction)))
    assert [r[0] for r in reports] == ["preparing", "loading"]
    assert isinstance(LoadProgress("ready", 1.0, "", 0.0).fraction, float)


def test_unknown_local_models_and_bad_settings_are_config_errors() -> None:
    with pytest.raises(ProviderConfigError, match="local/gemma3-270m"):
        create("llama-70b", {})
    with pytest.raises(ProviderConfigError, match="threads"):
        create("gemma3-270m", {"threads": "many"})


async def errors_of(settings: dict[str, object]) -> ProviderError:
    provider = LocalProvider("gemma3-270m", settings)
    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(ModelRequest("", [Message.user("hi")], [])))
    error = caught.value
    assert not error.retryable and "\n" not in str(error)
    assert "--model openai/" in str(error) and "OPENAI_API_KEY" in str(error)
    return error


async def test_a_missing_model_file_is_one_clear_line(tmp_path: Path) -> None:
    error = await errors_of({"model_path": str(tmp_path / "nope.gguf")})
    assert "does not exist" in str(error)


async def test_a_corrupt_model_file_is_one_clear_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    with model_file("gemma3-270m").open("rb") as f:
        broken.write_bytes(f.read(8_000_000))  # the header is fine, the tensors are cut
    error = await errors_of({"model_path": str(broken)})
    assert "could not load the model file" in str(error)


async def test_too_little_memory_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_local_engine, "available_memory", lambda: 50 * 1024 * 1024)
    error = await errors_of({"threads": 1})  # threads=1: an engine this process has not loaded
    assert "not enough memory" in str(error) and "50 MB are available" in str(error)


async def test_an_unsupported_cpu_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_local_engine, "missing_cpu_features", lambda info: ["AVX2"])
    error = await errors_of({"threads": 1})
    assert "this CPU lacks AVX2" in str(error)
