"""A compact overview of the repository for the system prompt: top-level layout, file count,
language mix.

Computed from ripgrep's file list (``rg --files``), so it honours ``.gitignore``, ``.ignore``
and hidden files and never walks an ignored tree (a 20,000-file ``node_modules`` costs
nothing); cached per process and workspace, so a run (or a TUI session of many prompts) lists
the files once. A repository too large to list in ``MAX_FILES`` lines or ``TIMEOUT`` seconds
gets an overview of what was listed, marked as partial.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

MAX_FILES = 300_000
TIMEOUT = 3.0  # seconds
TOP_ENTRIES = 24
LANGUAGES_SHOWN = 8

LANGUAGES = {
    ".py": "Python", ".pyi": "Python", ".ipynb": "Jupyter", ".js": "JavaScript",
    ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript", ".ts": "TypeScript",
    ".tsx": "TypeScript", ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin",
    ".kts": "Kotlin", ".scala": "Scala", ".c": "C", ".h": "C/C++ header", ".cc": "C++",
    ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".cs": "C#", ".fs": "F#", ".rb": "Ruby",
    ".php": "PHP", ".swift": "Swift", ".m": "Objective-C", ".mm": "Objective-C", ".lua": "Lua",
    ".pl": "Perl", ".r": "R", ".jl": "Julia", ".dart": "Dart", ".ex": "Elixir",
    ".exs": "Elixir", ".erl": "Erlang", ".hs": "Haskell", ".ml": "OCaml", ".clj": "Clojure",
    ".zig": "Zig", ".nim": "Nim", ".sh": "Shell", ".bash": "Shell", ".zsh": "Shell",
    ".ps1": "PowerShell", ".sql": "SQL", ".html": "HTML", ".css": "CSS", ".scss": "CSS",
    ".vue": "Vue", ".svelte": "Svelte", ".md": "Markdown", ".rst": "reStructuredText",
    ".json": "JSON", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".xml": "XML",
    ".proto": "Protocol Buffers", ".tf": "Terraform", ".txt": "Text",
}

_cache: dict[Path, str] = {}
_pending: dict[Path, threading.Thread] = {}
_lock = threading.Lock()


def prefetch_overview(root: Path) -> None:
    """Start computing the overview in a thread, so it is ready (or nearly) when the first
    request's system prompt needs it; ``repo_overview`` waits for it."""
    root = root.resolve()
    with _lock:
        if root in _cache or root in _pending:
            return
        thread = threading.Thread(target=_fill, args=(root,), name="joiner-overview",
                                  daemon=True)
        _pending[root] = thread
    thread.start()


def repo_overview(root: Path) -> str:
    """The overview of the workspace ``root`` (cached for this process)."""
    root = root.resolve()
    with _lock:
        thread = _pending.get(root)
    if thread is not None:
        thread.join()
    if root not in _cache:
        _fill(root)
    return _cache[root]


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _fill(root: Path) -> None:
    text = _build(root)
    with _lock:
        _cache.setdefault(root, text)
        _pending.pop(root, None)


def list_files(root: Path, limit: int = MAX_FILES,
               timeout: float = TIMEOUT) -> tuple[list[str], bool]:
    """Workspace-relative paths from ``rg --files`` (ignores honoured), and whether the list
    is complete (False: stopped at ``limit`` files or ``timeout`` seconds)."""
    from joiner.tools.ripgrep import BASE_ARGS, rg_binary, workspace_args

    try:
        process = subprocess.Popen([rg_binary(), *BASE_ARGS, *workspace_args(root), "--files"],
                                   cwd=root,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
    except Exception:  # no ripgrep, unreadable root: no overview, never a failed run
        return [], False
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    paths: list[str] = []
    complete = True
    pending = b""
    try:
        while chunk := process.stdout.read1(1 << 16):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            paths += (line.decode("utf-8", "replace") for line in lines)
            if len(paths) >= limit or time.monotonic() > deadline:
                complete = False
                break
        if pending and complete:
            paths.append(pending.decode("utf-8", "replace"))
    finally:
        if not complete:
            process.kill()
        process.stdout.close()
        process.wait()
    return paths[:limit], complete


def summarize_paths(paths: list[str], complete: bool = True) -> str:
    """The overview text of a file list."""
    if not paths:
        return ""
    tops: Counter[str] = Counter()
    files_at_top: list[str] = []
    suffixes: Counter[str] = Counter()
    for path in paths:  # plain string work: 30,000 paths in a few milliseconds
        slash = path.find("/")
        if slash > 0:
            tops[path[: slash + 1]] += 1
        else:
            files_at_top.append(path)
        dot = path.rfind(".")
        if dot > path.rfind("/") + 1:
            suffixes[path[dot:]] += 1
    languages: Counter[str] = Counter()
    for suffix, n in suffixes.items():
        if (language := LANGUAGES.get(suffix.lower())) is not None:
            languages[language] += n
    count = f"{len(paths):,}" if complete else f"more than {len(paths):,}"
    lines = [f"Repository overview ({count} files, ignored and hidden files left out; "
             "list_files and grep see the same files):"]
    entries = [f"{name} ({n:,} file{'s' * (n != 1)})" for name, n in sorted(tops.items())]
    entries += sorted(files_at_top)
    shown = entries[:TOP_ENTRIES]
    more = len(entries) - len(shown)
    lines.append("- top level: " + ", ".join(shown) + (f", and {more} more" if more else ""))
    if languages:
        total = sum(languages.values())
        mix = [f"{name} {_percent(n, total)} ({n:,})"
               for name, n in languages.most_common(LANGUAGES_SHOWN)]
        lines.append("- languages by file count: " + ", ".join(mix))
    return "\n".join(lines)


def _build(root: Path) -> str:
    paths, complete = list_files(root)
    return summarize_paths(paths, complete)


def _percent(part: int, total: int) -> str:
    share = 100 * part / total
    return "<1%" if share < 1 else f"{share:.0f}%"
