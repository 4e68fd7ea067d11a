"""Long-lived git processes of a shadow repository: one per session, not one per snapshot.

- ``CatFile``: ``git cat-file --batch``, the contents of objects (trees to walk, blobs to show);
- ``IgnoreCheck``: ``git check-ignore --stdin --no-index``, whether new paths are ignored
  (``.gitignore`` files, ``info/exclude``, ``core.excludesFile``: git's own rules). It reads
  each ``.gitignore`` once, so it is restarted when one changes.

Requests go in chunks small enough for the pipe, so neither side ever waits on the other. A
process that died (or answers nonsense) is started again once; then ``ShadowError``. Each is
ended when its owner closes it or is collected (and when this process exits, its stdin closes).
"""

from __future__ import annotations

import subprocess
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TypeVar

from joiner.workspace.gitobjects import ShadowError

CHUNK_BYTES = 32 * 1024  # requests written before reading their answers: within a pipe's
# 64 KiB, so the write never waits for git, which may be waiting for us to read its answers
T = TypeVar("T")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()


class Coprocess:
    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._pending = b""  # bytes read past the last field (NUL-separated answers)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._process, self._finalizer, self._pending = None, None, b""

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self.close()
            try:
                self._process = subprocess.Popen(
                    self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, env=self.env, cwd=self.cwd)
            except OSError as err:
                raise ShadowError(f"cannot run git: {err}") from None
            self._finalizer = weakref.finalize(self, _stop, self._process)
        return self._process

    def _exchange(self, requests: list[bytes], read: Callable[[IO[bytes]], T]) -> list[T]:
        """Send ``requests`` and read one answer each with ``read(stdout)``; one retry with a
        fresh process if this one is gone."""
        for attempt in (1, 2):
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                answers: list[T] = []
                for chunk in _chunks(requests):
                    process.stdin.write(b"".join(chunk))
                    process.stdin.flush()
                    answers += [read(process.stdout) for _ in chunk]
                return answers
            except (OSError, ValueError, EOFError) as err:
                self.close()
                if attempt == 2:
                    raise ShadowError(f"git {self.argv[1]} stopped answering ({err})") from None
        raise AssertionError("unreachable")


def _chunks(requests: list[bytes]) -> list[list[bytes]]:
    chunks: list[list[bytes]] = [[]]
    size = 0
    for request in requests:
        if chunks[-1] and size + len(request) > CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(request)
        size += len(request)
    return chunks


class CatFile(Coprocess):
    def __init__(self, git: str, env: dict[str, str], cwd: Path) -> None:
        super().__init__([git, "cat-file", "--batch"], env, cwd)

    def read(self, shas: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """``{id: (type, content)}``; ``ShadowError`` if one is missing."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        with self.lock:
            answers = self._exchange([f"{sha}\n".encode("ascii") for sha in wanted], _object)
        found: dict[str, tuple[str, bytes]] = {}
        for sha, answer in zip(wanted, answers, strict=True):
            if answer is None:
                raise ShadowError(f"the shadow repository lost the object {sha}")
            found[sha] = answer
        return found


def _object(stdout: IO[bytes]) -> tuple[str, bytes] | None:
    header = stdout.readline()
    if not header.endswith(b"\n"):
        raise EOFError("no answer")
    parts = header.split()
    if len(parts) == 2 and parts[1] == b"missing":
        return None
    if len(parts) != 3:
        raise EOFError(f"unexpected answer {header[:80]!r}")
    size = int(parts[2])
    data = stdout.read(size + 1)
    if len(data) != size + 1:
        raise EOFError("cut answer")
    return parts[1].decode("ascii"), data[:size]


class IgnoreCheck(Coprocess):
    def __init__(self, git: str, env: dict[str, str], cwd: Path) -> None:
        super().__init__([git, "check-ignore", "--stdin", "-z", "--no-index", "--non-matching",
                          "--verbose"], env, cwd)

    def ignored(self, paths: Sequence[bytes]) -> set[bytes]:
        """Those of ``paths`` (relative to the work tree) that git ignores."""
        if not paths:
            return set()
        with self.lock:
            answers = self._exchange([p + b"\0" for p in paths], self._verdict)
        return {p for p, ignored in zip(paths, answers, strict=True) if ignored}

    def _verdict(self, stdout: IO[bytes]) -> bool:
        """One answer: ``source\\0line\\0pattern\\0path\\0``; a pattern that matched and is not
        a negation (``!…``) means ignored."""
        fields = [self._field(stdout) for _ in range(4)]
        pattern = fields[2]
        return bool(pattern) and not pattern.startswith(b"!")

    def _field(self, stdout: IO[bytes]) -> bytes:
        while b"\0" not in self._pending:
            chunk = stdout.read1(1 << 16)  # type: ignore[attr-defined]  # a BufferedReader
            if not chunk:
                raise EOFError("no answer")
            self._pending += chunk
        field, _, self._pending = self._pending.partition(b"\0")
        return field
