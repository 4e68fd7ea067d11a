from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from tool_support import make_tools

from joiner.core import ToolError
from joiner.tools.ripgrep import rg_binary


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A workspace with ignored, hidden and binary files next to ordinary ones."""
    root = tmp_path / "repo"
    for rel, text in {
        "README.md": "# Demo\nneedle in the readme\n",
        "src/app.py": "import os\n\ndef main():\n    return 'needle'\n",
        "src/util/helpers.py": "def helper():\n    pass  # needle\n",
        "src/util/notes.txt": "nothing here\n",
        "node_modules/lib/index.js": "needle in node_modules\n",
        "build/out.py": "needle in build\n",
        "debug.log": "needle in a log\n",
        "secret.env": "needle in an .ignore'd file\n",
        ".hidden/config.py": "needle in a hidden dir\n",
        ".git/config": "needle in .git\n",
        ".gitignore": "node_modules/\nbuild/\n*.log\n",
        ".ignore": "secret.env\n",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "src" / "blob.bin").write_bytes(b"needle\x00\x01\x02")
    return root


def test_the_wheel_binary_is_found() -> None:
    assert Path(rg_binary()).is_file()


async def test_list_files_honours_ignore_files_and_hidden(repo: Path) -> None:
    out = await make_tools(repo)["list_files"].run({})
    assert out.text.splitlines() == ["README.md", "src/app.py", "src/blob.bin",
                                     "src/util/helpers.py", "src/util/notes.txt"]


async def test_list_files_without_a_git_repository_still_honours_gitignore(repo: Path) -> None:
    (repo / ".git" / "config").unlink()
    (repo / ".git").rmdir()
    out = await make_tools(repo)["list_files"].run({})
    assert "node_modules" not in out.text and "debug.log" not in out.text


async def test_list_files_pattern_and_path(repo: Path) -> None:
    tools = make_tools(repo)
    assert (await tools["list_files"].run({"pattern": "*.py"})).text.splitlines() == [
        "src/app.py", "src/util/helpers.py"]
    out = await tools["list_files"].run({"pattern": "util/*.py", "path": "src"})
    assert out.text == "src/util/helpers.py"
    out = await tools["list_files"].run({"path": "src/util"})
    assert out.text.splitlines() == ["src/util/helpers.py", "src/util/notes.txt"]
    out = await tools["list_files"].run({"pattern": "*.rs"})
    assert out.text.startswith("No files matching '*.rs'")


async def test_list_files_errors(repo: Path) -> None:
    tools = make_tools(repo)
    with pytest.raises(ToolError, match="is a file"):
        await tools["list_files"].run({"path": "README.md"})
    with pytest.raises(ToolError, match="does not exist"):
        await tools["list_files"].run({"path": "nope"})
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["list_files"].run({"path": ".."})
    with pytest.raises(ToolError, match="list_files failed"):
        await tools["list_files"].run({"pattern": "[unclosed"})


async def test_list_files_cap_with_a_note(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02}.txt").write_text("x")
    out = await make_tools(tmp_path, list_max_entries=10)["list_files"].run({})
    lines = out.text.splitlines()
    assert lines[:10] == [f"f{i:02}.txt" for i in range(10)]
    assert lines[10].startswith("… 20 more files: narrow the pattern")
    out = await make_tools(tmp_path, list_max_bytes=30)["list_files"].run({})
    assert len(out.text.splitlines()) == 4 and "… 27 more files" in out.text  # 8 bytes each


async def test_list_files_does_not_follow_a_symlink_out(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text("needle\n")
    (repo / "src" / "link").symlink_to(outside)
    tools = make_tools(repo)
    assert "leak" not in (await tools["list_files"].run({})).text
    assert "leak" not in (await tools["grep"].run({"pattern": "needle"})).text
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["grep"].run({"pattern": "needle", "path": "src/link"})


async def test_grep_skips_ignored_hidden_and_binary_files(repo: Path) -> None:
    out = await make_tools(repo)["grep"].run({"pattern": "needle"})
    assert out.text.splitlines() == ["README.md:2:needle in the readme",
                                     "src/app.py:4:    return 'needle'",
                                     "src/util/helpers.py:2:    pass  # needle"]


async def test_grep_path_glob_and_regex(repo: Path) -> None:
    tools = make_tools(repo)
    out = await tools["grep"].run({"pattern": r"def \w+\(", "path": "src"})
    assert out.text.splitlines() == ["src/app.py:3:def main():",
                                     "src/util/helpers.py:1:def helper():"]
    out = await tools["grep"].run({"pattern": "needle", "glob": "*.md"})
    assert out.text == "README.md:2:needle in the readme"
    out = await tools["grep"].run({"pattern": "needle", "path": "src/util/helpers.py"})
    assert out.text == "src/util/helpers.py:2:    pass  # needle"
    out = await tools["grep"].run({"pattern": "(?i)NEEDLE IN THE"})
    assert out.text == "README.md:2:needle in the readme"
    out = await tools["grep"].run({"pattern": "-notanoption"})
    assert out.text.startswith("No matches for '-notanoption'")


async def test_grep_errors(repo: Path) -> None:
    tools = make_tools(repo)
    with pytest.raises(ToolError, match="grep failed: regex parse error"):
        await tools["grep"].run({"pattern": "def ("})
    with pytest.raises(ToolError, match="the pattern is empty"):
        await tools["grep"].run({"pattern": ""})
    with pytest.raises(ToolError, match="does not exist"):
        await tools["grep"].run({"pattern": "x", "path": "missing"})
    with pytest.raises(ValidationError):
        await tools["grep"].run({"path": "src"})


async def test_grep_caps_matches_bytes_and_long_lines(tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text("".join(f"hit {i}\n" for i in range(500)))
    out = await make_tools(tmp_path, grep_max_matches=50)["grep"].run({"pattern": "hit"})
    lines = out.text.splitlines()
    assert lines[:2] == ["many.txt:1:hit 0", "many.txt:2:hit 1"]
    assert len(lines) == 51
    assert lines[-1].startswith("… 450 more matching lines: narrow the pattern")
    out = await make_tools(tmp_path, grep_max_bytes=100)["grep"].run({"pattern": "hit"})
    assert len(out.text) < 250 and "more matching lines" in out.text
    (tmp_path / "wide.txt").write_text("x" * 5000 + " hit\n")
    out = await make_tools(tmp_path, grep_max_line_chars=100)["grep"].run(
        {"pattern": "hit", "path": "wide.txt"})
    assert len(out.text) < 300


async def test_grep_stops_ripgrep_on_a_flood(tmp_path: Path) -> None:
    (tmp_path / "flood.txt").write_text("hit\n" * 30_000)
    out = await make_tools(tmp_path, grep_max_matches=10)["grep"].run({"pattern": "hit"})
    assert out.text.splitlines()[-1].startswith("… more than")


async def test_output_lines_longer_than_a_read_chunk_stay_whole(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("y" * 150_000 + " hit\nhit again\n")
    tools = make_tools(tmp_path, grep_max_line_chars=200_000, grep_max_bytes=400_000)
    lines = (await tools["grep"].run({"pattern": "hit"})).text.splitlines()
    assert lines == ["long.txt:1:" + "y" * 150_000 + " hit", "long.txt:2:hit again"]


async def test_a_gitignore_above_the_repository_does_not_apply(tmp_path: Path) -> None:
    """A dotfiles repository in a parent directory ignoring everything (``*``) must not hide
    the workspace's files; without a git repository of its own the workspace's .gitignore
    still applies."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*\n")
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / "main.py").write_text("needle\n")
    tools = make_tools(root)
    assert (await tools["list_files"].run({})).text == "main.py"
    assert (await tools["grep"].run({"pattern": "needle"})).text == "main.py:1:needle"
