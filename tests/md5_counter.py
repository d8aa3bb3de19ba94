"""Counting the bytes fed to MD5, to show that a check used a cheaper hash instead.

``tests/`` is on ``sys.path`` (it holds a conftest), so test modules import this by name.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest


@contextlib.contextmanager
def md5_bytes_counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Within the block every ``hashlib.md5`` made counts its input: the list receives the
    size of each piece it is fed (the real hasher still does the work)."""
    hashed: list[int] = []
    real_md5 = hashlib.md5

    class CountingMd5:
        def __init__(self, data: bytes = b"", **kwargs: Any) -> None:
            self._hasher = real_md5(data, **kwargs)
            hashed.append(len(data))

        def update(self, data: Any) -> None:
            hashed.append(len(memoryview(data).cast("B")))
            self._hasher.update(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._hasher, name)

    with monkeypatch.context() as patched:
        patched.setattr(hashlib, "md5", CountingMd5)
        yield hashed
