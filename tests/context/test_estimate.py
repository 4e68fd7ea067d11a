"""Token estimates: bounded, cached, and counting every part of a request."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from joiner.context.estimate import estimate_message, estimate_request, estimate_text
from joiner.core.messages import Message, ModelRequest, ToolCall, ToolSpec
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace


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


def _samples() -> dict[str, list[str]]:
    """Real text of the kinds a session holds: code, read_file output, prose, JSON, grep."""
    import joiner

    package = Path(joiner.__file__).parent
    code = [p.read_text() for p in sorted(package.rglob("*.py"))[:40]]
    numbered = ["".join(f"{i + 1:6}\t{line}\n" for i, line in enumerate(text.splitlines()))
                for text in code[:20]]
    prose = [(Path(__file__).parents[2] / "README.md").read_text()]
    schemas = [json.dumps(json_schema, indent=2) for json_schema in
               (t.spec.parameters for t in builtin_tools(Workspace(package)))]
    grep = ["\n".join(f"src/pkg{i % 7}/mod{i}.py:{i * 13}:    result = compute_{i}(value, "
                      f"limit={i})" for i in range(300))]
    return {"code": code, "read_file": numbered, "prose": prose, "json": schemas,
            "grep": grep}


def test_the_estimate_tracks_openais_tokenizers() -> None:
    import bpe_openai

    o200k = bpe_openai.get_encoding("o200k_base")
    cl100k = bpe_openai.get_encoding("cl100k_base")
    for kind, texts in _samples().items():
        estimate = sum(estimate_text(t) for t in texts)
        real = sum(len(o200k.encode(t)) for t in texts)
        chars = sum(len(t) for t in texts)
        # within -10% / +40% of o200k on each kind of text, never far under on one text
        assert 0.9 <= estimate / real <= 1.4, (kind, estimate / real)
        for text in texts:
            most = max(len(o200k.encode(text)), len(cl100k.encode(text)))
            assert estimate_text(text) >= 0.8 * most, (kind, text[:80])
        # and better than characters / 4 where that is far off (JSON, search output)
        assert abs(estimate / real - 1) <= abs(chars / 4 / real - 1) + 0.12, kind
