"""Fixtures of the reliability tests (issue #9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_kit import Joiner


@pytest.fixture
def joiner(tmp_path: Path) -> Joiner:
    return Joiner(tmp_path)
