"""Pages over lists: items after a cursor, at most ``limit`` of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from desktop_app.core.errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 10_000


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit {limit} is out of range; use 1 to {MAX_LIMIT}")
    return limit


def page(
    items: Sequence[T], key: Callable[[T], str], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """Items (sorted by ``key``) after ``cursor``, and the cursor of the next page."""
    check_limit(limit)
    after = [item for item in items if cursor is None or key(item) > cursor]
    chosen = after[:limit]
    return chosen, key(chosen[-1]) if len(after) > limit else None
