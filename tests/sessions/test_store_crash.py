"""kill -9 at any moment: the store opens, the session shows everything finished, resumes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from agent_kit import dicts, run_agent
from store_worker import TURN_LENGTH

from joiner.core.messages import Message
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import open_store, rebuild_messages
from joiner.sessions.history import INTERRUPTED_RESULT

HERE = Path(__file__).parent


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    sid = proc.stdout.readline().strip()
    assert sid, proc.stderr.read() if proc.stderr else ""
    return proc, sid


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_while_writing_leaves_a_readable_store(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    rng = random.Random(9)
    sessions = []
    for _ in range(6):
        proc, sid = _start(str(HERE / "store_worker.py"), str(db), "forever")
        time.sleep(rng.uniform(0.05, 0.6))
        _kill(proc)
        sessions.append(sid)
        with open_store(db) as store:  # opens after every kill, and still takes writes
            assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            events = store.events(sid)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert events[0].type == "user_prompt"
            assert events[0].data["message"]["text"] == "crash me"
            # whole batches only: append_many turns are all-or-nothing
            for e in events[1:]:
                if e.data["turn"] % 2:
                    same = [x for x in events if x.data.get("turn") == e.data["turn"]]
                    assert len(same) == TURN_LENGTH
            info = store.get(sid)
            finished = events[-1].type == "assistant_message" and events[-1].data["k"] == 6
            assert info.status == ("done" if finished else "interrupted")
            assert info.title == "crash me"
            rebuild_messages(events)
            store.create_session("/ws", "m")
    with open_store(db) as store:
        assert {s.id for s in store.list("/ws/crash", limit=None)} == set(sessions)


def test_kill_9_between_a_tool_call_and_its_result_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    proc, sid = _start(str(HERE / "agent_kit.py"), str(db), "hang-in-tool")
    with open_store(db) as store:
        deadline = time.time() + 30
        while not store.events(sid, types=["tool_result"]) and time.time() < deadline:
            time.sleep(0.05)  # the fast call has finished, the slow one never will
        _kill(proc)
        assert store.get(sid).status == "interrupted"
        messages = rebuild_messages(store.events(sid))
        assert [m.role for m in messages] == ["user", "assistant", "tool", "tool"]
        assert messages[2].text == "FAST"
        assert messages[3].is_error and messages[3].text == INTERRUPTED_RESULT

        import asyncio

        provider = ScriptedProvider([{"text": "Resumed fine."}])
        run = asyncio.run(run_agent(store, sid, provider, "go on"))
        assert run.stop_reason == "end_turn" and run.result == "Resumed fine."
        assert dicts(provider.requests[0].messages) == [*dicts(messages),
                                                       Message.user("go on").to_dict()]
        assert store.get(sid).status == "done"


def test_kill_9_mid_stream_keeps_the_prompt_and_resumes(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    proc, sid = _start(str(HERE / "agent_kit.py"), str(db), "hang-in-stream")
    with open_store(db) as store:
        deadline = time.time() + 30
        while not store.events(sid, types=["request_start"]) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        _kill(proc)
        assert [e.type for e in store.events(sid)] == ["user_prompt", "request_start"]
        info = store.get(sid)
        assert info.status == "interrupted" and info.title == "Tell me a long story"

        import asyncio

        provider = ScriptedProvider([{"text": "Once upon a time."}])
        asyncio.run(run_agent(store, sid, provider, "Please, the story"))
        assert [m.text for m in provider.requests[0].messages] == [
            "Tell me a long story", "Please, the story"]


def test_joiner_p_killed_mid_stream_then_resumed(tmp_path: Path, home: Path,
                                                 loopback: Any) -> None:
    """As a user would: ``joiner -p`` against a model server, ``kill -9`` while the answer
    streams, then ``sessions show`` and ``--resume`` with the earlier conversation."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    server = loopback([
        {"text": "Reading.", "tool_calls": [{"name": "read_file",
                                             "arguments": {"path": "calc.py"}}]},
        {"text": "It adds two numbers, and", "stall_s": 60},
    ])
    env = {**os.environ, "OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "sk-test"}

    def joiner(*args: str, **kw: Any) -> Any:
        return subprocess.Popen([sys.executable, "-m", "joiner", *args], cwd=repo, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    run = joiner("-p", "What does calc.py do?", "--model", "openai/test-model",
                 "--output-format", "stream-json")
    with open_store() as store:
        deadline = time.time() + 60
        while time.time() < deadline:
            found = store.list(str(repo.resolve()))
            if found and len(store.events(found[0].id, types=["request_start"])) == 2:
                break
            time.sleep(0.05)
        time.sleep(0.3)  # the second answer is streaming (then stalls)
        _kill(run)
        sid = found[0].id
        assert store.get(sid).status == "interrupted"
    shown = joiner("sessions", "show", sid[:8], "--json").communicate(timeout=60)[0]
    details = json.loads(shown)
    assert details["status"] == "interrupted" and details["title"] == "What does calc.py do?"
    assert [t["name"] for t in details["tool_calls"]] == ["read_file"]
    assert details["files_read"] == ["calc.py"]

    resumed_server = loopback(["It adds two numbers."])
    env["OPENAI_BASE_URL"] = resumed_server.openai_base_url
    out, err = joiner("-p", "Go on", "--resume", sid[:8], "--model", "openai/test-model",
                      "--output-format", "json").communicate(timeout=120)
    assert json.loads(out)["session_id"] == sid, err
    sent = resumed_server.requests[0].body["messages"]
    roles = [m["role"] for m in sent if m["role"] != "system"]
    assert roles == ["user", "assistant", "tool", "user"]
    assert sent[-1]["content"] == "Go on"
    assert "def add" in next(m for m in sent if m["role"] == "tool")["content"]
