"""Which paths of the workspace changed since the last look: Linux inotify, through ctypes.

The shadow repository's snapshot is a full scan (``git add -A`` stats every file: ~60 ms for
30,000 files). With a watcher, a snapshot only needs to look at the paths that changed since the
previous one: nothing at all before a command when the workspace did not change, and the
command's few paths after it. ``drain()`` returns those paths, or None when the watcher cannot
tell (queue overflow, a watch that could not be added, a directory moved): the caller then does a
full scan, and the watcher starts afresh. Elsewhere than Linux ``Watcher.start`` returns None.

Every directory is watched except ``.git`` directories and those ``ignored`` names (the
ignored directories git reported); a directory created later is watched when its creation is
seen, and is itself reported as changed, so what was written into it before is found by the
scan of that directory. A ``.git`` that comes or goes below the root (a nested repository,
which git records otherwise) is reported as ``dir/.git``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import struct
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

try:
    import fcntl
    import termios
except ImportError:  # not Linux: Watcher.start gives None anyway
    fcntl = termios = None  # type: ignore[assignment]

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x4000, 0x8000, 0x40000000
IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK = 0x01000000, 0x02000000, 0x04000000
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW
        | IN_EXCL_UNLINK)
_HEADER = struct.Struct("iIII")

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL | None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


class Watcher:
    def __init__(self, root: Path, fd: int, lib: ctypes.CDLL,
                 skip: Callable[[str], bool]) -> None:
        self.root = root
        self.fd = fd
        self.lib = lib
        self.skip = skip
        self.dirs: dict[int, str] = {}  # watch descriptor -> directory relative to root ("")
        self.broken = False
        self.changed: set[str] = set()
        self._finalizer = weakref.finalize(self, os.close, fd)  # inotify instances are few

    @classmethod
    def start(cls, root: Path, ignored: set[str]) -> Watcher | None:
        """Watch every directory under ``root`` except ``.git`` and ``ignored`` (relative
        posix paths); None if inotify is not available or a watch cannot be added."""
        lib = _lib()
        if lib is None:
            return None
        fd = lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None

        def skip(rel: str) -> bool:
            return rel.rsplit("/", 1)[-1] == ".git" or rel in ignored

        watcher = cls(Path(root), fd, lib, skip)
        watcher._watch_tree("")
        if watcher.broken:
            watcher.close()
            return None
        return watcher

    def close(self) -> None:
        self._finalizer()
        self.broken = True

    def _watch_tree(self, rel: str) -> None:
        stack = [rel]
        while stack and not self.broken:
            current = stack.pop()
            path = os.path.join(self.root, current) if current else str(self.root)
            wd = self.lib.inotify_add_watch(self.fd, os.fsencode(path), MASK)
            if wd < 0:
                if ctypes.get_errno() in (errno.ENOENT, errno.ENOTDIR):
                    continue  # gone meanwhile: its parent's event says so
                self.broken = True  # out of watches (ENOSPC), permissions...
                return
            self.dirs[wd] = current
            with contextlib.suppress(OSError), os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = f"{current}/{entry.name}" if current else entry.name
                        if not self.skip(child):
                            stack.append(child)

    def quiet(self) -> bool:
        """True if nothing happened since the last ``drain`` (no event waiting to be read)."""
        if self.broken or self.changed or fcntl is None:
            return False
        try:
            waiting = fcntl.ioctl(self.fd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return False
        return struct.unpack("i", waiting)[0] == 0

    def drain(self) -> set[str] | None:
        """The relative paths changed since the last call, or None if that is not known."""
        while not self.broken:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            self._parse(data)
        if self.broken:
            return None
        changed, self.changed = self.changed, set()
        return changed

    def _parse(self, data: bytes) -> None:
        pos = 0
        while pos + _HEADER.size <= len(data):
            wd, mask, _cookie, length = _HEADER.unpack_from(data, pos)
            name = data[pos + _HEADER.size : pos + _HEADER.size + length].rstrip(b"\0")
            pos += _HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                self.broken = True
                return
            base = self.dirs.get(wd)
            if mask & IN_IGNORED:
                self.dirs.pop(wd, None)
                continue
            if base is None:
                continue
            if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                if mask & IN_MOVE_SELF and base:  # its path is no longer what we know
                    self.broken = True
                    return
                continue
            rel = f"{base}/{os.fsdecode(name)}" if base else os.fsdecode(name)
            if name == b".git" and base and mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM
                                                    | IN_DELETE):
                self.changed.add(rel)  # a nested repository came or went (never watched)
                continue
            if not name or self.skip(rel):
                continue
            if mask & IN_ISDIR and not mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM
                                               | IN_DELETE):
                continue  # a directory's own mode or times: git records none
            self.changed.add(rel)
            if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                self._watch_tree(rel)
            elif mask & IN_ISDIR and mask & IN_MOVED_FROM:
                self.broken = True  # the watches below it now have other paths
                return
