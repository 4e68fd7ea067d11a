"""The data dir in trouble, for real: read-only, full, locked too long by another process.

Every time: one clear line, a non-zero exit, no traceback, the workspace untouched and no
model request made once the store cannot record it. Read-only and full file systems are
real tmpfs mounts (root only; without root a read-only directory stands in, and the full
disk is skipped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from reliability_kit import RETRY_TOML, Joiner, no_traceback

WRITE_STEP = {"text": "Writing.", "tool_calls": [
    {"name": "write_file", "arguments": {"path": "notes.txt", "content": "overwritten\n"}}]}


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a real small file system needs mount (root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def fill(path: Path) -> None:
    """Write a file until the file system is full."""
    with (path / "filler").open("wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 4096):
                pass
        except OSError:
            pass


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    no_traceback(done)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_read_only_data_dir_is_one_line(tmp_path: Path, loopback: Any) -> None:
    home = tmp_path / "home"
    if os.geteuid() == 0:
        with tmpfs(home, "1m"):
            (home / "config.toml").write_text(RETRY_TOML)
            remount_read_only(home)
            check_read_only(Joiner(tmp_path, home), loopback)
    else:
        home.mkdir()
        (home / "config.toml").write_text(RETRY_TOML)
        home.chmod(0o555)
        try:
            check_read_only(Joiner(tmp_path, home), loopback)
        finally:
            home.chmod(0o755)


def check_read_only(joiner: Joiner, loopback: Any) -> None:
    before = joiner.files()
    server = loopback([WRITE_STEP, {"text": "never"}])
    done = joiner("-p", "overwrite the notes", "--model", "openai/loop-model",
                  "--permission-mode", "auto", server=server)
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith(f"joiner: cannot write the session store {joiner.home}/sessions.db")
    assert "JOINER_HOME" in line
    assert server.requests == [] and joiner.files() == before


def test_a_store_on_a_file_system_turned_read_only(tmp_path: Path, loopback: Any) -> None:
    if os.geteuid() != 0:
        pytest.skip("remounting read-only needs root")
    home = tmp_path / "home"
    with tmpfs(home, "4m"):
        joiner = Joiner(tmp_path, home)
        first = joiner("-p", "hello", "--model", "openai/loop-model", server=loopback(["Hi."]))
        assert first.returncode == 0, first.stderr
        remount_read_only(home)
        before = joiner.files()
        server = loopback([WRITE_STEP])
        done = joiner("-p", "overwrite the notes", "--model", "openai/loop-model",
                      "--permission-mode", "auto", "--continue", server=server)
        assert done.returncode == 1
        line = one_line(done)
        assert "session store" in line and "JOINER_HOME" in line
        assert "not a usable" not in line  # the file is fine; the file system is read-only
        assert server.requests == [] and joiner.files() == before


def test_a_full_disk_before_the_run(tmp_path: Path, loopback: Any) -> None:
    home = tmp_path / "home"
    with tmpfs(home, "1m"):
        joiner = Joiner(tmp_path, home)
        first = joiner("-p", "hello", "--model", "openai/loop-model", server=loopback(["Hi."]))
        assert first.returncode == 0, first.stderr
        fill(home)
        before = joiner.files()
        for resume in ((), ("--continue",)):
            server = loopback([WRITE_STEP, {"text": "never"}])
            done = joiner("-p", "overwrite the notes", "--model", "openai/loop-model",
                          "--permission-mode", "auto", *resume, server=server)
            assert done.returncode == 1
            assert one_line(done) == (f"joiner: the disk holding the session store {home}/"
                                      "sessions.db is full; free some space (or set JOINER_HOME "
                                      "to a directory on another disk)")
            assert server.requests == [] and joiner.files() == before


def test_the_disk_fills_up_mid_run(tmp_path: Path, loopback: Any) -> None:
    """The model's own command fills the disk: its result cannot be recorded, so the run stops
    there (no further request, so the write the model asks for next never happens)."""
    home = tmp_path / "home"
    with tmpfs(home, "2m"):
        joiner = Joiner(tmp_path, home)
        fill_command = f"head -c 4000000 /dev/zero > {home}/filler; echo filled"
        server = loopback([
            {"text": "Filling.", "tool_calls": [{"name": "run_shell",
                                                 "arguments": {"command": fill_command}}]},
            WRITE_STEP, {"text": "never"}])
        before = joiner.files()
        done = joiner("-p", "fill it", "--model", "openai/loop-model", "--permission-mode",
                      "auto", "--output-format", "stream-json", server=server)
        assert done.returncode == 1
        assert one_line(done).startswith("joiner: the disk holding the session store")
        assert len(server.requests) == 1 and joiner.files() == before

        (home / "filler").unlink()  # space again: the session is there and resumes
        listed = joiner("sessions", "list", "--json")
        [session] = json.loads(listed.stdout)
        assert session["title"] == "fill it" and session["status"] in ("interrupted", "error")
        again = joiner("-p", "go on", "--continue", server=loopback(["Done."]))
        assert again.returncode == 0 and again.stdout == "Done.\n", again.stderr


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def test_a_store_locked_too_long_by_another_process(joiner: Joiner, loopback: Any) -> None:
    first = joiner("-p", "hello", "--model", "openai/loop-model", server=loopback(["Hi."]))
    assert first.returncode == 0, first.stderr
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(joiner.home / "sessions.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        before = joiner.files()
        server = loopback([WRITE_STEP, {"text": "never"}])
        done = joiner("-p", "overwrite the notes", "--model", "openai/loop-model",
                      "--permission-mode", "auto", server=server, short_lock_wait=True)
        assert done.returncode == 1
        line = one_line(done)
        assert line.startswith(f"joiner: the session store {joiner.home}/sessions.db stayed "
                               "locked too long by another process")
        assert server.requests == [] and joiner.files() == before
    finally:
        holder.communicate("", timeout=10)
    after = joiner("-p", "hello again", "--model", "openai/loop-model", "--continue",
                   server=loopback(["Hi again."]))
    assert after.returncode == 0 and after.stdout == "Hi again.\n", after.stderr
