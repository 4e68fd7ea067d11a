"""As a user would: ``joiner -p`` against the loopback server with a small window set in
config, then ``--resume`` after a compaction, ``sessions show``, and a bad window value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kit import SummarizingLoopback, body_tokens, read_steps, request_bodies, write_numbered_files

FIRST = "Read every file in order and tell me what each defines."
CONFIG = '[models."openai/gpt-4.1"]\ncontext_window = 6000\n'


def joiner(home: Path, workspace: Path, *args: str, server: Any = None,
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    env["JOINER_HOME"] = str(home)
    if server is not None:
        env |= {"OPENAI_API_KEY": "sk-loopback", "OPENAI_BASE_URL": server.openai_base_url}
    return subprocess.run([sys.executable, "-m", "joiner", *args], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=120)


def workspace(tmp_path: Path, names: list[str], lines: int) -> tuple[Path, Path]:
    home, ws = tmp_path / "home", tmp_path / "ws"
    (ws / ".joiner").mkdir(parents=True)
    home.mkdir()
    (ws / ".joiner" / "config.toml").write_text(CONFIG)
    write_numbered_files(ws, names, lines)
    return home, ws


def test_three_1500_line_files_fit_a_6000_token_window(tmp_path: Path) -> None:
    names = ["a.py", "b.py", "c.py"]
    home, ws = workspace(tmp_path, names, 1500)
    with SummarizingLoopback(read_steps(names, "Three modules.")) as server:
        done = joiner(home, ws, "-p", FIRST, "--model", "openai/gpt-4.1", "--output-format",
                      "json", server=server)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "Three modules."
    bodies = request_bodies(server)
    assert len(bodies) == 4
    for body in bodies:
        assert body_tokens(body) + body["max_tokens"] <= 6000
    # the third file's content reached the model, cut with a note
    assert "bigger than the model's context window allows" in bodies[-1]["messages"][-1][
        "content"]


def test_after_a_compaction_the_session_resumes_with_the_summary(tmp_path: Path) -> None:
    names = [f"f{i:02}.py" for i in range(1, 13)]
    home, ws = workspace(tmp_path, names, 300)
    with SummarizingLoopback(read_steps(names, "Twelve modules.")) as server:
        done = joiner(home, ws, "-p", FIRST, "--model", "openai/gpt-4.1", "--output-format",
                      "json", server=server)
    assert done.returncode == 0, done.stderr
    assert "context: compacted" in done.stderr
    session = json.loads(done.stdout)["session_id"]
    bodies = request_bodies(server)
    assert any(not body.get("tools") for body in bodies)  # the summarizing request
    assert all(body_tokens(b) + b["max_tokens"] <= 6000 for b in bodies)

    with SummarizingLoopback(["It was: " + FIRST]) as server2:
        resumed = joiner(home, ws, "--resume", session, "-p", "What was my first instruction?",
                         "--model", "openai/gpt-4.1", "--output-format", "json",
                         server=server2)
    assert resumed.returncode == 0, resumed.stderr
    (body,) = request_bodies(server2)
    messages = body["messages"]
    assert messages[0]["role"] == "system"
    summary = messages[1]["content"]
    assert summary.startswith("[joiner: the earlier conversation was compacted")
    assert FIRST in summary and "Summary:" in summary
    assert messages[-1] == {"role": "user", "content": "What was my first instruction?"}
    # the first files' reads were replaced by the summary; the latest ones are still there
    sent = json.dumps(messages)
    assert '"path\\": \\"f01.py\\"' not in sent and '\\"f12.py\\"' in sent

    shown = joiner(home, ws, "sessions", "show", session, "--json")
    details = json.loads(shown.stdout)
    assert len(details["tool_calls"]) == len(names)  # the full history is kept
    assert sum(m["text"].startswith("[joiner: the earlier") for m in details["messages"]) == 1


def test_a_bad_context_window_is_a_usage_error(tmp_path: Path) -> None:
    home, ws = workspace(tmp_path, [], 0)
    (ws / ".joiner" / "config.toml").write_text(
        '[models."openai/gpt-4.1"]\ncontext_window = "big"\n')
    with SummarizingLoopback(["never asked"]) as server:
        done = joiner(home, ws, "-p", "hi", "--model", "openai/gpt-4.1", server=server)
    assert not server.requests
    assert done.returncode == 2
    assert 'context_window in config must be a whole number' in done.stderr
    assert "Traceback" not in done.stderr
