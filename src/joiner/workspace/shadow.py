"""A shadow git repository: snapshots of the workspace for ``run_shell``, outside the user's git.

The repository lives in Joiner's data dir (``<data>/shadow/<hash of the workspace path>``) with
the workspace as its work tree; a snapshot is the id of a git tree holding the workspace. The
user's ``.git`` (its index, objects, refs, stash) is never read or written: ``GIT_DIR`` points
here. What the user's git config or ``.gitattributes`` could do to contents is switched off (no
``autocrlf``, no filters, no ``text``/``eol`` conversion), so the blobs are the exact bytes.

Two ways to take a snapshot:

- a full scan, ``git add -A`` then ``git write-tree``: git's index is a stat cache (size,
  mtime, inode), so only files whose stat changed are read again; ``.gitignore`` files are
  honoured by git itself, which never descends into a ``.git`` (the user's repository, nested
  ones). The index is split (``core.splitIndex``: a write rewrites only what changed, not the
  30,000 entries of a large workspace), version 4 (prefix-compressed paths), with git's
  untracked cache. It is the first snapshot of a session, and the answer to anything unknown;
- from the watcher (``watcher.Watcher``, inotify): once a full scan has given a tree, only the
  paths seen changed since are redone on top of it (``shadow_delta``), through long-lived
  ``git cat-file --batch`` and ``git check-ignore`` processes, without reading or writing the
  index: the cost follows what changed, not the size of the workspace. Nothing changed: no
  work at all. The differences found are kept, so ``changes`` needs no ``git diff-tree``. The
  paths so recorded are given to the index (``update-index --index-info``) before the next
  full scan, so it starts from the same files.

Full scans run one at a time on the repository (an ``flock``: other sessions on the same
workspace share it), and a stale ``index.lock`` left by a killed git is removed.

From its first snapshot until ``close`` a session holds a shared lock on ``joiner.live``:
while any session does, the repository is not pruned (``shadow_prune``: old snapshots'
objects are removed as a session ends, at most once a day, in the background).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from joiner.workspace.coprocess import CatFile, IgnoreCheck
from joiner.workspace.gitobjects import (
    GITLINK_MODE,
    ObjectWriter,
    RawChange,
    ShadowError,
    TreeEntry,
)
from joiner.workspace.shadow_delta import Delta, Fallback, TreeDelta
from joiner.workspace.shadow_prune import WORKSPACE_MARK, hold_live, stamp

if TYPE_CHECKING:
    from joiner.workspace.watcher import Watcher

try:
    import fcntl
except ImportError:  # Windows: one process at a time is then the user's affair
    fcntl = None  # type: ignore[assignment]

__all__ = ["MAX_FILES", "RawChange", "ShadowError", "ShadowRepo", "TreeEntry", "shadow_dir"]

_CONFIG = {
    "core.bare": "false", "core.autocrlf": "false", "core.safecrlf": "false",
    "core.filemode": "true", "core.symlinks": "true", "core.ignorecase": "false",
    "core.fsmonitor": "false", "core.untrackedCache": "true", "core.quotepath": "false",
    "core.looseCompression": "1", "index.version": "4", "gc.auto": "0",
    "core.splitIndex": "true", "splitIndex.maxPercentChange": "50",
    "splitIndex.sharedIndexExpire": "1.day.ago",
    "advice.addEmbeddedRepo": "false", "advice.addIgnoredFile": "false",
}
_CONFIG_MARK = "joiner-config"  # in the git dir: which _CONFIG the repository has
_CONFIG_VERSION = hashlib.sha256(repr(sorted(_CONFIG.items())).encode()).hexdigest()[:16]
_ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n"
_EXCLUDE = "# written by Joiner: its temporary files, then the user's .git/info/exclude\n" \
           "*.joiner-tmp\n"
# A first snapshot of more files than this is not taken (the workspace is probably not a
# project: a home directory...); shell commands then run without checkpoints.
MAX_FILES = 200_000
# More paths than this seen changed: a full scan is as quick as redoing them one by one.
MAX_WATCHED_CHANGES = 2_000
_NO_COMMIT = re.compile(r"'(.+?)/?' does not have a commit checked out")


def shadow_dir(data_dir: Path, workspace: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(workspace))).hexdigest()[:20]
    return data_dir / "shadow" / key


class ShadowRepo:
    def __init__(self, workspace: Path, git_dir: Path, watch: bool = True) -> None:
        self.workspace = Path(os.path.realpath(workspace))
        self.git_dir = git_dir
        self.git = shutil.which("git")
        self.watch = watch
        self._tree: str | None = None  # the last snapshot
        self._index_tree: str | None = None  # the tree of git's index after our last full scan
        self._index_stat: tuple[int, int, int] | None = None  # ...and the index file then
        self._unindexed: dict[str, TreeEntry | None] = {}  # recorded since, not in the index
        self._rules: tuple[int, int, int] | None = None  # the user's .git/info/exclude
        self._no_commit: set[str] = set()  # nested repositories git cannot add: left out
        self._delta: tuple[str, Delta] | None = None  # the last watched snapshot: base, delta
        self._watcher: Watcher | None = None
        self._engine: TreeDelta | None = None
        self._live: int | None = None  # the shared lock on joiner.live, once snapshotted
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_DIR=str(git_dir), GIT_WORK_TREE=str(self.workspace), LC_ALL="C",
                   LANGUAGE="C", GIT_CONFIG_NOSYSTEM="1", GIT_ATTR_NOSYSTEM="1",
                   GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
        self.env = env
        self._cat = CatFile(self.git or "git", self._bare_env(), self.workspace)
        self._ignore = IgnoreCheck(self.git or "git", env, self.workspace)

    @property
    def available(self) -> bool:
        return self.git is not None

    def close(self) -> None:
        """Stop watching, end the long-lived git processes, let a prune happen."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._cat.close()
        self._ignore.close()
        if self._live is not None:
            os.close(self._live)
            self._live = None

    # -- git plumbing -------------------------------------------------------------------------
    def _bare_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k != "GIT_WORK_TREE"}

    def _run(self, *args: str, input: bytes | None = None, bare: bool = False,
             ok: Callable[[int, bytes], bool] | None = None) -> bytes:
        if self.git is None:
            raise ShadowError("git is not installed")
        try:
            done = subprocess.run([self.git, *args], input=input,
                                  env=self._bare_env() if bare else self.env,
                                  cwd=self.workspace, capture_output=True, check=False)
        except OSError as err:
            raise ShadowError(f"cannot run git: {err}") from None
        if done.returncode != 0 and not (ok is not None and ok(done.returncode, done.stderr)):
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            why = lines[-1] if lines else f"exit status {done.returncode}"
            raise ShadowError(f"git {args[0]} failed: {why}")
        return done.stdout

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.git_dir.mkdir(parents=True, exist_ok=True)
        with open(self.git_dir / "joiner.lock", "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            # no git of ours runs on it now: an index.lock is a leftover of a killed one
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.git_dir / "index.lock")
            yield

    def _ensure(self) -> bool:
        """Create (or update) the repository if needed; True if it has no index yet."""
        mark = self.git_dir / _CONFIG_MARK
        if not (self.git_dir / "HEAD").exists():
            self._run("init", "--quiet", "--bare", str(self.git_dir), bare=True)
            stamp(self.git_dir)  # new: nothing to prune for a day
        _write_if_changed(self.git_dir / WORKSPACE_MARK, str(self.workspace))
        if _read(mark) != _CONFIG_VERSION:
            for key, value in _CONFIG.items():
                self._run("config", key, value, bare=True)
            mark.write_text(_CONFIG_VERSION, encoding="utf-8")
        info = self.git_dir / "info"
        info.mkdir(exist_ok=True)
        _write_if_changed(info / "attributes", _ATTRIBUTES)
        user_exclude = self.workspace / ".git" / "info" / "exclude"
        self._rules = _signature(user_exclude)
        _write_if_changed(info / "exclude", _EXCLUDE + (_read(user_exclude) or ""))
        return not (self.git_dir / "index").exists()

    def _index_signature(self) -> tuple[int, int, int] | None:
        return _signature(self.git_dir / "index")

    # -- snapshots ----------------------------------------------------------------------------
    def unchanged_tree(self) -> str | None:
        """The last snapshot if the watcher has nothing to report since (one ``ioctl``, fit
        for the event loop's thread); None: ``snapshot()`` is needed."""
        watcher = self._watcher
        if self._tree is None or watcher is None or not watcher.quiet() or self._rules != \
                _signature(self.workspace / ".git" / "info" / "exclude"):
            return None
        return self._tree

    def _drain(self) -> set[str] | None:
        """The paths changed since the last snapshot, or None if the watcher cannot tell."""
        watcher = self._watcher
        if (self._tree is None or watcher is None or watcher.broken or self._rules != _signature(
                self.workspace / ".git" / "info" / "exclude")):
            return None
        return watcher.drain()

    def snapshot(self) -> str:
        """The id of a git tree holding the workspace as it is now."""
        if not self.workspace.is_dir():
            raise ShadowError(f"the workspace {self.workspace} does not exist")
        changed = self._drain()
        if changed is not None and not changed:
            assert self._tree is not None
            return self._tree
        if changed is not None and len(changed) <= MAX_WATCHED_CHANGES:
            tree = self._watched(self._tree or "", changed)
            if tree is not None:
                return tree
        return self._full_scan()

    def _watched(self, base: str, changed: set[str]) -> str | None:
        """The snapshot from the paths the watcher saw change; None: do a full scan."""
        if self._engine is None:
            self._engine = TreeDelta(self.workspace, ObjectWriter(self.git_dir, len(base)),
                                     self._cat, self._ignore, MAX_WATCHED_CHANGES)
        try:
            delta = self._engine.apply(base, changed)
        except (Fallback, ShadowError):
            self._ignore.close()  # git's rules may have changed: it reads them afresh
            return None
        if delta.tree != base:
            self._delta = (base, delta)
            self._unindexed.update((c.path, c.after) for c in delta.changes)
            self._tree = delta.tree
        return delta.tree

    def _full_scan(self) -> str:
        with self._locked():
            if self._ensure():
                self._check_size()
            if self._live is None:  # before any object is used: no prune from now on
                self._live = hold_live(self.git_dir)
            known = self._index_tree is not None and self._index_stat == self._index_signature()
            known = self._give_index_what_was_recorded() and known
            if self.watch:
                if self._watcher is None or self._watcher.broken:
                    self._start_watcher()  # before the scan: nothing falls between the two
                elif self._watcher is not None:
                    self._watcher.drain()  # what it saw is in the scan
            added = self._add_all()
            if added.strip() or not known:
                self._index_tree = self._run("write-tree").decode().strip()
            self._index_stat = self._index_signature()
            self._tree = self._index_tree
            assert self._tree is not None
            return self._tree

    def _add_all(self) -> bytes:
        """``git add -A`` of the workspace, leaving out nested repositories with no commit
        (git refuses to add them, and would then add nothing at all)."""
        self._no_commit = {p for p in self._no_commit
                           if os.path.lexists(self.workspace / p / ".git")}
        for _attempt in range(20):
            excluded = [f":(exclude,literal){p}" for p in sorted(self._no_commit)]
            try:
                return self._run("add", "--all", "--verbose", "--ignore-errors", "--", ".",
                                 *excluded)
            except ShadowError as err:
                found = _NO_COMMIT.search(str(err))
                if found is None or found.group(1) in self._no_commit:
                    raise
                self._no_commit.add(found.group(1))
        raise ShadowError("git add failed: too many nested repositories without a commit")

    def _give_index_what_was_recorded(self) -> bool:
        """Put the entries recorded from the watcher into git's index (with no stat data, so
        the scan reads those files again): the scan then starts from the files we recorded,
        ignored ones included, as ``git add`` would have. False if the index changed."""
        if not self._unindexed:
            return True
        zero = "0" * len(self._tree or "0" * 40)
        lines = b"".join(
            (f"{e.mode} {e.sha}" if e is not None else f"0 {zero}").encode("ascii")
            + b"\t" + os.fsencode(path) + b"\0" for path, e in self._unindexed.items())
        self._unindexed = {}
        self._run("update-index", "-z", "--index-info", input=lines, ok=lambda *_: True)
        return False

    def _start_watcher(self) -> None:
        from joiner.workspace.watcher import Watcher

        if self._watcher is not None:
            self._watcher.close()
        listed = self._run("ls-files", "-z", "--others", "--ignored", "--exclude-standard",
                           "--directory")
        ignored = {os.fsdecode(p).rstrip("/") for p in listed.split(b"\x00") if p.endswith(b"/")}
        self._watcher = Watcher.start(self.workspace, ignored)
        if self._watcher is None:
            self.watch = False  # not available here: full scans from now on

    def _check_size(self) -> None:
        listed = self._run("ls-files", "-z", "--others", "--exclude-standard")
        count = listed.count(b"\x00")
        if count > MAX_FILES:
            raise ShadowError(f"the workspace has more than {MAX_FILES:,} files outside "
                              ".gitignore; shell commands' changes are not recorded here")

    # -- differences --------------------------------------------------------------------------
    def changes(self, before: str, after: str) -> list[RawChange]:
        """The paths that differ between two snapshots (no rename detection), sorted; nested
        repositories left out (their own git keeps their history)."""
        if before == after:
            return []
        if self._delta is not None and self._delta[0] == before \
                and self._delta[1].tree == after:
            found = self._delta[1].changes
        else:
            found = self._diff_tree(before, after)
        return [c for c in found if GITLINK_MODE not in
                (c.before.mode if c.before else "", c.after.mode if c.after else "")]

    def _diff_tree(self, before: str, after: str) -> list[RawChange]:
        out = self._run("diff-tree", "-r", "-z", "--no-renames", "--raw", before, after)
        fields = out.split(b"\x00")
        found: list[RawChange] = []
        for i in range(0, len(fields) - 1, 2):
            meta, raw_path = fields[i].decode(), fields[i + 1]
            old_mode, new_mode, old_sha, new_sha, _status = meta.lstrip(":").split(" ")
            old = None if old_mode == "000000" else TreeEntry(old_mode, old_sha)
            new = None if new_mode == "000000" else TreeEntry(new_mode, new_sha)
            found.append(RawChange(os.fsdecode(raw_path), old, new))
        return found

    def blobs(self, shas: list[str]) -> dict[str, bytes]:
        """The contents of blobs, by id (those just read from disk, else from git)."""
        known = self._delta[1].contents if self._delta is not None else {}
        contents = {sha: known[sha] for sha in shas if sha in known}
        missing = [sha for sha in shas if sha not in contents]
        contents.update((sha, data) for sha, (_kind, data) in self._cat.read(missing).items())
        return contents


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _write_if_changed(path: Path, text: str) -> None:
    if _read(path) == text:
        return
    path.write_text(text, encoding="utf-8")
