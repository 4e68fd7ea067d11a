"""Sixteen real processes writing at once: nothing lost, nothing interleaved inside a turn."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from store_worker import TURN_LENGTH

from joiner.sessions import open_store, rebuild_messages

WORKER = str(Path(__file__).with_name("store_worker.py"))
TURNS = 15


def test_sixteen_processes_lose_nothing_and_keep_turns_whole(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    with open_store(db) as store:
        shared = store.create_session("/ws/shared", "scripted/test")
    start_at = time.time() + 2.0  # every process opens the store first, then all write at once
    commands = [[sys.executable, WORKER, str(db), "new", str(TURNS), str(start_at)]
                for _ in range(8)]
    commands += [[sys.executable, WORKER, str(db), "shared", shared, f"w{i}", str(TURNS),
                  str(start_at)] for i in range(8)]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in commands]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and err == ""
    reports = [json.loads(out) for out, _err in outputs]

    with open_store(db) as store:
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for report in reports[:8]:
            events = store.events(report["session"])
            assert [e.seq for e in events] == list(range(1, TURNS * TURN_LENGTH + 1))
            assert [(e.data["turn"], e.data["k"]) for e in events] == [
                (t, k) for t in range(TURNS) for k in range(TURN_LENGTH)]
            assert store.get(report["session"]).status == "done"
        events = store.events(shared)
        assert [e.seq for e in events] == list(range(1, 8 * TURNS * TURN_LENGTH + 1))
        turns_seen: dict[str, list[int]] = {}
        for start in range(0, len(events), TURN_LENGTH):
            turn = events[start : start + TURN_LENGTH]
            keys = {(e.data["worker"], e.data["turn"]) for e in turn}
            assert len(keys) == 1, "a turn was interleaved with another process's events"
            assert [e.data["k"] for e in turn] == list(range(TURN_LENGTH))
            worker, number = keys.pop()
            turns_seen.setdefault(worker, []).append(number)
        assert turns_seen == {f"w{i}": list(range(TURNS)) for i in range(8)}
        assert store.get(shared).event_count == len(events)
        assert len(rebuild_messages(events)) == 8 * TURNS * 4
        count, _size = store.blob_stats()
        assert count == 8 * TURNS + TURNS  # one per distinct long result text
