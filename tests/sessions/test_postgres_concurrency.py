"""Many processes writing one PostgreSQL store at once: nothing lost, turns kept whole.

Run as a script, this file is the writer: ``python test_postgres_concurrency.py URL SID TAG
TURNS START_AT`` appends TURNS turns (one ``append_many`` each) to session SID ("new":
its own session) and prints the session id.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

TURN = 7


def turn_events(tag: str, turn: int) -> list[Any]:
    from joiner.core.events import Event

    text = f"output of {tag} {turn} " * 150  # a blob, shared by all writers of this turn number
    return [Event("user_prompt" if k == 0 else "note",
                  {"tag": tag, "turn": turn, "k": k, **({"text": text} if k == 3 else {})})
            for k in range(TURN)]


def writer(url: str, sid: str, tag: str, turns: int, start_at: float) -> None:
    from joiner.sessions import open_store

    store = open_store(url)
    if sid == "new":
        sid = store.create_session(f"/ws/{tag}", "scripted/test")
    time.sleep(max(0.0, start_at - time.time()))
    for n in range(turns):
        store.append_many(sid, turn_events(tag, n))
    store.close()
    print(json.dumps({"session": sid}))


def test_sixteen_processes_lose_nothing_and_keep_turns_whole(postgres_url: str) -> None:
    from joiner.sessions import open_store

    store = open_store(postgres_url)
    shared = store.create_session("/ws/shared", "scripted/test")
    turns = 25
    start_at = time.time() + 2.0
    specs = [(shared, f"s{i}") for i in range(8)] + [("new", f"n{i}") for i in range(8)]
    procs = [subprocess.Popen([sys.executable, __file__, postgres_url, sid, tag, str(turns),
                               str(start_at)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for sid, tag in specs]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 16, [err for _, err in outputs]
    events = store.events(shared)
    assert [e.seq for e in events] == list(range(1, 8 * turns * TURN + 1))
    for start in range(0, len(events), TURN):  # each append_many landed as one block
        block = events[start:start + TURN]
        assert {(e.data["tag"], e.data["turn"]) for e in block} == \
            {(block[0].data["tag"], block[0].data["turn"])}
        assert [e.data["k"] for e in block] == list(range(TURN))
        assert block[3].data["text"].startswith(f"output of {block[0].data['tag']} ")
    per_tag = {}
    for e in events:
        per_tag.setdefault(e.data["tag"], []).append(e.data["turn"])
    assert all(v == sorted(v) and len(v) == turns * TURN for v in per_tag.values())
    own = [json.loads(out)["session"] for out, _ in outputs[8:]]
    assert all(len(store.events(sid)) == turns * TURN for sid in own)
    assert store.get(shared).event_count == 8 * turns * TURN
    assert len(store.list("/ws/shared")) == 1 and len(store.list(None, limit=None)) == 9
    store.close()


def test_deleting_sessions_while_others_append_loses_no_blob(postgres_url: str) -> None:
    """Blobs shared between sessions: deleting some while others append the same texts
    never leaves an event pointing at a removed blob."""
    import threading

    from joiner.sessions import open_store

    text = "shared large output\n" * 300
    stores = [open_store(postgres_url) for _ in range(4)]
    keep = stores[0].create_session("/ws/keep", "m")
    errors: list[BaseException] = []

    def churn(store: Any) -> None:
        from joiner.core.events import Event

        try:
            for _ in range(15):
                sid = store.create_session("/ws/tmp", "m")
                store.append(sid, Event("note", {"text": text}))
                store.delete(sid)
        except BaseException as err:
            errors.append(err)

    def keep_appending() -> None:
        from joiner.core.events import Event

        try:
            for n in range(40):
                stores[1].append(keep, Event("note", {"text": text, "n": n}))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=churn, args=(s,)) for s in stores[2:]]
    threads.append(threading.Thread(target=keep_appending))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [e.data["text"] == text for e in stores[0].events(keep)] == [True] * 40
    assert stores[0].blob_stats()[0] == 1
    for s in stores:
        s.close()


if __name__ == "__main__":
    writer(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
