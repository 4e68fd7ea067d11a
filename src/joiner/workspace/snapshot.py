"""One file's exact state (bytes, mode, or absence), as recorded in events and restored by undo.

A ``FileVersion`` is what a path held at one moment: a regular file's bytes and permission bits,
or a symlink's target. ``None`` stands for "no file there". Versions travel in the ``changes`` of
a ``tool_result`` event as small JSON records (``to_record`` / ``from_record``): text as text,
anything that is not UTF-8 as base64, so the store's content-addressed blobs keep large
contents once. ``restore`` puts a version back atomically (a temporary file, then
``os.replace``), so a reader, or an undo killed half way, never sees half a file.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Contents above this size are not kept in the session (the change is still listed and
# shown; undo of such a file needs --force, which leaves it as it is).
MAX_KEPT_BYTES = 64 * 1024 * 1024
TEMP_SUFFIX = ".joiner-tmp"


@dataclass(frozen=True, slots=True)
class FileVersion:
    """A regular file (``data``, permission bits ``mode``) or a symlink (``link``).

    ``data`` is None when the content was too large to keep (``size`` says how large).
    """

    mode: int  # permission bits (0o644...), or 0o777 for a symlink
    data: bytes | None = None
    link: str | None = None
    size: int = 0
    # ``data`` decoded, when the one who made the version had it already (a file tool): the
    # record then needs no second decoding of a large file. Only ever ``data``'s exact text.
    known_text: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of_file(cls, mode: int, data: bytes, text: str | None = None) -> FileVersion:
        """A regular file's version from its bytes (``text``: their exact UTF-8 decoding, if
        known); contents above ``MAX_KEPT_BYTES`` are not kept."""
        if len(data) > MAX_KEPT_BYTES:
            return cls(mode, None, size=len(data))
        return cls(mode, data, size=len(data), known_text=text)

    @property
    def is_link(self) -> bool:
        return self.link is not None

    @property
    def kept(self) -> bool:
        return self.link is not None or self.data is not None

    def same_as(self, other: FileVersion | None) -> bool:
        """Same bytes (or link target) and mode. An unkept content is never the same."""
        if other is None or not self.kept or not other.kept:
            return False
        return (self.mode == other.mode and self.link == other.link
                and self.data == other.data)

    def text(self) -> str | None:
        """The content as text for a diff, or None for a binary file or a symlink."""
        if self.data is None or b"\x00" in self.data[:8192]:
            return None
        if self.known_text is not None:
            return self.known_text
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"mode": self.mode, "size": self.size}
        if self.link is not None:
            record["link"] = self.link
        elif self.data is None:
            record["omitted"] = True
        elif self.known_text is not None:
            record["text"] = self.known_text
        else:
            try:
                record["text"] = self.data.decode("utf-8")
            except UnicodeDecodeError:
                record["base64"] = base64.b64encode(self.data).decode("ascii")
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> FileVersion | None:
        if record is None:
            return None
        mode = int(record.get("mode", 0o644))
        size = int(record.get("size", 0))
        if isinstance(record.get("link"), str):
            return cls(mode, link=record["link"], size=size)
        if isinstance(record.get("text"), str):
            return cls(mode, record["text"].encode("utf-8"), size=size)
        if isinstance(record.get("base64"), str):
            return cls(mode, base64.b64decode(record["base64"]), size=size)
        return cls(mode, None, size=size)


def read_version(path: Path) -> FileVersion | None:
    """What ``path`` holds now: None if nothing (or a directory, a pipe or a device)."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        return FileVersion(0o777, link=target, size=len(target))
    if not stat.S_ISREG(info.st_mode):
        return None
    mode = stat.S_IMODE(info.st_mode)
    if info.st_size > MAX_KEPT_BYTES:
        return FileVersion(mode, None, size=info.st_size)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return FileVersion(mode, data, size=len(data))


def missing_dirs(root: Path, path: Path) -> list[str]:
    """The parents of ``path`` under ``root`` that do not exist yet, outermost first (relative)."""
    missing: list[str] = []
    parent = path.parent
    while parent != root and root in parent.parents and not parent.exists():
        missing.append(parent.relative_to(root).as_posix())
        parent = parent.parent
    return missing[::-1]


def restore(path: Path, version: FileVersion | None) -> None:
    """Make ``path`` hold ``version`` (None: remove it), atomically. Raises ``OSError``."""
    if version is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    if not version.kept:
        raise OSError(f"the content of {path.name} was not kept ({version.size} bytes)")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        if version.link is not None:
            os.symlink(version.link, temp)
        else:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(version.data or b"")
            os.chmod(temp, version.mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def remove_empty_dirs(root: Path, rel_dirs: list[str]) -> None:
    """Remove the directories ``rel_dirs`` (innermost first) where they are empty now."""
    for rel in sorted(rel_dirs, key=len, reverse=True):
        with contextlib.suppress(OSError):
            (root / rel).rmdir()
