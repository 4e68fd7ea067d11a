"""The Anthropic Messages client against the loopback server (real HTTP and SSE)."""

from __future__ import annotations

import json

import pytest
from providers_support import READ_FILE, client, request, run, streamed_text

from joiner.core.messages import Message, ToolCall, ToolCallDelta, Usage
from joiner.providers import ProviderConfigError, anthropic, create_provider


async def test_text_answer_streams_and_usage_is_exact_with_cache_tokens(loopback):
    server = loopback([{"text": "Sure: mul is added.", "gap_s": 0.01, "usage": {
        "input_tokens": 21, "output_tokens": 380, "cache_read_tokens": 15000,
        "cache_write_tokens": 1200}}])
    deltas, response = await run(client("anthropic", server))

    assert len(deltas) > 3
    assert streamed_text(deltas) == "Sure: mul is added."
    assert response.message.text == "Sure: mul is added."
    assert response.stop_reason == "end_turn"
    # input and cache counts from message_start; output from message_delta (not its 1)
    assert response.usage == Usage(21, 380, 15000, 1200)
    assert response.model == "anthropic/claude-test"


async def test_request_is_a_messages_request(loopback):
    server = loopback(["ok"], api_key="sk-ant-right")
    await run(client("anthropic", server, api_key="sk-ant-right", max_tokens=1000),
              request("Add mul", system="Be brief."))

    (sent,) = server.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "x-api-key" not in sent.headers  # sent (the server checked it), not recorded
    assert sent.body["model"] == "claude-test"
    assert sent.body["stream"] is True
    assert sent.body["max_tokens"] == 1000
    assert sent.body["system"] == "Be brief."
    assert sent.body["tools"] == [{"name": "read_file", "description": READ_FILE.description,
                                   "input_schema": READ_FILE.parameters}]
    assert sent.body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Add mul", "cache_control": {"type": "ephemeral"}}]}]


async def test_several_tool_calls_from_input_json_deltas(loopback):
    args = [{"path": "a.py"}, {"pattern": "def mul", "glob": "*.py"}]
    server = loopback([{"chunk_chars": 2, "gap_s": 0.002, "tool_calls": [
        {"name": "read_file", "arguments": args[0]}, {"name": "grep", "arguments": args[1]}]}])
    deltas, response = await run(client("anthropic", server))

    call_deltas = [d for d in deltas if isinstance(d, ToolCallDelta)]
    assert len(call_deltas) > 20
    assert {d.index for d in call_deltas} == {0, 1}  # block indexes renumbered from 0
    calls = response.message.tool_calls
    assert [c.name for c in calls] == ["read_file", "grep"]
    assert [json.loads(c.arguments) for c in calls] == args
    assert [c.id for c in calls] == ["call_1_0", "call_1_1"]
    assert response.message.text == ""
    assert response.stop_reason == "tool_use"


async def test_no_usage_reported_gives_a_marked_estimate(loopback):
    server = loopback([{"text": "abcd" * 30, "no_usage": True}])
    _, response = await run(client("anthropic", server))
    assert response.usage.estimated is True
    assert response.usage.output_tokens == 30
    assert response.usage.input_tokens > 0


async def test_a_whole_json_answer_is_read(loopback):
    server = loopback([{"text": "whole", "no_stream": True, "usage": {
        "input_tokens": 3, "output_tokens": 4, "cache_write_tokens": 5},
        "tool_calls": [{"name": "read_file", "arguments": {"path": "b"}}]}])
    deltas, response = await run(client("anthropic", server))
    assert deltas == []
    assert response.message.text == "whole"
    assert json.loads(response.message.tool_calls[0].arguments) == {"path": "b"}
    assert response.usage == Usage(3, 4, 0, 5)
    assert response.stop_reason == "tool_use"


async def test_tool_results_are_grouped_into_one_user_message(loopback):
    calls = [ToolCall("toolu_1", "read_file", '{"path": "a"}'),
             ToolCall("toolu_2", "read_file", "not json{"),
             ToolCall("toolu_3", "read_file", "[1, 2]")]
    history = [
        Message.user("Look"),
        Message("assistant", "Reading three.", calls),
        Message.tool_result(calls[0], "A"),
        Message.tool_result(calls[1], "bad arguments", is_error=True),
        Message.tool_result(calls[2], ""),
    ]
    server = loopback(["done"])
    await run(client("anthropic", server, prompt_cache=False), request("Next", history=history))

    assert server.requests[0].body["messages"] == [
        {"role": "user", "content": "Look"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Reading three."},
            {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a"}},
            {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {}},
            {"type": "tool_use", "id": "toolu_3", "name": "read_file", "input": {}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "A"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "bad arguments",
             "is_error": True},
            {"type": "tool_result", "tool_use_id": "toolu_3"},
        ]},
        {"role": "user", "content": "Next"},
    ]


def test_cache_breakpoint_sits_on_the_last_block():
    call = ToolCall("t1", "read_file", "{}")
    wire = anthropic.to_wire([Message.user("a"), Message("assistant", "", [call]),
                              Message.tool_result(call, "r")], cache=True)
    assert wire[-1]["content"][-1] == {"type": "tool_result", "tool_use_id": "t1",
                                       "content": "r", "cache_control": {"type": "ephemeral"}}
    assert "cache_control" not in json.dumps(wire[:-1])


def test_an_empty_answer_is_not_sent_back():
    wire = anthropic.to_wire([Message.user("a"), Message("assistant", ""), Message.user("b")])
    assert wire == [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]


def test_missing_key_is_a_config_error_even_with_a_base_url(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(ProviderConfigError) as info:
        create_provider("anthropic/claude-sonnet-4-5", {})
    assert str(info.value) == (
        "no ANTHROPIC_API_KEY set: export it, or choose another model with --model")


def test_base_url_and_key_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    provider = create_provider("anthropic/claude-sonnet-4-5", {})
    assert provider.name == "anthropic/claude-sonnet-4-5"
    assert provider.url() == "http://127.0.0.1:9/v1/messages"
    assert provider.headers()["x-api-key"] == "sk-ant-env"
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert anthropic.create("m", {}).url() == "https://api.anthropic.com/v1/messages"
