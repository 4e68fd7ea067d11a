"""Sweeping other batches' directories as a batch starts: one with nothing left in it costs
no read of its results file (which holds every task's patch and may be large)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joiner.batch import leftovers


def _other_batch(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    batch_dir = root / "0123456789ab"
    batch_dir.mkdir(parents=True)
    output = tmp_path / "other.results.jsonl"
    output.write_text(json.dumps({"id": "t1", "is_error": True, "workdir": "x"}) + "\n")
    (batch_dir / leftovers.MARKER).write_text(json.dumps(
        {"output": str(output), "tasks": str(tmp_path / "other.jsonl")}))
    (batch_dir / leftovers.LOCK).touch()
    return batch_dir, output


def test_an_emptied_batch_directory_is_not_read(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "batch"
    batch_dir, _ = _other_batch(root, tmp_path)
    reads: list[Path] = []
    real = leftovers.read_recorded
    monkeypatch.setattr(leftovers, "read_recorded", lambda p: reads.append(p) or real(p))
    swept = leftovers.sweep_others(root, root / "own")
    assert (swept.batches, swept.copies) == (0, 0) and reads == []
    assert batch_dir.is_dir()

    stray = batch_dir / "t2-00000000"  # a copy a kill -9 left: now the results are read
    (stray / "src").mkdir(parents=True)
    swept = leftovers.sweep_others(root, root / "own")
    assert swept.copies == 1 and len(reads) == 1 and not stray.exists()
