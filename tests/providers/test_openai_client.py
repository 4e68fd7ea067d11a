"""The OpenAI Chat Completions client against the loopback server (real HTTP and SSE)."""

from __future__ import annotations

import json

import httpx
import pytest
from providers_support import READ_FILE, client, request, run, streamed_text

from joiner.core.messages import Message, ToolCall, ToolCallDelta, Usage
from joiner.providers import ProviderConfigError, create_provider, openai


async def test_text_answer_streams_and_usage_is_exact(loopback):
    server = loopback([{"text": "The answer is 42, as computed.", "gap_s": 0.01,
                        "usage": {"input_tokens": 1200, "output_tokens": 9}}])
    deltas, response = await run(client("openai", server))

    assert len(deltas) > 3  # really streamed, in pieces
    assert streamed_text(deltas) == "The answer is 42, as computed."
    assert response.message.role == "assistant"
    assert response.message.text == "The answer is 42, as computed."
    assert response.message.tool_calls == []
    assert response.stop_reason == "end_turn"
    assert response.usage == Usage(input_tokens=1200, output_tokens=9)
    assert response.model == "openai/gpt-test"


async def test_request_is_chat_completions_with_usage_asked(loopback):
    server = loopback(["ok"])
    await run(client("openai", server, max_tokens=333), request("Add mul", system="Be brief."))

    (sent,) = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "gpt-test"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_tokens"] == 333  # a compatible server: the classic key
    assert sent.body["messages"] == [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Add mul"}]
    assert sent.body["tools"] == [{"type": "function", "function": {
        "name": "read_file", "description": READ_FILE.description,
        "parameters": READ_FILE.parameters}}]
    assert "authorization" not in sent.headers  # the recorder drops credentials


async def test_key_is_sent_as_bearer(loopback):
    server = loopback(["ok"], api_key="sk-right")
    _, response = await run(client("openai", server, api_key="sk-right"))
    assert response.message.text == "ok"


async def test_several_tool_calls_with_arguments_split_across_many_deltas(loopback):
    args = [{"path": "src/calc.py"}, {"path": "tests/test_calc.py", "limit": 20}]
    server = loopback([{"text": "Reading both.", "chunk_chars": 1, "gap_s": 0.002, "tool_calls": [
        {"name": "read_file", "arguments": args[0]},
        {"name": "read_file", "arguments": json.dumps(args[1])}]}])
    deltas, response = await run(client("openai", server))

    call_deltas = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert len(call_deltas) > 40  # one character of arguments per delta
    assert {d.index for d in call_deltas} == {0, 1}
    calls = response.message.tool_calls
    assert [c.name for c in calls] == ["read_file", "read_file"]
    assert [json.loads(c.arguments) for c in calls] == args
    assert calls[0].id != calls[1].id and all(c.id for c in calls)
    assert response.message.text == "Reading both."
    assert response.stop_reason == "tool_use"


async def test_cached_prompt_tokens_are_counted_apart(loopback):
    # OpenAI's prompt_tokens includes the cached ones; Usage keeps them apart.
    server = loopback([{"text": "ok", "usage": {"input_tokens": 300, "output_tokens": 12,
                                                "cache_read_tokens": 4000}}])
    _, response = await run(client("openai", server))
    assert response.usage == Usage(input_tokens=300, output_tokens=12, cache_read_tokens=4000)
    assert response.usage.estimated is False


async def test_no_usage_reported_gives_a_marked_estimate(loopback):
    text = "x" * 400
    server = loopback([{"text": text, "no_usage": True}])
    _, response = await run(client("openai", server), request("y" * 2000))
    assert response.usage.estimated is True
    assert response.usage.output_tokens == 100  # 400 characters / 4
    assert 500 <= response.usage.input_tokens < 800  # the 2,000-char prompt plus the JSON around
    assert response.usage.cache_read_tokens == 0


async def test_a_server_that_ignores_stream_is_read_whole(loopback):
    server = loopback([{"text": "whole", "no_stream": True, "usage": {
        "input_tokens": 5, "output_tokens": 2, "cache_read_tokens": 1},
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a"}}]}])
    deltas, response = await run(client("openai", server))
    assert deltas == []
    assert response.message.text == "whole"
    assert response.message.tool_calls[0].name == "read_file"
    assert json.loads(response.message.tool_calls[0].arguments) == {"path": "a"}
    assert response.usage == Usage(5, 2, 1)
    assert response.stop_reason == "tool_use"


async def test_conversation_with_tool_results_goes_out_in_openai_shape(loopback):
    call = ToolCall("call_7", "read_file", '{"path": "calc.py"}')
    history = [Message.user("Fix calc"), Message("assistant", "", [call]),
               Message.tool_result(call, "def add(a, b): ...", is_error=False)]
    server = loopback(["done"])
    await run(client("openai", server), request("Go on", history=history))

    messages = server.requests[0].body["messages"]
    assert messages[1:] == [
        {"role": "user", "content": "Fix calc"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_7", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "calc.py"}'}}]},
        {"role": "tool", "tool_call_id": "call_7", "content": "def add(a, b): ..."},
        {"role": "user", "content": "Go on"},
    ]


def test_official_api_gets_max_completion_tokens(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    provider = openai.create("gpt-4.1", {"api_key": "k"})
    body = provider.body(request())
    assert body["max_completion_tokens"] == 8192 and "max_tokens" not in body
    assert provider.url() == "https://api.openai.com/v1/chat/completions"


def test_missing_key_is_a_config_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ProviderConfigError) as info:
        create_provider("openai/gpt-4.1", {})
    assert str(info.value) == (
        "no OPENAI_API_KEY set: export it, or choose another model with --model")


async def test_local_server_needs_no_key_and_gets_no_auth_header(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    seen: list[httpx.Request] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"choices": [
            {"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]})

    provider = openai.create("llama3", {}, transport=httpx.MockTransport(answer))
    _, response = await run(provider)
    assert response.message.text == "hi"
    assert str(seen[0].url) == "http://localhost:11434/v1/chat/completions"
    assert "authorization" not in seen[0].headers


def test_settings_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.invalid/v1/")
    assert openai.create("m", {}).url() == "http://env.invalid/v1/chat/completions"
    provider = openai.create("m", {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-set"})
    assert provider.url() == "http://127.0.0.1:9/v1/chat/completions"
    assert provider.headers() == {"authorization": "Bearer sk-set"}
    assert "sk-set" not in repr(provider.config)


def test_a_base_url_without_scheme_is_a_config_error(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434/v1")
    with pytest.raises(ProviderConfigError, match="OPENAI_BASE_URL"):
        openai.create("m", {"api_key": "k"})
