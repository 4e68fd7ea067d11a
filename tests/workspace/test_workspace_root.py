from __future__ import annotations

from pathlib import Path

from joiner.workspace.root import find_workspace


def test_git_root_above_cwd(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == tmp_path.resolve()


def test_git_file_counts_as_root(tmp_path: Path) -> None:  # worktrees and submodules
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    (tmp_path / "sub").mkdir()
    assert find_workspace(tmp_path / "sub") == tmp_path.resolve()


def test_nearest_git_root_wins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    inner = tmp_path / "vendor" / "lib"
    (inner / ".git").mkdir(parents=True)
    (inner / "x").mkdir()
    assert find_workspace(inner / "x") == inner.resolve()


def test_no_git_means_cwd(tmp_path: Path) -> None:
    # tmp_path lives under /tmp, which has no .git above it
    cwd = tmp_path / "project"
    cwd.mkdir()
    assert find_workspace(cwd) == cwd.resolve()


def test_result_is_resolved_through_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / ".git").mkdir(parents=True)
    (real / "src").mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    assert find_workspace(link / "src") == real.resolve()
