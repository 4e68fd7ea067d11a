"""The repository overview: from ripgrep's file list, ignores honoured, cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from joiner.context import overview
from joiner.context.overview import list_files, repo_overview, summarize_paths


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    overview.clear_cache()


def make_repo(root: Path) -> None:
    (root / ".gitignore").write_text("node_modules/\n*.log\n")
    (root / ".ignore").write_text("build/\n")
    for rel in ["src/app.py", "src/util.py", "src/web/index.ts", "docs/guide.md", "README.md",
                "node_modules/pkg/index.js", "build/out.py", "debug.log", ".hidden/secret.py"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


def test_the_overview_leaves_out_ignored_and_hidden_files(tmp_path: Path) -> None:
    make_repo(tmp_path)
    paths, complete = list_files(tmp_path)
    assert complete and sorted(paths) == ["README.md", "docs/guide.md", "src/app.py",
                                          "src/util.py", "src/web/index.ts"]
    text = repo_overview(tmp_path)
    assert "5 files" in text
    assert "src/ (3 files)" in text and "docs/ (1 file)" in text and "README.md" in text
    assert "Python 40% (2)" in text and "TypeScript 20% (1)" in text
    for hidden in ("node_modules", "build", "debug.log", ".hidden"):
        assert hidden not in text


def test_the_overview_is_computed_once_per_workspace(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path)
    calls = []
    real = overview.list_files
    monkeypatch.setattr(overview, "list_files", lambda root: calls.append(root) or real(root))
    first = repo_overview(tmp_path)
    (tmp_path / "src" / "new.py").write_text("y\n")
    assert repo_overview(tmp_path) == first and len(calls) == 1


def test_a_listing_stopped_at_its_limit_says_more_than(tmp_path: Path) -> None:
    for i in range(50):
        (tmp_path / f"f{i}.py").write_text("")
    paths, complete = list_files(tmp_path, limit=10)
    assert len(paths) == 10 and not complete
    assert "more than 10 files" in summarize_paths(paths, complete)


def test_an_empty_or_missing_workspace_has_no_overview(tmp_path: Path) -> None:
    assert repo_overview(tmp_path) == ""
    assert repo_overview(tmp_path / "missing") == ""
