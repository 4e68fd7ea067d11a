"""Git objects of the shadow repository, written and read without a git process per object.

A snapshot guided by the watcher changes a few paths of the previous tree; building the new
tree through git's index would make every git process read (and ``git add`` rewrite) an index
of the whole workspace. Instead the few new objects are written here as git itself writes
loose objects (``<kind> <size>\\0<bytes>``, hashed, zlib-deflated, ``objects/ab/cdef…``, created
once, read-only), and trees are read back through one long-lived ``git cat-file --batch``
(``coprocess.CatFile``), which also finds objects git packed. The hash (SHA-1, or SHA-256 for
a repository made so) follows the length of the repository's own object ids.

Also the records of a snapshot's differences: ``TreeEntry`` (git mode and object id) and
``RawChange`` (a path's entry before and after).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import zlib
from dataclasses import dataclass
from pathlib import Path

TREE_MODE = "40000"
GITLINK_MODE = "160000"
LINK_MODE = "120000"


class ShadowError(Exception):
    """A snapshot could not be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One side of a changed path: git mode (``100644``, ``100755``, ``120000``) and blob id."""

    mode: str
    sha: str


@dataclass(frozen=True, slots=True)
class RawChange:
    path: str
    before: TreeEntry | None
    after: TreeEntry | None


# A directory's entries: name (bytes, as git stores it) -> (mode, id).
Entries = dict[bytes, tuple[str, str]]


def parse_tree(data: bytes, id_bytes: int) -> Entries:
    """The entries of a tree object's content (``mode name\\0<id>`` repeated)."""
    entries: Entries = {}
    pos, size = 0, len(data)
    while pos < size:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = data[pos:space].decode("ascii")
        entries[data[space + 1 : nul]] = (mode, data[nul + 1 : nul + 1 + id_bytes].hex())
        pos = nul + 1 + id_bytes
    return entries


def _order(item: tuple[bytes, tuple[str, str]]) -> bytes:
    """Git's order of tree entries: by name, a directory's name as if it ended with ``/``."""
    name, (mode, _sha) = item
    return name + b"/" if mode == TREE_MODE else name


def serialize_tree(entries: Entries) -> bytes:
    return b"".join(f"{mode} ".encode("ascii") + name + b"\0" + bytes.fromhex(sha)
                    for name, (mode, sha) in sorted(entries.items(), key=_order))


class ObjectWriter:
    """Writes loose objects into ``git_dir/objects`` exactly as git does."""

    def __init__(self, git_dir: Path, id_length: int, level: int = 1) -> None:
        self.objects = git_dir / "objects"
        self.algorithm = "sha256" if id_length == 64 else "sha1"
        self.id_bytes = id_length // 2
        self.level = level

    def object_id(self, kind: str, data: bytes) -> tuple[str, bytes]:
        header = f"{kind} {len(data)}\0".encode("ascii")
        digest = hashlib.new(self.algorithm, header)
        digest.update(data)
        return digest.hexdigest(), header

    def write(self, kind: str, data: bytes) -> str:
        """Store an object (if it is not there yet); returns its id."""
        sha, header = self.object_id(kind, data)
        path = self.objects / sha[:2] / sha[2:]
        if os.path.exists(path):
            with contextlib.suppress(OSError):  # "freshen" it, as git does: a prune that
                os.utime(path)  # started before now keeps it (shadow_prune)
            return sha
        compressor = zlib.compressobj(self.level)
        body = compressor.compress(header) + compressor.compress(data) + compressor.flush()
        temp = path.parent / f"tmp_obj_{secrets.token_hex(6)}"
        try:
            path.parent.mkdir(exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
            try:
                os.link(temp, path)  # what git does: never replaces an object already there
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                os.replace(temp, path)
        except OSError as err:
            raise ShadowError(f"cannot write to the shadow repository: {err}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return sha

    def tree(self, entries: Entries) -> str:
        return self.write("tree", serialize_tree(entries))
