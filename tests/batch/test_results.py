"""The results file: what is recorded is read back for resume; a cut last line is dropped."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from joiner.batch.results import ResultsFile


def line(task_id: str, cost: float | None = 0.01, error: bool = False) -> dict:
    return {"id": task_id, "is_error": error, "usage": {"input_tokens": 100, "output_tokens": 10,
                                                       "cache_read_tokens": 0,
                                                       "cache_write_tokens": 0,
                                                       "cost_usd": cost}}


def test_lines_are_appended_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.jsonl"
    results = ResultsFile(path)
    assert results.load().ids == set()
    results.append(line("a"))
    results.append(line("b", None, error=True))
    results.close()
    results = ResultsFile(path)
    results.append(line("c", 0.02))
    results.close()
    recorded = ResultsFile(path).load()
    assert recorded.ids == {"a", "b", "c"}
    assert round(recorded.cost_usd, 10) == 0.03 and recorded.tokens == 330
    assert recorded.failed == 1 and not recorded.dropped_tail
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["a", "b", "c"]


def test_a_cut_last_line_is_dropped_and_other_junk_ignored(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(line("a")) + "\nnot json\n[1]\n{\"no\": \"id\"}\n\n"
                    + json.dumps(line("b")) + "\n" + json.dumps(line("c"))[:25])
    results = ResultsFile(path)
    recorded = results.load()
    assert recorded.ids == {"a", "b"} and recorded.dropped_tail
    assert recorded.ignored_lines == [2, 3, 4]
    assert path.read_text().endswith(json.dumps(line("b")) + "\n")
    results.append(line("c"))
    results.close()
    assert ResultsFile(path).load().ids == {"a", "b", "c"}


@given(st.lists(st.tuples(st.text(min_size=1), st.floats(0, 5)), max_size=8), st.integers(0, 80))
def test_any_cut_keeps_every_whole_line(tmp_path_factory, entries, cut: int) -> None:
    path = tmp_path_factory.mktemp("r") / "results.jsonl"
    text = "".join(json.dumps(line(i, c), ensure_ascii=False) + "\n" for i, c in entries)
    data = text.encode()
    kept = data[: max(0, len(data) - cut)]
    path.write_bytes(kept)
    recorded = ResultsFile(path).load()
    whole = kept[: kept.rfind(b"\n") + 1].decode().split("\n")[:-1]
    assert recorded.ids == {json.loads(x)["id"] for x in whole}
    assert path.read_bytes() == kept[: kept.rfind(b"\n") + 1]
