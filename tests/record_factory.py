"""A committed VersionInfo for tests that need records, not a store: defaults for every
field, overridden by keyword."""

from __future__ import annotations

from typing import Any

from desktop_app.core.records import VersionInfo, VersionState


def make_version(**fields: Any) -> VersionInfo:
    """``make_version(id="a", name="data", index=3, size=10, ...)``."""
    index = fields.get("index", 0)
    defaults: dict[str, Any] = {
        "id": f"id{index}",
        "project": "p",
        "name": "data",
        "type": "dataset",
        "index": index,
        "digest": f"{index or 0:032d}",
        "size": 0,
        "file_count": 0,
        "state": VersionState.COMMITTED,
    }
    return VersionInfo(**{**defaults, **fields})
