"""Benchmarks print their figures past pytest's output capture, so CI logs show them."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a line to the test run's output, even when output capture is on."""

    def write(line: str) -> None:
        with capsys.disabled():
            print(line)

    return write
