from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from tool_support import make_tools

from joiner.core import Tool, ToolError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def tools(root: Path) -> dict[str, Tool]:
    return make_tools(root)


# --- read_file -----------------------------------------------------------------------------

async def test_read_numbers_lines_like_cat_n(root: Path, tools: dict[str, Tool]) -> None:
    (root / "a.py").write_text("def f():\n    return 1\n")
    out = await tools["read_file"].run({"path": "a.py"})
    assert out.text == "     1\tdef f():\n     2\t    return 1\n"
    assert out.meta == {"files_read": ["a.py"]}
    assert not out.is_error


async def test_read_offset_and_limit_with_a_note_to_read_on(root: Path,
                                                            tools: dict[str, Tool]) -> None:
    (root / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = await tools["read_file"].run({"path": "n.txt", "offset": 4, "limit": 3})
    assert out.text.splitlines() == ["     4\tline 4", "     5\tline 5", "     6\tline 6",
                                     "… 4 more lines: read on with offset=7"]
    rest = await tools["read_file"].run({"path": "n.txt", "offset": 7})
    assert rest.text.splitlines()[-1] == "    10\tline 10"
    assert "more lines" not in rest.text


async def test_read_default_cap_counts_what_is_left(root: Path) -> None:
    tools = make_tools(root, read_max_lines=5)
    (root / "big.txt").write_text("".join(f"{i}\n" for i in range(1, 101)) + "last")
    out = await tools["read_file"].run({"path": "big.txt"})
    assert out.text.splitlines()[-1] == "… 96 more lines: read on with offset=6"
    assert len(out.text.splitlines()) == 6
    assert "At most 5 lines" in tools["read_file"].spec.description


async def test_read_byte_cap_and_long_lines(root: Path) -> None:
    tools = make_tools(root, read_max_bytes=200, read_max_line_chars=50)
    (root / "wide.txt").write_text(("x" * 120 + "\n") * 10)
    out = await tools["read_file"].run({"path": "wide.txt"})
    lines = out.text.splitlines()
    assert lines[0] == "     1\t" + "x" * 50 + " … [70 more characters]"
    assert lines[-1].startswith("… ") and "read on with offset=" in lines[-1]
    assert len(out.text.encode()) < 400


async def test_read_crlf_and_invalid_utf8(root: Path, tools: dict[str, Tool]) -> None:
    (root / "w.txt").write_bytes(b"one\r\ntw\xffo\r\n")
    out = await tools["read_file"].run({"path": "w.txt"})
    assert out.text == "     1\tone\n     2\ttw\ufffdo\n"


async def test_read_empty_file_and_offset_past_end(root: Path, tools: dict[str, Tool]) -> None:
    (root / "empty.txt").write_text("")
    assert "empty" in (await tools["read_file"].run({"path": "empty.txt"})).text
    (root / "three.txt").write_text("a\nb\nc\n")
    with pytest.raises(ToolError, match="has 3 lines; offset 9 is past its end"):
        await tools["read_file"].run({"path": "three.txt", "offset": 9})


async def test_read_refuses_binary_missing_and_directories(root: Path,
                                                           tools: dict[str, Tool]) -> None:
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ToolError, match=r"img\.png is a binary file"):
        await tools["read_file"].run({"path": "img.png"})
    with pytest.raises(ToolError, match=r"nope\.txt does not exist"):
        await tools["read_file"].run({"path": "nope.txt"})
    (root / "d").mkdir()
    with pytest.raises(ToolError, match="is a directory"):
        await tools["read_file"].run({"path": "d"})


async def test_read_validation(tools: dict[str, Tool]) -> None:
    for bad in ({}, {"path": 3}, {"path": "a", "limit": 0}, {"path": "a", "offset": -1},
                {"path": "a", "extra": 1}):
        with pytest.raises(ValidationError):
            await tools["read_file"].run(bad)


async def test_null_optional_arguments_mean_absent(root: Path, tools: dict[str, Tool]) -> None:
    (root / "a.txt").write_text("x\n")
    out = await tools["read_file"].run({"path": "a.txt", "offset": None, "limit": None})
    assert out.text == "     1\tx\n"


# --- confinement through the tools ----------------------------------------------------------

@pytest.fixture
def outside(tmp_path: Path, root: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    (root / "link_file").symlink_to(outside / "secret.txt")
    (root / "link_dir").symlink_to(outside)
    return outside


@pytest.mark.parametrize("path", ["../outside/secret.txt", "link_file", "link_dir/secret.txt",
                                  "OUTSIDE/secret.txt"])
async def test_reading_outside_is_refused(tools: dict[str, Tool], outside: Path,
                                          path: str) -> None:
    path = path.replace("OUTSIDE", str(outside))
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["read_file"].run({"path": path})


@pytest.mark.parametrize("path", ["../outside/new.txt", "link_file", "link_dir/new.txt",
                                  "link_dir/sub/new.txt", "OUTSIDE/new.txt"])
async def test_writing_outside_is_refused(tools: dict[str, Tool], outside: Path,
                                          path: str) -> None:
    path = path.replace("OUTSIDE", str(outside))
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["write_file"].run({"path": path, "content": "pwned\n"})
    with pytest.raises(ToolError, match="outside the workspace"):
        await tools["edit_file"].run({"path": path, "old_string": "secret",
                                      "new_string": "pwned"})
    assert (outside / "secret.txt").read_text() == "secret\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


# --- write_file ------------------------------------------------------------------------------

async def test_write_creates_parents_and_reports_a_diff(root: Path,
                                                        tools: dict[str, Tool]) -> None:
    out = await tools["write_file"].run({"path": "pkg/sub/mod.py", "content": "x = 1\n"})
    assert (root / "pkg" / "sub" / "mod.py").read_text() == "x = 1\n"
    assert out.text == "Created pkg/sub/mod.py (1 lines)."
    assert out.meta["files_modified"] == ["pkg/sub/mod.py"]
    assert out.meta["diff"] == ("--- /dev/null\n+++ b/pkg/sub/mod.py\n@@ -0,0 +1 @@\n+x = 1\n")


async def test_write_replaces_atomically_and_keeps_the_mode(root: Path,
                                                            tools: dict[str, Tool]) -> None:
    script = root / "run.sh"
    script.write_text("#!/bin/sh\necho old\n")
    script.chmod(0o750)
    out = await tools["write_file"].run({"path": "run.sh", "content": "#!/bin/sh\necho new\n"})
    assert script.read_text() == "#!/bin/sh\necho new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert out.meta["diff"] == ("--- a/run.sh\n+++ b/run.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n"
                                "-echo old\n+echo new\n")
    assert [p.name for p in root.iterdir()] == ["run.sh"]  # no temporary file left behind


async def test_write_new_file_mode_follows_the_umask(root: Path,
                                                     tools: dict[str, Tool]) -> None:
    old = os.umask(0o027)
    try:
        await tools["write_file"].run({"path": "f.txt", "content": "x"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "f.txt").stat().st_mode) == 0o640


async def test_write_through_a_symlink_inside_keeps_the_link(root: Path,
                                                             tools: dict[str, Tool]) -> None:
    (root / "real.txt").write_text("old\n")
    (root / "alias.txt").symlink_to(root / "real.txt")
    out = await tools["write_file"].run({"path": "alias.txt", "content": "new\n"})
    assert (root / "alias.txt").is_symlink()
    assert (root / "real.txt").read_text() == "new\n"
    assert out.meta["files_modified"] == ["real.txt"]


async def test_write_same_content_changes_nothing(root: Path, tools: dict[str, Tool]) -> None:
    (root / "a.txt").write_text("same\n")
    out = await tools["write_file"].run({"path": "a.txt", "content": "same\n"})
    assert "nothing changed" in out.text
    assert "files_modified" not in out.meta


async def test_write_refuses_a_directory(root: Path, tools: dict[str, Tool]) -> None:
    (root / "d").mkdir()
    with pytest.raises(ToolError, match="is a directory"):
        await tools["write_file"].run({"path": "d", "content": "x"})


async def test_write_refuses_lone_surrogates_without_writing(root: Path,
                                                             tools: dict[str, Tool]) -> None:
    with pytest.raises(ToolError, match="not valid Unicode"):
        await tools["write_file"].run({"path": "s.txt", "content": "a\ud800b"})
    assert list(root.iterdir()) == []


async def test_write_preview_is_the_diff_and_writes_nothing(root: Path,
                                                            tools: dict[str, Tool]) -> None:
    (root / "a.txt").write_text("one\n")
    diff = await tools["write_file"].preview({"path": "a.txt", "content": "two\n"})
    assert diff == "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n"
    assert (root / "a.txt").read_text() == "one\n"


# --- edit_file -------------------------------------------------------------------------------

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


async def test_edit_replaces_the_one_match(root: Path, tools: dict[str, Tool]) -> None:
    (root / "calc.py").write_text(SOURCE)
    out = await tools["edit_file"].run({"path": "calc.py", "old_string": "return a - b",
                                        "new_string": "return a - b  # minus"})
    assert (root / "calc.py").read_text() == SOURCE.replace("a - b", "a - b  # minus")
    assert out.text == "Edited calc.py: replaced 1 occurrence (at line 6)."
    assert out.meta["files_modified"] == ["calc.py"]
    assert out.meta["diff"] == ("--- a/calc.py\n+++ b/calc.py\n@@ -3,4 +3,4 @@\n \n \n"
                                " def sub(a, b):\n-    return a - b\n+    return a - b  # minus\n")


async def test_edit_zero_matches_says_so_and_leaves_the_file(root: Path,
                                                             tools: dict[str, Tool]) -> None:
    (root / "calc.py").write_text(SOURCE)
    with pytest.raises(ToolError, match=r"old_string was not found in calc\.py"):
        await tools["edit_file"].run({"path": "calc.py", "old_string": "return a * b",
                                      "new_string": "x"})
    with pytest.raises(ToolError, match="different leading or trailing whitespace"):
        await tools["edit_file"].run({"path": "calc.py", "old_string": "  return a + b  \n\n",
                                      "new_string": "x"})
    assert (root / "calc.py").read_text() == SOURCE


async def test_edit_several_matches_names_the_lines(root: Path, tools: dict[str, Tool]) -> None:
    (root / "calc.py").write_text(SOURCE)
    with pytest.raises(ToolError, match=r"occurs 2 times in calc.py \(lines 1, 5\)"):
        await tools["edit_file"].run({"path": "calc.py", "old_string": "(a, b)",
                                      "new_string": "(x, y)"})
    assert (root / "calc.py").read_text() == SOURCE


async def test_edit_replace_all(root: Path, tools: dict[str, Tool]) -> None:
    (root / "calc.py").write_text(SOURCE)
    out = await tools["edit_file"].run({"path": "calc.py", "old_string": "(a, b)",
                                        "new_string": "(x, y)", "replace_all": True})
    assert (root / "calc.py").read_text() == SOURCE.replace("(a, b)", "(x, y)")
    assert out.text == "Edited calc.py: replaced 2 occurrences (at lines 1, 5)."
    assert out.meta["diff"].count("@@") == 2  # one hunk: the two changes share context


async def test_edit_errors(root: Path, tools: dict[str, Tool]) -> None:
    (root / "a.txt").write_text("abc\n")
    with pytest.raises(ToolError, match="old_string is empty"):
        await tools["edit_file"].run({"path": "a.txt", "old_string": "", "new_string": "x"})
    with pytest.raises(ToolError, match="are the same"):
        await tools["edit_file"].run({"path": "a.txt", "old_string": "b", "new_string": "b"})
    with pytest.raises(ToolError, match="does not exist"):
        await tools["edit_file"].run({"path": "no.txt", "old_string": "b", "new_string": "c"})
    (root / "bin").write_bytes(b"a\x00b")
    with pytest.raises(ToolError, match="binary"):
        await tools["edit_file"].run({"path": "bin", "old_string": "a", "new_string": "c"})
    with pytest.raises(ValidationError):
        await tools["edit_file"].run({"path": "a.txt", "old_string": "a"})


async def test_edit_crlf_file_with_lf_strings(root: Path, tools: dict[str, Tool]) -> None:
    (root / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    await tools["edit_file"].run({"path": "w.txt", "old_string": "one\ntwo\n",
                                  "new_string": "1\n2\n"})
    assert (root / "w.txt").read_bytes() == b"1\r\n2\r\nthree\r\n"


async def test_edit_preview_matches_the_result_and_writes_nothing(
        root: Path, tools: dict[str, Tool]) -> None:
    (root / "calc.py").write_text(SOURCE)
    args = {"path": "calc.py", "old_string": "a + b", "new_string": "b + a"}
    diff = await tools["edit_file"].preview(args)
    assert (root / "calc.py").read_text() == SOURCE
    out = await tools["edit_file"].run(args)
    assert diff == out.meta["diff"]


async def test_concurrent_edits_of_one_file_both_land(root: Path,
                                                      tools: dict[str, Tool]) -> None:
    (root / "m.txt").write_text("".join(f"line {i}\n" for i in range(50)))
    edits = [tools["edit_file"].run({"path": "m.txt", "old_string": f"line {i}\n",
                                     "new_string": f"LINE {i}\n"}) for i in range(0, 50, 7)]
    await asyncio.gather(*edits)
    text = (root / "m.txt").read_text()
    assert all(f"LINE {i}\n" in text for i in range(0, 50, 7))


async def test_a_fifo_is_refused_instead_of_blocking(root: Path, tools: dict[str, Tool]) -> None:
    os.mkfifo(root / "pipe")
    for name, args in (("read_file", {"path": "pipe"}),
                       ("write_file", {"path": "pipe", "content": "x"}),
                       ("edit_file", {"path": "pipe", "old_string": "a", "new_string": "b"})):
        with pytest.raises(ToolError, match="not a regular file"):
            await asyncio.wait_for(tools[name].run(args), 5)
