"""Change records, diffs and stats: the parsing and formatting undo relies on."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from joiner.tools.diffs import make_diff
from joiner.workspace.changes import FileChange, diff_stat, version_diff
from joiner.workspace.snapshot import FileVersion, read_version, restore

texts = st.lists(st.sampled_from(["a\n", "b\n", "-- c\n", "++ d\n", "--- e\n", "+++ f\n", "\n",
                                  "g", "@@ h\n"]), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_diff_stat_counts_the_lines_a_diff_adds_and_removes(before: str, after: str) -> None:
    diff = make_diff("f.txt", before, after)
    stat = diff_stat(diff)
    old, new = before.splitlines(), after.splitlines()
    assert stat["added"] - stat["removed"] == len(new) - len(old)
    assert stat["files"] == (1 if diff else 0)
    body = [line for line in diff.splitlines()[2:] if not line.startswith(("@@", "\\"))]
    assert stat["added"] + stat["removed"] == sum(1 for x in body if x[:1] in "+-")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 0o7777), st.none() | st.text(max_size=20))
def test_file_versions_survive_the_event_record(data: bytes, mode: int, link: str | None) -> None:
    version = FileVersion(mode, None if link else data, link=link or None, size=len(data))
    back = FileVersion.from_record(FileChange("p", version, None).to_record()["before"])
    assert back == version


def test_restore_is_exact_for_bytes_modes_and_links(tmp_path: Path) -> None:
    for mode, data in ((0o600, b"\x00\xff\r\n"), (0o755, b"#!/bin/sh\n"), (0o444, b"")):
        path = tmp_path / "dir" / "f"
        restore(path, FileVersion(mode, data, size=len(data)))
        assert read_version(path) == FileVersion(mode, data, size=len(data))
    restore(tmp_path / "l", FileVersion(0o777, link="dir/f", size=5))
    assert (tmp_path / "l").is_symlink() and (tmp_path / "l").read_bytes() == b""
    restore(tmp_path / "l", None)
    assert not (tmp_path / "l").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]  # no temporary file left


def test_binary_mode_and_link_diffs() -> None:
    a = FileVersion(0o644, b"\x00\x01", size=2)
    b = FileVersion(0o755, b"\x00\x02", size=2)
    assert version_diff("x.bin", a, b) == ("--- a/x.bin\n+++ b/x.bin\nold mode 100644 (644)\n"
                                           "new mode 100755 (755)\nBinary files a/x.bin and "
                                           "b/x.bin differ\n")
    text = FileVersion(0o644, b"one\n", size=4)
    assert version_diff("t", text, FileVersion(0o600, b"one\n", size=4)) == (
        "--- a/t\n+++ b/t\nold mode 100644 (644)\nnew mode 100644 (600)\n")
    assert version_diff("t", None, text) == "--- /dev/null\n+++ b/t\n@@ -0,0 +1 @@\n+one\n"
    link = FileVersion(0o777, link="t", size=1)
    assert "Binary files /dev/null and b/l differ" in version_diff("l", None, link)


def test_a_large_scattered_rewrite_gets_a_small_diff_that_applies(tmp_path: Path) -> None:
    rng = random.Random(6)
    before = [f"    line {i} = compute({i})\n" for i in range(5000)]
    after = list(before)
    for i in rng.sample(range(5000), 1000):
        after[i] = f"    changed {i}\n"
    diff = make_diff("f.py", "".join(before), "".join(after))
    assert diff_stat(diff) == {"files": 1, "added": 1000, "removed": 1000}
    (tmp_path / "f.py").write_text("".join(before))
    (tmp_path / "d.patch").write_text(diff)
    subprocess.run(["git", "apply", "d.patch"], cwd=tmp_path, check=True)
    assert (tmp_path / "f.py").read_text() == "".join(after)
