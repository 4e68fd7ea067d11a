"""Removing a batch's copies never fails the batch: a copy that cannot be renamed aside stays
(the next run's sweep tries again) and the caller goes on."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from joiner.batch import leftovers, reclaim


def _busy_rename(self: Path, target: object) -> Path:
    raise OSError(errno.EBUSY, "Device or resource busy", str(self))


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JOINER_HOME", str(tmp_path / "home"))
    root = tmp_path / "batch" / "task-1"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    return root


def test_a_copy_that_cannot_be_renamed_stays_and_nothing_raises(
        copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Path, "rename", _busy_rename)
    reclaimer = reclaim.Reclaimer()
    reclaimer.discard(copy)
    reclaimer.close()
    reclaim.remove_copy(copy)
    leftovers._remove(copy)
    assert (copy / "src" / "a.py").read_text() == "x = 1\n"
    assert reclaimer.removed == 0


def test_a_copy_is_removed_in_the_background(copy: Path) -> None:
    reclaimer = reclaim.Reclaimer()
    reclaimer.discard(copy)
    reclaimer.close()
    assert not copy.exists()
    assert list(copy.parent.iterdir()) == []
    assert reclaimer.removed == 1 and reclaimer.freed > 0
