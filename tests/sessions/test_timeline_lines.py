"""The timeline's one line per event (``joiner replay --headless``): readable for every kind."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from session_events import answer, prompt, result, usage

from joiner.context.compaction import CompactionRecord, event_data
from joiner.core import events as kinds
from joiner.core.events import Event
from joiner.core.messages import Message
from joiner.sessions.timeline import summarize


def _compaction(**changes: object) -> Event:
    record = CompactionRecord(["Add mul to calc.py"], ["calc.py", "notes.md"], "Read calc.py.")
    data = event_data(reason="auto", replaced=12, message=Message("user", "summary"),
                      record=record, tokens_before=48210, tokens_after=9004, window=64000,
                      summarized_by="model")
    return Event(kinds.COMPACTION, {**data, **changes})


def test_a_compaction_is_one_readable_line() -> None:
    assert summarize(_compaction()) == (
        "12 messages summarised (auto, by the model), ~48,210 → ~9,004 tokens, "
        "2 changed files kept")
    plain = _compaction(reason="manual", summarized_by="plain", files_changed=[])
    assert summarize(plain) == (
        "12 messages summarised (manual, as a plain list), ~48,210 → ~9,004 tokens")


def test_undo_and_redo_name_the_change_set_and_files() -> None:
    begin = Event(kinds.UNDO, {"phase": "begin", "change_set": "3f2a1c9d8e7b6a5f4e3d",
                               "prompt": "Add mul", "force": False,
                               "files": ["calc.py", "notes.md"]})
    done = Event(kinds.REDO, {"phase": "done", "change_set": "3f2a1c9d8e7b6a5f4e3d",
                              "force": True, "resumed": False,
                              "files": [{"path": "calc.py", "action": "restore"}],
                              "stat": {"files": 1, "added": 3, "removed": 1}})
    assert summarize(begin) == "begin 3f2a1c9d8e7b: 2 files (calc.py, notes.md) of 'Add mul'"
    assert summarize(done) == "done 3f2a1c9d8e7b: 1 file (calc.py), +3 -1 [forced]"


# every stored kind, with the payload its writer gives it (see joiner.core.events)
STORED = [
    Event(kinds.SESSION_START, {"workspace": "/w", "model": "openai/m",
                                "permission_mode": "default"}),
    prompt("hi"), answer("hello", [("c1", "read_file", {"path": "a.py"})]),
    Event(kinds.REQUEST_START, {"turn": 1, "model": "openai/m"}),
    Event(kinds.ASSISTANT_PARTIAL, {"text": "hel", "error": "connection reset"}),
    usage(10, 5, 0.001),
    Event(kinds.TOOL_CALL, {"id": "c1", "name": "read_file", "arguments": '{"path": "a.py"}'}),
    Event(kinds.APPROVAL, {"id": "c1", "name": "run_shell", "decision": "deny",
                           "reason": "headless", "diff": None}),
    result("c1", "read_file", "x = 1", files_read=["a.py"]),
    Event(kinds.LOOP_NOTE, {"tool_call_id": "c1", "note": "the same call thrice"}),
    Event(kinds.RETRY, {"attempt": 1, "wait_s": 2.0, "error": "429"}),
    Event(kinds.WARNING, {"message": "careful"}), Event(kinds.ERROR, {"message": "boom"}),
    Event(kinds.RESULT, {"session_id": "s", "result": "done", "is_error": False,
                         "num_turns": 1, "usage": {"input_tokens": 1}, "files_modified": [],
                         "stop_reason": "end_turn"}),
    Event(kinds.INTERRUPTED, {"reason": "Ctrl+C"}),
    Event(kinds.UNDO, {"phase": "begin", "change_set": "c", "prompt": "p", "force": False,
                       "files": ["a.py"]}),
    Event(kinds.REDO, {"phase": "done", "change_set": "c", "force": False, "resumed": True,
                       "files": [{"path": "a.py", "action": "create"}], "stat": {}}),
    _compaction(),
]


def _raw_json(line: str) -> bool:
    return '{"' in line or line.lstrip().startswith(("{", "["))


def test_every_stored_kind_has_its_own_line() -> None:
    durable = {value for name, value in vars(kinds).items()
               if name.isupper() and isinstance(value, str) and value not in kinds.EPHEMERAL}
    assert {e.type for e in STORED} == durable  # a new kind needs its line here too
    for event in STORED:
        line = summarize(event)
        assert line and not _raw_json(line), (event.type, line)


WORDS = st.text("abc xyz", max_size=20)


@given(WORDS.filter(bool), st.dictionaries(WORDS, st.recursive(
    st.none() | st.booleans() | st.integers() | WORDS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
    max_leaves=6), min_size=1, max_size=5))
def test_an_unknown_kind_is_key_value_pairs_not_json(kind: str, data: dict) -> None:
    line = summarize(Event(f"future {kind}", data))
    assert "\n" not in line and len(line) <= 80
    assert not _raw_json(line) and '"' not in line
