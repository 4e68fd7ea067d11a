"""Reading and writing files for the tools: text detection, atomic writes that keep the mode.

A file is read once (``read_source``: its bytes, text and mode) and written once
(``write_atomic``); the tools record those very bytes as the change's before and after, so
nothing is read again for undo.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from joiner.core import ToolError

SNIFF_BYTES = 8192


def looks_binary(head: bytes) -> bool:
    """A NUL byte in the first bytes means binary (what git and ripgrep decide too)."""
    return b"\x00" in head[:SNIFF_BYTES]


def check_regular(path: Path, rel: str) -> None:
    """Refuse what is neither a regular file nor absent: directories, and FIFOs and devices,
    whose opening could block the tool forever."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise ToolError(f"cannot use {rel}: {err.strerror or err}") from None
    if stat.S_ISDIR(mode):
        raise ToolError(f"{rel} is a directory, not a file (use list_files)")
    if not stat.S_ISREG(mode):
        raise ToolError(f"{rel} is not a regular file (a pipe, socket or device)")


@dataclass(frozen=True, slots=True)
class Source:
    """A file as read once: its bytes, their text, its permission bits.

    ``exact``: the bytes are valid UTF-8, so ``text`` stands for them exactly (otherwise the
    undecodable bytes are U+FFFD in ``text``)."""

    data: bytes
    text: str
    mode: int
    exact: bool


def read_source(path: Path, rel: str, binary_ok: bool = False) -> Source:
    """Read ``path`` once (bytes and mode from the same open file); ``ToolError`` if it is
    absent, or binary unless ``binary_ok``."""
    source = read_existing(path, rel, binary_ok)
    if source is None:
        raise ToolError(f"{rel} does not exist")
    return source


def read_existing(path: Path, rel: str, binary_ok: bool = True) -> Source | None:
    """Like ``read_source``, but None if ``path`` does not exist (for writes: created)."""
    check_regular(path, rel)
    try:
        with open(path, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            data = handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ToolError(f"{rel} is a directory, not a file (use list_files)") from None
    except OSError as err:
        raise ToolError(f"cannot read {rel}: {err.strerror or err}") from None
    if not binary_ok and looks_binary(data):
        raise ToolError(f"{rel} is a binary file; only text files can be read or edited")
    try:
        return Source(data, data.decode("utf-8"), mode, True)
    except UnicodeDecodeError:
        return Source(data, data.decode("utf-8", errors="replace"), mode, False)


def encode_text(rel: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ToolError(f"the new text of {rel} is not valid Unicode ({err.reason} at "
                        f"character {err.start}); nothing was written") from None


def write_atomic(path: Path, rel: str, data: bytes, mode: int | None) -> int:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``; returns the
    file's permission bits.

    Readers never see half a file; an existing file keeps its permission bits (``mode``, as
    read with it); a new one (``mode`` None) gets the usual ``0o666`` minus the umask (the
    temporary file is created with that mode, so the kernel applies the umask). Missing parent
    directories are created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ToolError(f"cannot create the directory of {rel}: {err.strerror or err}") from None
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.joiner-tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if mode is None:
                mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ToolError(f"cannot write {rel}: {err.strerror or err}") from None
    return mode
