"""``Session.compact()`` (the TUI's ``/compact``) and the runtime's wiring of the fitter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit import Recorder, read_steps, write_numbered_files

from joiner.context.compaction import SUMMARY_HEAD
from joiner.core.events import COMPACTION, USAGE
from joiner.runtime import RunOptions, Session


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("JOINER_HOME", str(home))
    return home


async def test_compact_by_hand_then_go_on_from_the_summary(tmp_path: Path, home: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    write_numbered_files(repo, ["one.py", "two.py"], 30)
    script = tmp_path / "steps.json"
    steps = [*read_steps(["one.py", "two.py"], "Both read."),
             {"text": "We read one.py and two.py."},  # the summary /compact asks for
             {"text": "Going on."}]
    script.write_text(json.dumps(steps))
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo))
    assert await session.compact() is None  # no session yet: nothing to compact
    first = await session.run("Read one.py and two.py.", [])
    assert first.stop_reason == "end_turn"
    assert session.window is None  # a scripted model has no known window

    seen = Recorder()
    data = await session.compact([seen])
    assert data is not None and data["reason"] == "manual"
    assert data["summary"] == "We read one.py and two.py."
    assert data["prompts"] == ["Read one.py and two.py."]
    assert [e.type for e in seen.events] == [USAGE, COMPACTION, "warning"]
    stored = [e for e in session.store.events(session.session_id or "") if e.type == COMPACTION]
    assert len(stored) == 1

    history = session.history()
    assert history[0].text.startswith(SUMMARY_HEAD)
    assert [m.role for m in history] == ["user", "assistant"]  # the summary, the last answer
    again = await session.run("Go on.", [])
    assert again.stop_reason == "end_turn"
    provider = session.provider
    sent = provider.requests[-1].messages
    assert sent[0].text.startswith(SUMMARY_HEAD) and sent[-1].text == "Go on."
    assert "Repository overview (2 files" in provider.requests[-1].system
