"""A snapshot from the paths the watcher saw change: the previous tree with those paths redone.

What ``git add -A`` then ``git write-tree`` would give, without git's index (whose size is the
workspace's: every git process would read it, ``git add`` rewrite it). Each changed path is
looked up in the previous tree (through ``git cat-file --batch``) and on disk; a path that is
a directory now, or was one, stands for every file under it. The rules are git's:

- a regular file is ``100755`` if its owner may execute it, else ``100644``; a symlink is
  ``120000`` with its target as content; anything else (a pipe, a socket) is not recorded;
- a path the previous tree does not hold is added only if git does not ignore it (asked of
  ``git check-ignore``); a path it holds stays recorded, ignored or not (git's tracked files);
- a file that cannot be read keeps its previous entry (``git add --ignore-errors``);
- a directory holding nothing recorded is no entry (git has no empty trees).

Only the new blobs and the trees above them are written (``gitobjects.ObjectWriter``), so the
cost follows the number of changed paths, not the size of the workspace. Whatever this cannot
answer exactly returns None, and the caller does a full scan instead: a ``.gitignore`` that
changed or came (git's rules changed), a nested repository, a file too large to read into
memory here, more paths than ``limit``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from joiner.workspace.coprocess import CatFile, IgnoreCheck
from joiner.workspace.gitobjects import (
    GITLINK_MODE,
    LINK_MODE,
    TREE_MODE,
    Entries,
    ObjectWriter,
    RawChange,
    TreeEntry,
    parse_tree,
)

# A changed file larger than this is left to git (a full scan streams it; this reads it whole).
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_CACHED_TREES = 4096
_UNREADABLE = TreeEntry("", "")  # keep the previous entry


class Fallback(Exception):
    """This change needs a full scan (the message says why, for debugging)."""


@dataclass(slots=True)
class Delta:
    tree: str
    changes: list[RawChange]
    contents: dict[str, bytes] = field(default_factory=dict)  # new blobs read from disk, by id


class TreeDelta:
    """Applies changed paths to a tree; keeps the trees it read or wrote for the next time."""

    def __init__(self, root: Path, writer: ObjectWriter, cat: CatFile, ignore: IgnoreCheck,
                 limit: int) -> None:
        self.root = root
        self.writer = writer
        self.cat = cat
        self.ignore = ignore
        self.limit = limit
        self.trees: dict[str, Entries] = {}
        self._plain_dirs: dict[bytes, bool] = {}  # during one apply: directory -> not a link

    # -- reading the previous tree ------------------------------------------------------------
    def _tree(self, sha: str) -> Entries:
        entries = self.trees.get(sha)
        if entries is None:
            kind, data = self.cat.read([sha])[sha]
            if kind != "tree":
                raise Fallback(f"{sha} is a {kind}, not a tree")
            entries = parse_tree(data, self.writer.id_bytes)
            if len(self.trees) >= MAX_CACHED_TREES:
                self.trees.clear()
            self.trees[sha] = entries
        return entries

    def _lookup(self, base: str, parts: list[bytes]) -> tuple[str, str] | None:
        """The entry at ``parts`` in ``base``: None if there is none (or a file stands where
        a directory of the path would be); ``(GITLINK_MODE, "")`` for a path inside a nested
        repository."""
        mode, sha = TREE_MODE, base
        for part in parts:
            if mode == GITLINK_MODE:
                return GITLINK_MODE, ""
            if mode != TREE_MODE:
                return None
            found = self._tree(sha).get(part)
            if found is None:
                return None
            mode, sha = found
        return mode, sha

    def _files_under(self, prefix: bytes, sha: str, out: dict[bytes, TreeEntry]) -> None:
        for name, (mode, child) in self._tree(sha).items():
            path = prefix + b"/" + name if prefix else name
            if mode == TREE_MODE:
                self._files_under(path, child, out)
            else:
                out[path] = TreeEntry(mode, child)
            if len(out) > self.limit:
                raise Fallback("too many files")

    # -- reading the disk ---------------------------------------------------------------------
    def _reachable(self, rel: bytes) -> bool:
        """Whether every directory above ``rel`` is one (not a link to one, nor a file): git
        never looks through a link, so what is behind one is not at these paths."""
        parts = rel.split(b"/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = b"/".join(parts[:depth])
            plain = self._plain_dirs.get(folder)
            if plain is None:
                try:
                    mode = os.lstat(os.path.join(self.root, os.fsdecode(folder))).st_mode
                    plain = stat.S_ISDIR(mode)
                except OSError:
                    plain = False
                self._plain_dirs[folder] = plain
            if not plain:
                return False
        return True

    def _file(self, rel: bytes, contents: dict[str, bytes]) -> TreeEntry | None:
        """The entry ``rel`` would get now (None: nothing git records there)."""
        if not self._reachable(rel):
            return None
        path = os.path.join(self.root, os.fsdecode(rel))
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                data = os.fsencode(os.readlink(path))
                mode = LINK_MODE
            elif stat.S_ISREG(info.st_mode):
                if info.st_size > MAX_FILE_BYTES:
                    raise Fallback(f"{rel!r} is large")
                with open(path, "rb") as handle:
                    data = handle.read()
                mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
            else:
                return None  # a directory (seen by its own scan), a pipe, a socket...
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            return _UNREADABLE
        sha, _header = self.writer.object_id("blob", data)
        contents[sha] = data
        return TreeEntry(mode, sha)

    def _scan(self, top: bytes, tracked: dict[bytes, TreeEntry],
              contents: dict[str, bytes]) -> dict[bytes, TreeEntry]:
        """Every file git would record under the directory ``top`` now."""
        found: dict[bytes, TreeEntry] = {}
        level = [top]
        while level:
            skipped = self.ignore.ignored(level)  # git does not look into those
            files: list[bytes] = []
            deeper: list[bytes] = []
            for directory in level:
                if directory in skipped:
                    continue
                try:
                    with os.scandir(os.path.join(self.root, os.fsdecode(directory))) as entries:
                        for entry in entries:
                            if entry.name in (".git", ".gitignore"):
                                raise Fallback(f"{entry.name} in {directory!r}")
                            rel = directory + b"/" + os.fsencode(entry.name)
                            (deeper if entry.is_dir(follow_symlinks=False) else files).append(rel)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                if len(files) + len(deeper) + len(found) > self.limit:
                    raise Fallback("too many files")
            ignored = self.ignore.ignored([f for f in files if f not in tracked])
            for rel in files:
                if rel not in ignored and (entry := self._file(rel, contents)) is not None:
                    found[rel] = entry
            level = deeper
        for rel in tracked:  # recorded files under ignored directories stay recorded
            if rel not in found and (entry := self._file(rel, contents)) is not None:
                found[rel] = entry
        return found

    def _in_new_repository(self, base: str, parts: list[bytes]) -> bool:
        """Whether a directory above ``parts`` that ``base`` does not hold is a nested
        repository (one git skipped: it has no commit yet)."""
        for depth in range(len(parts) - 1, 0, -1):
            here = self._lookup(base, parts[:depth])
            if here is not None and here[0] == TREE_MODE:
                return False  # the directories above it were scanned by git
            if os.path.lexists(os.path.join(self.root, os.fsdecode(b"/".join(parts[:depth])),
                                            ".git")):
                return True
        return False

    # -- applying -----------------------------------------------------------------------------
    def apply(self, base: str, paths: Iterable[str]) -> Delta:
        """The tree ``base`` with ``paths`` as they are on disk now; ``Fallback`` if this
        cannot be answered here."""
        old: dict[bytes, TreeEntry] = {}
        new: dict[bytes, TreeEntry] = {}
        contents: dict[str, bytes] = {}
        self._plain_dirs = {}
        for path in sorted(set(paths)):
            rel = os.fsencode(path)
            parts = rel.split(b"/")
            if parts[-1] == b".gitignore" or (parts[-1] == b".git" and len(parts) > 1):
                raise Fallback(f"{path} came, went or changed")
            if any(p in (b"", b".", b"..", b".git") for p in parts):
                continue
            here = self._lookup(base, parts)
            if (here is not None and here[0] == GITLINK_MODE) or (
                    here is None and self._in_new_repository(base, parts)):
                continue  # inside (or the top of) a nested repository: its own git's affair
            before: dict[bytes, TreeEntry] = {}
            if here is not None and here[0] == TREE_MODE:
                self._files_under(rel, here[1], before)
            elif here is not None:
                before[rel] = TreeEntry(*here)
            if self._reachable(rel) and stat.S_ISDIR(_lmode(os.path.join(self.root, path))):
                after = self._scan(rel, before, contents)
            else:
                entry = self._file(rel, contents)
                if entry is not None and rel not in before and self.ignore.ignored([rel]):
                    entry = None  # a new file git ignores
                after = {} if entry is None else {rel: entry}
            old.update(before)
            new.update(after)
            if len(old) + len(new) > self.limit:
                raise Fallback("too many files")
        return self._write(base, old, new, contents)

    def _write(self, base: str, old: dict[bytes, TreeEntry], new: dict[bytes, TreeEntry],
               contents: dict[str, bytes]) -> Delta:
        changes: list[RawChange] = []
        kept: dict[str, bytes] = {}
        dirs: dict[tuple[bytes, ...], Entries] = {}
        for rel in sorted(old.keys() | new.keys()):
            before, after = old.get(rel), new.get(rel)
            if after is _UNREADABLE or before == after:
                continue
            changes.append(RawChange(os.fsdecode(rel), before, after))
            if after is not None:
                kept[after.sha] = contents[after.sha]
                self.writer.write("blob", contents[after.sha])
            parts = tuple(rel.split(b"/"))
            folder = self._editable(base, parts[:-1], dirs)
            if after is None:
                folder.pop(parts[-1], None)
            else:
                folder[parts[-1]] = (after.mode, after.sha)
        if not changes:
            return Delta(base, [])
        for key in sorted(dirs, key=len, reverse=True):
            if not key:
                continue
            parent = dirs[key[:-1]]
            if dirs[key]:
                parent[key[-1]] = (TREE_MODE, self._store_tree(dirs[key]))
            elif parent.get(key[-1], ("", ""))[0] == TREE_MODE:
                parent.pop(key[-1])
        return Delta(self._store_tree(dirs[()]), changes, kept)

    def _editable(self, base: str, key: tuple[bytes, ...],
                  dirs: dict[tuple[bytes, ...], Entries]) -> Entries:
        """A copy of the directory ``key`` of ``base`` to change (its parents copied too)."""
        if key in dirs:
            return dirs[key]
        if key:
            self._editable(base, key[:-1], dirs)
        here = self._lookup(base, list(key)) if key else (TREE_MODE, base)
        entries = dict(self._tree(here[1])) if here is not None and here[0] == TREE_MODE else {}
        dirs[key] = entries
        return entries

    def _store_tree(self, entries: Entries) -> str:
        sha = self.writer.tree(entries)
        if len(self.trees) >= MAX_CACHED_TREES:
            self.trees.clear()
        self.trees[sha] = entries
        return sha


def _lmode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0
