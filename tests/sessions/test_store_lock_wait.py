"""Waiting for the store's lock (up to 120 s) gives way to Ctrl+C (SIGINT) and SIGTERM."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from joiner.core.events import Event
from joiner.sessions import lock_wait
from joiner.sessions.lock_wait import LockWaitInterrupted, SignalWatch
from joiner.sessions.sqlite_store import SQLiteStore

WAITER = str(Path(__file__).with_name("lock_waiter.py"))


@pytest.fixture
def session(store: SQLiteStore) -> str:
    return store.create_session("/w", "scripted/test")


@pytest.fixture
def held(store: SQLiteStore) -> Iterator[sqlite3.Connection]:
    """Another connection holding the store's write lock (as another process would)."""
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE sessions SET title = title")
    yield other
    other.rollback()
    other.close()


@pytest.fixture(autouse=True)
def _forget_interrupts() -> Iterator[None]:
    yield
    lock_wait._last_interrupt = None


def _signal_while_waiting(store: SQLiteStore, session: str, mode: str,
                          sig: int) -> tuple[subprocess.CompletedProcess[str], float]:
    proc = subprocess.Popen([sys.executable, WAITER, str(store.path), session, mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "waiting\n"
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{mode} writer still waiting for the lock 30 s after {sig!r}")
    took = time.monotonic() - sent
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took


@pytest.mark.parametrize(("mode", "sig"), [("plain", signal.SIGINT), ("asyncio", signal.SIGINT),
                                           ("asyncio", signal.SIGTERM)])
def test_a_signal_ends_the_wait_at_once_and_nothing_is_written(
        store: SQLiteStore, session: str, held: sqlite3.Connection, mode: str, sig: int) -> None:
    done, took = _signal_while_waiting(store, session, mode, sig)
    assert took < 2.0, f"exited {took:.2f} s after the signal"
    assert "written" not in done.stdout
    assert "LockWaitInterrupted" in done.stderr and "locked by another process" in done.stderr
    held.rollback()
    assert store.events(session) == []  # the wait ended before the transaction began
    store.append(session, Event("warning", {"message": "after"}))  # the store is fine
    assert [e.data["message"] for e in store.events(session)] == ["after"]


def test_the_handlers_are_back_after_a_wait_that_got_the_lock(
        store: SQLiteStore, session: str, held: sqlite3.Connection) -> None:
    before = {sig: signal.getsignal(sig) for sig in lock_wait.WATCHED}
    threading.Timer(0.2, held.rollback).start()
    store.append(session, Event("warning", {"message": "waited"}))
    assert [e.data["message"] for e in store.events(session)] == ["waited"]
    assert {sig: signal.getsignal(sig) for sig in lock_wait.WATCHED} == before


def test_right_after_an_interrupt_a_write_waits_only_a_moment(
        store: SQLiteStore, session: str, held: sqlite3.Connection) -> None:
    """The clean-up writes of an interrupted run (its status) must not wait 120 s again."""
    lock_wait.note_interrupt()
    started = time.monotonic()
    with pytest.raises(LockWaitInterrupted, match="interrupted; not waiting"):
        store.set_status(session, "interrupted")
    assert lock_wait.GRACE_S <= time.monotonic() - started < lock_wait.GRACE_S + 1.0
    held.rollback()
    store.set_status(session, "interrupted")  # with the lock free, it is written at once
    assert store.get(session).status == "interrupted"


def test_right_after_an_interrupt_a_lock_held_for_a_moment_still_lets_the_write_in(
        store: SQLiteStore, session: str, held: sqlite3.Connection) -> None:
    """The partial answer written after Ctrl+C is not lost to another session's short write."""
    import threading

    lock_wait.note_interrupt()
    threading.Timer(0.3, held.rollback).start()
    store.set_status(session, "interrupted")
    assert store.get(session).status == "interrupted"


def test_the_watch_passes_the_signal_on_to_the_handler_that_was_there() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with SignalWatch() as watch:
            signal.raise_signal(signal.SIGTERM)
            assert watch.hit == signal.SIGTERM and seen == [signal.SIGTERM]
            with pytest.raises(LockWaitInterrupted, match="SIGTERM while waiting"):
                watch.check("waiting")
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with SignalWatch() as watch:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
            assert watch.hit is None
    finally:
        signal.signal(signal.SIGINT, previous)
