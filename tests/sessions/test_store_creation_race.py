"""Several processes (here: threads, each with its own connection) opening a store that does
not exist yet: every one gets the same, whole store; none sees it half-made."""

from __future__ import annotations

import threading
from pathlib import Path

from joiner.sessions.sqlite_db import APPLICATION_ID, Database

OPENERS = 8
ROUNDS = 60  # the race was lost in about one round in 16 before the fix


def test_openers_racing_to_create_the_store_all_get_it(tmp_path: Path) -> None:
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "sessions.db"
        start = threading.Barrier(OPENERS)

        def open_store(path: Path = path, start: threading.Barrier = start,
                       round_: int = round_) -> None:
            start.wait()
            try:
                db = Database(path)
            except Exception as err:  # any failure is the finding
                failures.append(f"round {round_}: {type(err).__name__}: {err}")
                return
            db.conn.close()

        threads = [threading.Thread(target=open_store) for _ in range(OPENERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        db = Database(path)
        assert db._identity()[0] == APPLICATION_ID
        db.conn.close()
    assert failures == []
