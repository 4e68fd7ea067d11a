"""Token estimates: bounded, cached, and counting every part of a request."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from joiner.context.estimate import estimate_message, estimate_request, estimate_text
from joiner.core.messages import Message, ModelRequest, ToolCall, ToolSpec


@given(st.text(min_size=1, max_size=400))
def test_an_estimate_is_between_one_and_one_token_a_character(text: str) -> None:
    assert 1 <= estimate_text(text) <= len(text)


@given(st.lists(st.sampled_from(["def", " value", "(x)", ":", "\n", "    ", "12345", "é"]),
                min_size=1, max_size=200))
def test_more_text_never_estimates_fewer_tokens(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert estimate_text(text + "\nreturn value + 1\n") >= estimate_text(text)


def test_code_estimates_denser_than_prose() -> None:
    code = "    if (x[i] != y[j]) { z += 1; }\n" * 50
    prose = "The quick brown fox jumps over the lazy dog and runs away.\n" * 30
    assert len(code) / estimate_text(code) < len(prose) / estimate_text(prose)
    # and chars/4 would say far less for the code than this does
    assert estimate_text(code) > len(code) / 4


def test_a_request_counts_system_tools_messages_and_calls() -> None:
    spec = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {}})
    base = ModelRequest("You are Joiner.", [Message.user("hello")], [])
    with_tools = ModelRequest(base.system, base.messages, [spec])
    assert estimate_request(with_tools) > estimate_request(base)
    call = Message("assistant", "", [ToolCall("c1", "read_file", '{"path": "a.py"}')])
    assert estimate_message(call) > estimate_message(Message("assistant", ""))
