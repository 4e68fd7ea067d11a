"""``--model replay/ID``: a recorded session's model answers, re-run offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from agent_kit import note_call, run_agent

from joiner.core import ProviderError
from joiner.core.messages import ModelRequest, ModelResponse, TextDelta, ToolCallDelta
from joiner.providers import ProviderConfigError, create_provider
from joiner.providers.replay import ReplayProvider
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import open_store


async def _record(answers: list[dict]) -> str:
    with open_store() as store:
        sid = store.create_session("/ws", "scripted/test")
        await run_agent(store, sid, ScriptedProvider(answers), "record this")
    return sid


async def test_replays_the_recorded_answers_in_order(home: Path) -> None:
    long_text = "The notes say hello. " * 10
    sid = await _record([
        {"text": "Checking.", "tool_calls": [note_call("hello", call_id="t1")],
         "usage": {"input_tokens": 120, "output_tokens": 7, "cache_read_tokens": 3}},
        {"text": long_text, "usage": {"input_tokens": 140, "output_tokens": 30}},
    ])
    provider = create_provider(f"replay/{sid[:7]}", {})
    assert isinstance(provider, ReplayProvider) and provider.name == f"replay/{sid}"
    request = ModelRequest("", [], [])
    items = [item async for item in provider.stream(request)]
    assert [type(i) for i in items] == [TextDelta, ToolCallDelta, ModelResponse]
    response = items[-1]
    assert response.message.tool_calls[0].id == "t1" and response.stop_reason == "tool_use"
    assert (response.usage.input_tokens, response.usage.cache_read_tokens) == (120, 3)
    items = [item async for item in provider.stream(request)]
    deltas = [i.text for i in items if isinstance(i, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == long_text
    assert items[-1].usage.output_tokens == 30 and items[-1].stop_reason == "end_turn"
    with pytest.raises(ProviderError, match="recorded 2 model answers; this run asked for "
                                            "answer 3") as info:
        [item async for item in provider.stream(request)]
    assert not info.value.retryable


async def test_a_new_run_reproduces_the_recording(home: Path) -> None:
    script = [{"text": "Checking.", "tool_calls": [note_call("hello")]},
              {"text": "It says HELLO."}]
    sid = await _record(script)
    with open_store() as store:
        fresh = store.create_session("/ws", f"replay/{sid}")
        run = await run_agent(store, fresh, create_provider(f"replay/{sid}", {}), "record this")
        original = [(e.type, e.data.get("message")) for e in store.events(sid)
                    if e.type in ("user_prompt", "assistant_message", "tool_result")]
        replayed = [(e.type, e.data.get("message")) for e in store.events(fresh)
                    if e.type in ("user_prompt", "assistant_message", "tool_result")]
    assert run.stop_reason == "end_turn" and run.result == "It says HELLO."
    assert replayed == original


async def test_a_run_longer_than_the_recording_stops_with_a_clear_error(home: Path) -> None:
    sid = await _record([{"text": "", "tool_calls": [note_call("again")]}, {"text": "Done."}])
    with open_store() as store:
        fresh = store.create_session("/ws", "replay")
        provider = create_provider(f"replay/{sid}", {})
        provider.answers[1].message.tool_calls = provider.answers[0].message.tool_calls  # diverge
        run = await run_agent(store, fresh, provider, "go")
    assert run.stop_reason == "error" and "recorded 2 model answers" in run.result


def test_unknown_or_empty_sessions_are_configuration_errors(home: Path) -> None:
    with pytest.raises(ProviderConfigError, match="no session"):
        create_provider("replay/abcdef", {})
    with open_store() as store:
        sid = store.create_session("/ws", "m")
    with pytest.raises(ProviderConfigError, match="no recorded model answers"):
        create_provider(f"replay/{sid}", {})


def test_replay_reproduces_a_recorded_edit_in_a_fresh_copy(tmp_path: Path, home: Path) -> None:
    """As a user would: record a run that edits calc.py, then re-run it with no server."""
    original = "def add(a, b):\n    return a + b\n"
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        {"text": "Reading.", "tool_calls": [{"name": "read_file",
                                             "arguments": {"path": "calc.py"}}]},
        {"text": "", "tool_calls": [{"name": "edit_file", "arguments": {
            "path": "calc.py", "old_string": "    return a + b\n",
            "new_string": "    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"}}]},
        {"text": "Added mul."},
    ]))

    def run_in(repo: Path, model: str) -> dict:
        repo.mkdir()
        (repo / ".git").mkdir()
        (repo / "calc.py").write_text(original)
        done = subprocess.run(
            [sys.executable, "-m", "joiner", "-p", "Add a mul function to calc.py", "--model",
             model, "--permission-mode", "accept-edits", "--output-format", "json"],
            cwd=repo, capture_output=True, text=True, env={**os.environ}, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    recorded = run_in(tmp_path / "first", f"scripted/{script}")
    script.unlink()  # nothing left to answer but the store
    replayed = run_in(tmp_path / "copy", f"replay/{recorded['session_id'][:10]}")
    edited = (tmp_path / "first" / "calc.py").read_text()
    assert "def mul" in edited
    assert (tmp_path / "copy" / "calc.py").read_text() == edited
    assert replayed["result"] == "Added mul." and replayed["files_modified"] == ["calc.py"]
    assert replayed["session_id"] != recorded["session_id"]
