"""The loopback server itself, spoken to with plain httpx (no Joiner client in between)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from joiner.testing.loopback import LoopbackServer

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant"}


def test_whole_answers_in_both_formats_and_requests_recorded(loopback):
    server = loopback([{"text": "one", "usage": {"input_tokens": 3, "output_tokens": 1}},
                       {"text": "two", "tool_calls": [{"name": "f", "arguments": {"a": 1}}]}])
    with httpx.Client() as http:
        first = http.post(f"{server.openai_base_url}/chat/completions", json=CHAT,
                          headers={"authorization": "Bearer sk-x", "x-trace": "1"}).json()
        second = http.post(f"{server.base_url}/v1/messages", json=MESSAGES,
                           headers=ANTHROPIC_HEADERS).json()

    assert first["choices"][0]["message"]["content"] == "one"
    assert first["usage"]["prompt_tokens"] == 3
    assert second["content"] == [{"type": "text", "text": "two"}, {
        "type": "tool_use", "id": "call_2_0", "name": "f",
        "input": {"a": 1}}]
    assert second["stop_reason"] == "tool_use"
    assert second["usage"]["output_tokens"] == 5  # the ScriptedProvider's default usage
    assert [r.path for r in server.requests] == ["/v1/chat/completions", "/v1/messages"]
    assert server.requests[0].body == CHAT
    assert server.requests[0].headers["x-trace"] == "1"
    assert "authorization" not in server.requests[0].headers
    assert "x-api-key" not in server.requests[1].headers


def test_a_stream_is_server_sent_events_one_per_delta(loopback):
    server = loopback([{"text": "abcdefgh", "chunk_chars": 2}])
    with httpx.Client() as http, http.stream(
            "POST", f"{server.openai_base_url}/chat/completions",
            json={**CHAT, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    texts = [json.loads(line[6:])["choices"][0]["delta"].get("content") for line in lines[:-1]]
    assert texts == ["", "ab", "cd", "ef", "gh", None]  # no usage chunk: it was not asked for


def test_wrong_routes_and_requests_are_refused(loopback):
    server = loopback(["unused"], repeat=True)
    with httpx.Client() as http:
        assert http.post(f"{server.base_url}/v2/other", json={}).status_code == 404
        no_version = http.post(f"{server.base_url}/v1/messages", json=MESSAGES)
        assert no_version.status_code == 400
        assert "anthropic-version" in no_version.json()["error"]["message"]
        not_json = http.post(f"{server.openai_base_url}/chat/completions", content=b"{nope")
        assert not_json.status_code == 400
    assert len(server.requests) == 3  # recorded all the same


def test_repeat_serves_the_script_again(loopback):
    server = loopback(["a", "b"], repeat=True)
    with httpx.Client() as http:
        texts = [http.post(f"{server.openai_base_url}/chat/completions", json=CHAT)
                 .json()["choices"][0]["message"]["content"] for _ in range(5)]
    assert texts == ["a", "b", "a", "b", "a"]


def test_run_from_the_command_line(tmp_path):
    script = tmp_path / "steps.json"
    script.write_text(json.dumps([{"text": "from the shell"}]))
    record = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "joiner.testing.loopback", "--script", str(script),
         "--record", str(record)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        answer = httpx.post(f"{base_url}/v1/messages", json=MESSAGES, headers=ANTHROPIC_HEADERS)
        assert answer.json()["content"][0]["text"] == "from the shell"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    (line,) = record.read_text().splitlines()
    recorded = json.loads(line)
    assert recorded["body"] == MESSAGES and "x-api-key" not in recorded["headers"]


def test_context_manager_frees_the_port():
    with LoopbackServer(["x"]) as server:
        port = server.port
        assert httpx.post(f"{server.openai_base_url}/chat/completions", json=CHAT).is_success
    try:
        httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=CHAT, timeout=2)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("the server still answers after it was stopped")
