"""Reading TASKS.jsonl: valid tasks, problems with their line numbers, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from joiner.batch.tasks import DEFAULT_PERMISSION_MODE, Task, parse_tasks, read_tasks

BASE = Path("/base")


def test_a_valid_file_with_defaults_and_options() -> None:
    text = "\n".join([
        json.dumps({"id": "a", "repo": "repos/one", "prompt": "fix it"}),
        "",
        "# a comment",
        json.dumps({"id": 7, "repo": "/abs/two", "prompt": "bump", "model": "openai/gpt-5",
                    "permission_mode": "auto", "max_turns": 5, "max_budget_usd": 0.5}),
    ])
    found = parse_tasks(text, BASE)
    assert found.problems == [] and found.warnings == []
    assert found.tasks == [
        Task("a", "/base/repos/one", "fix it", None, DEFAULT_PERMISSION_MODE, None, None, 1),
        Task("7", "/abs/two", "bump", "openai/gpt-5", "auto", 5, 0.5, 4),
    ]
    assert DEFAULT_PERMISSION_MODE == "accept-edits"
    assert Task.from_dict(found.tasks[1].to_dict()) == found.tasks[1]


def test_malformed_lines_are_reported_by_number_and_the_rest_kept() -> None:
    lines = [
        json.dumps({"id": "ok1", "repo": "r", "prompt": "p"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"repo": "r", "prompt": "p"}),
        json.dumps({"id": "x", "prompt": "p"}),
        json.dumps({"id": "x", "repo": "r", "prompt": "  "}),
        json.dumps({"id": "x", "repo": "r", "prompt": "p", "permission_mode": "yolo"}),
        json.dumps({"id": "x", "repo": "r", "prompt": "p", "max_turns": 0}),
        json.dumps({"id": "x", "repo": "r", "prompt": "p", "max_turns": True}),
        json.dumps({"id": "x", "repo": "r", "prompt": "p", "max_budget_usd": -1}),
        json.dumps({"id": "x", "repo": "r", "prompt": "p", "model": "gpt-5"}),
        json.dumps({"id": "ok1", "repo": "r", "prompt": "again"}),
        json.dumps({"id": "ok2", "repo": "r", "prompt": "p", "issue": 12}),
    ]
    found = parse_tasks("\n".join(lines), BASE)
    assert [t.id for t in found.tasks] == ["ok1", "ok2"]
    assert [p.line for p in found.problems] == list(range(2, 13))
    messages = [p.message for p in found.problems]
    assert messages[0].startswith("not JSON")
    assert "JSON object" in messages[1]
    assert messages[2] == '"id" is missing' and messages[3] == '"repo" is missing'
    assert "non-empty" in messages[4] and "accept-edits" in messages[5]
    assert "at least 1" in messages[6] and "at least 1" in messages[7]
    assert "US dollars" in messages[8] and "PROVIDER/MODEL" in messages[9]
    assert messages[10] == "id 'ok1' was already used on line 1; ids must be unique"
    assert [(w.line, w.message) for w in found.warnings] == [(13, "ignored unknown keys: issue")]
    assert str(found.problems[0]).startswith("line 2: not JSON")


def test_a_relative_repo_is_taken_from_the_tasks_files_directory(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tasks.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"id": "a", "repo": "../repo", "prompt": "p"}) + "\n")
    assert read_tasks(path).tasks[0].repo == str(tmp_path / "sub" / ".." / "repo")


LINE = st.one_of(
    st.text(max_size=40),
    st.dictionaries(st.sampled_from(["id", "repo", "prompt", "model", "permission_mode",
                                     "max_turns", "max_budget_usd", "other"]),
                    st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                              st.floats(allow_nan=True), st.text(max_size=8),
                              st.sampled_from(["auto", "plan", "openai/x", "r"])),
                    max_size=8).map(json.dumps),
)


@given(st.lists(LINE, max_size=12))
def test_any_input_gives_tasks_or_numbered_problems_never_an_exception(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    found = parse_tasks(text, BASE)
    counted = [n for n, raw in enumerate(text.splitlines(), start=1)
               if raw.strip() and not raw.strip().startswith("#")]
    assert sorted([t.line for t in found.tasks] + [p.line for p in found.problems]) == counted
    assert len({t.id for t in found.tasks}) == len(found.tasks)
    for task in found.tasks:
        assert task.prompt.strip() and task.repo.startswith("/")
        assert task.max_turns is None or task.max_turns >= 1
        assert task.max_budget_usd is None or task.max_budget_usd > 0


@given(st.lists(st.tuples(st.text(min_size=1).filter(str.strip),
                          st.text(min_size=1).filter(str.strip)),
                max_size=6, unique_by=lambda t: t[0]))
def test_valid_tasks_round_trip(pairs: list[tuple[str, str]]) -> None:
    text = "\n".join(json.dumps({"id": i, "repo": "/r", "prompt": p}) for i, p in pairs)
    found = parse_tasks(text, BASE)
    assert found.problems == []
    assert [(t.id, t.prompt) for t in found.tasks] == pairs
