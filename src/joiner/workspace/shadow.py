"""A shadow git repository: snapshots of the workspace for ``run_shell``, outside the user's git.

The repository lives in Joiner's data dir (``<data>/shadow/<hash of the workspace path>``) with
the workspace as its work tree. A snapshot is ``git add -A`` then ``git write-tree``: git's index
is a stat cache (size, mtime, inode), so only files whose stat changed are read again, and the
untracked cache skips unchanged directories; ``.gitignore`` files are honoured by git itself, and
git never descends into a ``.git`` (the user's repository, nested repositories). The user's
``.git`` (its index, objects, refs, stash) is never read or written: ``GIT_DIR`` points here.

What the user's git config or ``.gitattributes`` could do to contents is switched off (no
``autocrlf``, no filters, no ``text``/``eol`` conversion), so the blobs are the exact bytes.
Only this process's git runs on the repository at a time (an ``flock``), and a stale
``index.lock`` left by a killed git is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from joiner.workspace.watcher import Watcher

try:
    import fcntl
except ImportError:  # Windows: one process at a time is then the user's affair
    fcntl = None  # type: ignore[assignment]

_CONFIG = {
    "core.bare": "false", "core.autocrlf": "false", "core.safecrlf": "false",
    "core.filemode": "true", "core.symlinks": "true", "core.ignorecase": "false",
    "core.fsmonitor": "false", "core.untrackedCache": "true", "core.quotepath": "false",
    "core.looseCompression": "1", "index.version": "4", "gc.auto": "0",
    "advice.addEmbeddedRepo": "false", "advice.addIgnoredFile": "false",
}
_ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n"
_EXCLUDE = "# written by Joiner: its temporary files, then the user's .git/info/exclude\n" \
           "*.joiner-tmp\n"
# A first snapshot of more files than this is not taken (the workspace is probably not a
# project: a home directory...); shell commands then run without checkpoints.
MAX_FILES = 200_000
# More paths than this seen changed: a full scan is as quick as naming them all to git.
MAX_WATCHED_CHANGES = 2_000
_UNMATCHED = re.compile(r"pathspec '(.*)' did not match any files")


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


def shadow_dir(data_dir: Path, workspace: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(workspace))).hexdigest()[:20]
    return data_dir / "shadow" / key


class ShadowRepo:
    def __init__(self, workspace: Path, git_dir: Path, watch: bool = True) -> None:
        self.workspace = Path(os.path.realpath(workspace))
        self.git_dir = git_dir
        self.git = shutil.which("git")
        self._tree: str | None = None
        self._index_stat: tuple[int, int, int] | None = None
        self.watch = watch
        self._watcher: Watcher | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_DIR=str(git_dir), GIT_WORK_TREE=str(self.workspace), LC_ALL="C",
                   LANGUAGE="C", GIT_CONFIG_NOSYSTEM="1", GIT_ATTR_NOSYSTEM="1",
                   GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
        self.env = env

    @property
    def available(self) -> bool:
        return self.git is not None

    # -- git plumbing -------------------------------------------------------------------------
    def _run(self, *args: str, input: bytes | None = None, bare: bool = False,
             ok: Callable[[int, bytes], bool] | None = None) -> bytes:
        if self.git is None:
            raise ShadowError("git is not installed")
        env = self.env
        if bare:
            env = {k: v for k, v in env.items() if k != "GIT_WORK_TREE"}
        try:
            done = subprocess.run([self.git, *args], input=input, env=env,
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
        """Create the repository if needed; True if it has no index yet (a first snapshot)."""
        if not (self.git_dir / "HEAD").exists():
            self._run("init", "--quiet", "--bare", str(self.git_dir), bare=True)
            for key, value in _CONFIG.items():
                self._run("config", key, value, bare=True)
        info = self.git_dir / "info"
        info.mkdir(exist_ok=True)
        _write_if_changed(info / "attributes", _ATTRIBUTES)
        user_exclude = self.workspace / ".git" / "info" / "exclude"
        extra = ""
        with contextlib.suppress(OSError):
            extra = user_exclude.read_text(encoding="utf-8", errors="replace")
        _write_if_changed(info / "exclude", _EXCLUDE + extra)
        return not (self.git_dir / "index").exists()

    def _index_signature(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.git_dir / "index")
        except FileNotFoundError:
            return None
        return info.st_mtime_ns, info.st_size, info.st_ino

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> str:
        """The id of a git tree holding the workspace as it is now."""
        if not self.workspace.is_dir():
            raise ShadowError(f"the workspace {self.workspace} does not exist")
        with self._locked():
            if self._ensure():
                self._check_size()
            valid = self._tree is not None and self._index_stat == self._index_signature()
            changed = self._watcher.drain() if self._watcher is not None else None
            if valid and changed is not None and len(changed) <= MAX_WATCHED_CHANGES:
                added = self._add_paths(sorted(changed)) if changed else b""
                if added is not None:
                    return self._write_tree(bool(added.strip()))
            if self.watch and (self._watcher is None or self._watcher.broken):
                self._start_watcher()  # before the full scan: nothing falls between the two
            added = self._run("add", "--all", "--verbose", "--ignore-errors", "--", ".")
            return self._write_tree(bool(added.strip()) or not valid)

    def _write_tree(self, needed: bool) -> str:
        """The tree of the index after our ``git add``: written again only if the add changed
        an entry (it may rewrite the index for stat data alone: the tree is the same)."""
        if needed or self._tree is None:
            self._tree = self._run("write-tree").decode().strip()
        self._index_stat = self._index_signature()
        return self._tree

    def _add_paths(self, paths: list[str]) -> bytes | None:
        """``git add -A`` of just these paths (what the watcher saw change); None if git
        cannot do it that way (a full scan is then done)."""
        specs = [f":(literal){p}" for p in paths]
        for _attempt in range(5):
            if not specs:
                return b""
            try:
                return self._run("add", "--all", "--verbose", "--ignore-errors", "--", *specs,
                                 ok=_ignored_only)
            except ShadowError as err:
                # a path that came and went, never added: nothing to do for it
                gone = _UNMATCHED.search(str(err))
                if gone is None or gone.group(1) not in specs:
                    return None
                specs.remove(gone.group(1))
        return None

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

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def _check_size(self) -> None:
        listed = self._run("ls-files", "-z", "--others", "--exclude-standard")
        count = listed.count(b"\x00")
        if count > MAX_FILES:
            raise ShadowError(f"the workspace has more than {MAX_FILES:,} files outside "
                              ".gitignore; shell commands' changes are not recorded here")

    def changes(self, before: str, after: str) -> list[RawChange]:
        """The paths that differ between two snapshots (no rename detection), sorted."""
        if before == after:
            return []
        out = self._run("diff-tree", "-r", "-z", "--no-renames", "--raw", before, after)
        fields = out.split(b"\x00")
        found: list[RawChange] = []
        for i in range(0, len(fields) - 1, 2):
            meta, raw_path = fields[i].decode(), fields[i + 1]
            old_mode, new_mode, old_sha, new_sha, _status = meta.lstrip(":").split(" ")
            path = os.fsdecode(raw_path)
            old = None if old_mode == "000000" else TreeEntry(old_mode, old_sha)
            new = None if new_mode == "000000" else TreeEntry(new_mode, new_sha)
            if (old and old.mode == "160000") or (new and new.mode == "160000"):
                continue  # a nested repository: its own git keeps its history
            found.append(RawChange(path, old, new))
        return found

    def blobs(self, shas: list[str]) -> dict[str, bytes]:
        """The contents of blobs, by id (``git cat-file --batch``)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self._run("cat-file", "--batch", input="".join(f"{s}\n" for s in wanted).encode())
        contents: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode().split(" ")
            if len(header) < 3 or header[1] == "missing":
                raise ShadowError(f"the shadow repository lost the object {sha}")
            size = int(header[2])
            contents[sha] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return contents


def _ignored_only(code: int, stderr: bytes) -> bool:
    """``git add`` of named paths exits 1 when some are ignored; the others were added."""
    return code == 1 and b"ignored by one of your .gitignore files" in stderr


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.write_text(text, encoding="utf-8")
