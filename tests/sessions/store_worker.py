"""A process writing to the store, for the concurrency and crash tests.

``python store_worker.py DB new TURNS START_AT``: a new session, TURNS turns.
``python store_worker.py DB shared SID TAG TURNS START_AT``: TURNS turns into SID.
``python store_worker.py DB forever``: one session, events forever (to be killed).
Each turn is one ``append_many`` of the events a tool-using turn logs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from joiner.core.events import Event
from joiner.sessions import open_store

TURN_LENGTH = 7


def turn_events(tag: str, turn: int) -> list[Event]:
    def ev(kind: str, k: int, **data: Any) -> Event:
        return Event(kind, {"worker": tag, "turn": turn, "k": k, **data})

    call = {"id": f"{tag}-{turn}", "name": "note", "arguments": "{}"}
    return [
        ev("user_prompt", 0, message={"role": "user", "text": f"{tag} turn {turn}"}),
        ev("request_start", 1),
        ev("assistant_message", 2, message={"role": "assistant", "text": "",
                                            "tool_calls": [call]}),
        ev("usage", 3, input_tokens=10, output_tokens=5),
        ev("tool_call", 4, **call),
        ev("tool_result", 5, message={"role": "tool", "text": f"result {tag} {turn} " * 300,
                                      "tool_call_id": call["id"], "name": "note",
                                      "is_error": False}),
        ev("assistant_message", 6, message={"role": "assistant", "text": f"done {turn}"}),
    ]


def _wait(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def main(argv: list[str]) -> None:
    store = open_store(Path(argv[0]))
    mode = argv[1]
    waits: list[float] = []
    if mode in ("new", "shared"):
        if mode == "new":
            turns, start_at = int(argv[2]), float(argv[3])
            sid, tag = store.create_session("/ws/new", "scripted/test"), "new"
        else:
            sid, tag, turns, start_at = argv[2], argv[3], int(argv[4]), float(argv[5])
        _wait(start_at)
        for turn in range(turns):
            started = time.perf_counter()
            store.append_many(sid, turn_events(tag, turn))
            waits.append(time.perf_counter() - started)
        store.set_status(sid, "done")
        print(json.dumps({"session": sid, "waits": waits}), flush=True)
    elif mode == "forever":
        sid = store.create_session("/ws/crash", "scripted/test")
        store.append(sid, Event("user_prompt", {"message": {"role": "user", "text": "crash me"}}))
        print(sid, flush=True)
        turn = 0
        while True:
            turn += 1
            if turn % 2:
                store.append_many(sid, turn_events("forever", turn))
            else:
                for event in turn_events("forever", turn):
                    store.append(sid, event)


if __name__ == "__main__":
    main(sys.argv[1:])
