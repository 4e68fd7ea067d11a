"""Reading and writing files for the tools: text detection, atomic writes that keep the mode."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
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


def read_text(path: Path, rel: str) -> str:
    """The file's text (UTF-8, undecodable bytes replaced); ``ToolError`` if absent or binary."""
    check_regular(path, rel)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ToolError(f"{rel} does not exist") from None
    except IsADirectoryError:
        raise ToolError(f"{rel} is a directory, not a file (use list_files)") from None
    except OSError as err:
        raise ToolError(f"cannot read {rel}: {err.strerror or err}") from None
    if looks_binary(data):
        raise ToolError(f"{rel} is a binary file; only text files can be read or edited")
    return data.decode("utf-8", errors="replace")


def read_existing(path: Path, rel: str) -> str | None:
    """The text of ``path``, or None if it does not exist (for writes: None means "created")."""
    check_regular(path, rel)
    if not path.exists():
        return None
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        raise ToolError(f"cannot read {rel}: {err.strerror or err}") from None


def write_atomic(path: Path, rel: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``.

    Readers never see half a file; an existing file keeps its permission bits; a new one gets the
    usual ``0o666`` minus the umask (the temporary file is created with that mode, so the kernel
    applies the umask). Missing parent directories are created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ToolError(f"cannot create the directory of {rel}: {err.strerror or err}") from None
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ToolError(f"the new text of {rel} is not valid Unicode ({err.reason} at "
                        f"character {err.start}); nothing was written") from None
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.joiner-tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ToolError(f"cannot write {rel}: {err.strerror or err}") from None
