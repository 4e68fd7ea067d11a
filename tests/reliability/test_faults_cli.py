"""Issue #9's "done when", as a user sees it: ``joiner -p`` in a subprocess against the loopback
server, on both wire formats. Retry waits are tiny (``[retry]`` in the test's config.toml,
``Retry-After`` 0 or 1)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from reliability_kit import WIRES, Joiner, error_lines, no_traceback

CUT = {"text": "The answer starts well and then the line drops.", "cut_after_chars": 12}
BAD_CALLS = [
    {"name": "no_such_tool", "arguments": {"path": "notes.txt"}},  # unknown tool
    {"name": "read_file", "arguments": '{"path": "notes.txt"'},  # not JSON
    {"name": "read_file", "arguments": {"path": 42, "offset": "ten"}},  # fails the schema
]


def model(wire: str) -> str:
    return f"{wire}/loop-model"


@pytest.mark.parametrize("wire", WIRES)
def test_two_429s_with_retry_after_then_success_takes_exactly_three_requests(
        joiner: Joiner, loopback: Any, wire: str) -> None:
    server = loopback([{"status": 429, "headers": {"Retry-After": "0"}},
                       {"status": 429, "headers": {"Retry-After": "1"}},
                       {"text": "Here after two refusals."}])
    started = time.monotonic()
    done, events = joiner.stream("-p", "say hi", "--model", model(wire), server=server)
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 3
    assert time.monotonic() - started >= 1.0  # the server's "Retry-After: 1" was honoured
    retries = [e for e in events if e["type"] == "retry"]
    assert [(r["attempt"], r["status"], r["wait_s"]) for r in retries] == [(1, 429, 0), (2, 429, 1)]
    result = events[-1]
    assert result["type"] == "result" and result["result"] == "Here after two refusals."
    assert result["is_error"] is False and result["num_turns"] == 1
    # the retries are in the session too
    stored = [e["data"] for e in joiner.events(result["session_id"]) if e["type"] == "retry"]
    assert [r["attempt"] for r in stored] == [1, 2]


@pytest.mark.parametrize("wire", WIRES)
def test_a_single_500_is_retried(joiner: Joiner, loopback: Any, wire: str) -> None:
    server = loopback([{"status": 500}, {"text": "Fine now."}])
    done, result = joiner.run_json("-p", "say hi", "--model", model(wire), server=server)
    assert done.returncode == 0, done.stderr
    assert result["result"] == "Fine now." and len(server.requests) == 2
    assert "retrying in" in done.stderr and "500" in done.stderr


@pytest.mark.parametrize("wire", WIRES)
def test_a_400_is_not_retried_and_names_the_provider(joiner: Joiner, loopback: Any,
                                                      wire: str) -> None:
    server = loopback([{"status": 400}, {"text": "never"}])
    done = joiner("-p", "say hi", "--model", model(wire), server=server)
    assert done.returncode == 1 and len(server.requests) == 1
    no_traceback(done)
    [line] = error_lines(done.stderr)
    assert line.startswith(f"joiner: {wire}: 400 loopback: scripted 400")
    assert "retrying" not in done.stderr


@pytest.mark.parametrize("wire", WIRES)
def test_a_stream_cut_every_time_ends_within_the_retry_budget(joiner: Joiner, loopback: Any,
                                                               wire: str) -> None:
    server = loopback([CUT] * 4 + [{"text": "never reached"}])
    started = time.monotonic()
    done = joiner("-p", "tell me everything", "--model", model(wire), server=server)
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    assert len(server.requests) == 4  # the default 4 attempts, then stop
    no_traceback(done)
    lines = error_lines(done.stderr)
    assert len(lines) == 1, done.stderr  # one line: what happened and how to resume
    assert "cut mid-answer (gave up after 4 attempts)" in lines[0]
    session_id = lines[0].rsplit("joiner --resume ", 1)[1]
    assert done.stderr.count("retrying in") == 3

    shown = joiner.session(session_id)
    assert shown["messages"][0] == {"role": "user", "text": "tell me everything"}
    assert shown["status"] == "error"
    partials = [e["data"] for e in joiner.events(session_id) if e["type"] == "assistant_partial"]
    assert [p["text"] for p in partials] == ["The answer s"] * 4  # kept, each attempt's own

    # resumable: the next run in the session sends the prompt again with the new one
    again = loopback([{"text": "Complete this time."}])
    done2, result = joiner.run_json("-p", "please go on", "--resume", session_id[:10],
                                    "--model", model(wire), server=again)
    assert done2.returncode == 0 and result["session_id"] == session_id
    sent = json.dumps(again.requests[0].body["messages"])
    assert "tell me everything" in sent and "please go on" in sent


@pytest.mark.parametrize("wire", WIRES)
def test_a_stream_cut_every_time_in_json_is_an_error_result(joiner: Joiner, loopback: Any,
                                                             wire: str) -> None:
    server = loopback([CUT] * 4)
    done, result = joiner.run_json("-p", "tell me", "--model", model(wire), server=server)
    assert done.returncode == 1
    assert result["is_error"] is True and result["stop_reason"] == "error"
    assert result["result"] == (f"{wire}: the connection was cut mid-answer "
                                "(gave up after 4 attempts)")


@pytest.mark.parametrize("wire", WIRES)
def test_a_malformed_chunk_gives_no_traceback(joiner: Joiner, loopback: Any, wire: str) -> None:
    malformed = {"text": "Some words before the garbage.", "malformed": True}
    server = loopback([malformed, {"text": "Clean answer."}])
    done, events = joiner.stream("-p", "hi", "--model", model(wire), server=server)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    [retry] = [e for e in events if e["type"] == "retry"]
    assert retry["error"].startswith("malformed chunk from the server")
    assert events[-1]["result"] == "Clean answer."

    always = loopback([malformed] * 4)
    failed = joiner("-p", "hi", "--model", model(wire), server=always)
    assert failed.returncode == 1
    no_traceback(failed)
    [line] = error_lines(failed.stderr)
    assert "malformed chunk from the server" in line and "gave up after 4 attempts" in line


@pytest.mark.parametrize("wire", WIRES)
def test_a_stalled_stream_counts_as_cut(joiner: Joiner, loopback: Any, wire: str) -> None:
    config = joiner.home / "config.toml"
    config.write_text(config.read_text().replace("[retry]\n", "[retry]\nidle_timeout = 0.5\n"))
    server = loopback([{"text": "Hmm, let me think", "stall_s": 30}, {"text": "Thought it over."}])
    started = time.monotonic()
    done, events = joiner.stream("-p", "think", "--model", model(wire), server=server)
    assert time.monotonic() - started < 15
    assert done.returncode == 0, done.stderr
    [retry] = [e for e in events if e["type"] == "retry"]
    assert "stalled: no data for 0.5s" in retry["error"]
    assert events[-1]["result"] == "Thought it over."


@pytest.mark.parametrize("wire", WIRES)
def test_three_bad_tool_calls_in_one_turn_are_three_tool_errors(joiner: Joiner, loopback: Any,
                                                                wire: str) -> None:
    server = loopback([{"text": "Trying things.", "tool_calls": BAD_CALLS},
                       {"text": "Done despite the errors."}])
    done, events = joiner.stream("-p", "read the notes", "--model", model(wire), server=server)
    assert done.returncode == 0, done.stderr
    no_traceback(done)
    results = [e for e in events if e["type"] == "tool_result"]
    assert [r["is_error"] for r in results] == [True, True, True]
    unknown, not_json, schema = (r["content"] for r in results)
    assert "unknown tool 'no_such_tool'" in unknown and "read_file" in unknown
    assert "not valid JSON" in not_json
    assert "invalid arguments for read_file" in schema and "path" in schema
    assert events[-1]["result"] == "Done despite the errors."
    sent = json.dumps(server.requests[1].body["messages"])
    assert "unknown tool" in sent and "not valid JSON" in sent and "invalid arguments" in sent


@pytest.mark.parametrize("wire", WIRES)
def test_a_scripted_loop_is_noted_then_stopped(joiner: Joiner, loopback: Any, wire: str) -> None:
    # the same call with the same result; the text changes, which does not hide the loop
    server = loopback([{"text": f"Reading the notes (try {n}).", "tool_calls": [
        {"name": "read_file", "arguments": {"path": "notes.txt"}}]} for n in range(10)])
    done, events = joiner.stream("-p", "read", "--model", model(wire), server=server)
    assert done.returncode == 1
    result = events[-1]
    assert result["stop_reason"] == "loop" and result["is_error"] is True
    assert result["result"] == "Stopped: the model repeated the same step without progress."
    assert len(server.requests) == 5
    [note] = [e for e in events if e["type"] == "loop_note"]
    assert note["tool_call_id"] == "call_3_0"
    assert "[joiner] You have repeated the same step" in json.dumps(server.requests[3].body)
    assert "[joiner]" not in json.dumps(server.requests[2].body)
    stored = [e["type"] for e in joiner.events(result["session_id"])]
    assert stored.count("loop_note") == 1 and stored[-1] == "error"
