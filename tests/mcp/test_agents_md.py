"""AGENTS.md discovery: the user's, then the repository's from the git root down, nearest last."""

from __future__ import annotations

from pathlib import Path

from joiner.instructions import instruction_sections, load_instructions
from joiner.prompt import system_prompt


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_order_user_then_root_down_to_cwd(tmp_path: Path) -> None:
    home, repo = tmp_path / "home", tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(tmp_path / "AGENTS.md", "above the git root: never read")
    user = write(home / "AGENTS.md", "user rule")
    root = write(repo / "AGENTS.md", "root rule")
    write(repo / "pkg" / "AGENTS.md", "  \n")  # empty: skipped
    deep = write(repo / "pkg" / "mod" / "AGENTS.md", "module rule")
    write(repo / "other" / "AGENTS.md", "a sibling directory: not on the path")
    cwd = repo / "pkg" / "mod" / "sub"
    cwd.mkdir()
    found = load_instructions(repo, cwd, user_dir=home)
    assert [(i.path, i.text) for i in found] == [
        (user, "user rule"), (root, "root rule"), (deep, "module rule")]
    assert not any(i.truncated for i in found)


def test_a_workspace_below_the_git_root_reads_up_to_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "AGENTS.md", "root")
    write(repo / "app" / "AGENTS.md", "app")
    found = load_instructions(repo / "app", repo / "app", user_dir=tmp_path / "nohome")
    assert [i.text for i in found] == ["root", "app"]


def test_without_git_only_the_workspace_and_a_cwd_outside_it(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", "parent: not read without git")
    workspace = tmp_path / "ws"
    write(workspace / "AGENTS.md", "ws")
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "AGENTS.md", "not in the workspace")
    assert [i.text for i in load_instructions(workspace, workspace, user_dir=tmp_path / "n")] == \
        ["ws"]
    assert [i.text for i in load_instructions(workspace, elsewhere, user_dir=tmp_path / "n")] == \
        ["ws"]


def test_a_large_file_is_cut_at_a_line_with_a_note(tmp_path: Path) -> None:
    line = "- keep the tests green and the diffs small\n"
    big = write(tmp_path / "AGENTS.md", line * 2000)  # about 88 kB
    [item] = load_instructions(tmp_path, tmp_path, max_bytes=4096, user_dir=tmp_path / "n")
    assert item.truncated and item.size == big.stat().st_size
    assert len(item.text.encode()) <= 4096 and item.text.endswith("small")
    [section] = instruction_sections([item])
    assert f"[joiner: {big} is {item.size} bytes; only its first" in section
    assert section.count(line.strip()) == item.text.count(line.strip())


def test_unreadable_and_binary_files_do_not_break_a_run(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").mkdir()  # a directory with that name
    assert load_instructions(tmp_path, tmp_path, user_dir=tmp_path / "n") == []
    other = tmp_path / "b"
    other.mkdir()
    (other / "AGENTS.md").write_bytes(b"rules \xff\xfe ok")
    [item] = load_instructions(other, other, user_dir=tmp_path / "n")
    assert item.text.startswith("rules ") and item.text.endswith(" ok")


def test_sections_reach_the_system_prompt_with_their_paths(tmp_path: Path) -> None:
    path = write(tmp_path / "AGENTS.md", "Use tabs. Codeword: HERON-3.")
    prompt = system_prompt(tmp_path, instruction_sections(
        load_instructions(tmp_path, tmp_path, user_dir=tmp_path / "n")))
    assert f"# AGENTS.md: {path}\n\nUse tabs. Codeword: HERON-3." in prompt
    assert prompt.index("Workspace root") < prompt.index("HERON-3")
