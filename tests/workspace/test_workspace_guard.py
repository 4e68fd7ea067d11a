from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joiner.core import ToolError
from joiner.workspace.guard import Workspace


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Workspace, Path]:
    """root/ with src/a.py, a link to a dir outside, a link to a file outside, a link inside."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    outside.mkdir()
    (root / "src" / "a.py").write_text("a\n")
    (outside / "secret.txt").write_text("secret\n")
    (root / "out_dir").symlink_to(outside)
    (root / "out_file").symlink_to(outside / "secret.txt")
    (root / "in_link").symlink_to(root / "src")
    (root / "dangling_out").symlink_to(outside / "missing.txt")
    return Workspace(root), outside


def test_relative_and_absolute_inside(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.resolve("src/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve(str(ws.root / "src" / "a.py")) == ws.root / "src" / "a.py"
    assert ws.resolve("src/../src/./a.py") == ws.root / "src" / "a.py"
    assert ws.resolve(".") == ws.root
    assert ws.resolve("") == ws.root


def test_new_paths_inside_are_fine(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.resolve("new/dir/file.txt") == ws.root / "new" / "dir" / "file.txt"
    assert ws.resolve("new/../other.txt") == ws.root / "other.txt"


@pytest.mark.parametrize("path", [
    "../outside/secret.txt",
    "src/../../outside/secret.txt",
    "..",
    "/etc/passwd",
    "/",
])
def test_traversal_and_absolute_outside_refused(layout: tuple[Workspace, Path],
                                                path: str) -> None:
    ws, _ = layout
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve(path)


def test_symlink_out_refused_for_existing_and_new_paths(layout: tuple[Workspace, Path]) -> None:
    ws, outside = layout
    for path in ("out_file", "out_dir/secret.txt", "out_dir/new_file.txt",
                 "out_dir/new_dir/deeper.txt", "dangling_out", "in_link/../out_dir/x"):
        with pytest.raises(ToolError, match="outside the workspace"):
            ws.resolve(path)
    assert not (outside / "new_file.txt").exists()


def test_symlink_inside_resolves_to_its_target(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.resolve("in_link/a.py") == ws.root / "src" / "a.py"
    assert ws.resolve("in_link/new.py") == ws.root / "src" / "new.py"


def test_root_given_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    ws = Workspace(tmp_path / "alias")
    assert ws.root == (tmp_path / "real").resolve()
    assert ws.resolve(str(tmp_path / "alias" / "f")) == ws.root / "f"


def test_tilde_is_home_and_refused_outside(layout: tuple[Workspace, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws, outside = layout
    monkeypatch.setenv("HOME", str(outside))
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve("~/secret.txt")


def test_nul_and_non_strings_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    with pytest.raises(ToolError, match="NUL"):
        ws.resolve("src/a\x00.py")
    with pytest.raises(ToolError, match="string"):
        ws.resolve(42)  # type: ignore[arg-type]


def test_relative_reports_posix_paths(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.relative(ws.root / "src" / "a.py") == "src/a.py"
    assert ws.relative("src/../src/a.py") == "src/a.py"
    assert ws.relative(ws.root) == "."
    with pytest.raises(ToolError):
        ws.relative("/etc")


def test_symlink_loop_does_not_crash(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "loop_a").symlink_to(ws.root / "loop_b")
    (ws.root / "loop_b").symlink_to(ws.root / "loop_a")
    try:
        resolved = ws.resolve("loop_a/x")
    except ToolError:
        return
    assert resolved.is_relative_to(ws.root)


COMPONENTS = st.sampled_from(["..", ".", "src", "a.py", "out_dir", "out_file", "in_link",
                              "dangling_out", "", "new", "~", "\x00", "/", "//", "..."])


@st.composite
def paths(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(COMPONENTS, st.text(max_size=12)), max_size=8))
    path = "/".join(parts)
    if draw(st.booleans()):
        path = "/" + path
    return path


@settings(max_examples=400, deadline=None)
@given(path=paths())
def test_random_paths_never_escape_and_never_crash(path: str, tmp_path_factory:
                                                   pytest.TempPathFactory) -> None:
    ws, outside = _fixed_layout(tmp_path_factory)
    try:
        resolved = ws.resolve(path)
    except ToolError as err:
        assert str(err)
        return
    real = Path(os.path.realpath(resolved))
    assert real.is_relative_to(ws.root)
    assert not real.is_relative_to(outside)


_LAYOUT: dict[str, tuple[Workspace, Path]] = {}


def _fixed_layout(factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    """One layout for all hypothesis examples (a function-scoped fixture would be shared anyway,
    and hypothesis refuses those)."""
    if "x" not in _LAYOUT:
        base = factory.mktemp("guard")
        root, outside = base / "root", base / "outside"
        (root / "src").mkdir(parents=True)
        outside.mkdir()
        (root / "src" / "a.py").write_text("a\n")
        (outside / "secret.txt").write_text("s\n")
        (root / "out_dir").symlink_to(outside)
        (root / "out_file").symlink_to(outside / "secret.txt")
        (root / "in_link").symlink_to(root / "src")
        (root / "dangling_out").symlink_to(outside / "missing")
        _LAYOUT["x"] = (Workspace(root), outside.resolve())
    return _LAYOUT["x"]
