"""Plain records that the store, the backends and every front end pass around."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class VersionState(enum.StrEnum):
    PENDING = "PENDING"
    COMMITTED = "COMMITTED"
    DELETED = "DELETED"


@dataclass(frozen=True)
class ProjectInfo:
    """A namespace of runs and artifacts (``project`` or ``entity/project``)."""

    name: str
    artifact_count: int
    created_at: float


@dataclass(frozen=True)
class CollectionInfo:
    """A named, typed sequence of versions."""

    project: str
    name: str
    type: str
    description: str | None
    version_count: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class VersionInfo:
    """One version of an artifact (or a draft that has no number yet)."""

    id: str
    project: str
    name: str
    type: str
    index: int | None
    digest: str
    size: int
    file_count: int
    state: VersionState
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    logged_by: str | None = None
    created_at: float = 0.0
    committed_at: float | None = None

    @property
    def version(self) -> str | None:
        """``v3`` for a committed version, ``None`` for a draft."""
        return None if self.index is None else f"v{self.index}"

    @property
    def qualified_name(self) -> str:
        """``project/name:v3`` (``project/name:draft`` before commit)."""
        return f"{self.project}/{self.name}:{self.version or 'draft'}"


@dataclass(frozen=True)
class RunInfo:
    """One execution of a script that uses and logs artifact versions."""

    id: str
    project: str
    job_type: str | None
    name: str | None
    state: str
    created_at: float
    finished_at: float | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DraftResult:
    """Answer to creating a draft.

    ``unchanged`` means the content equals the latest committed version, which is
    ``version``; nothing needs to be uploaded or committed. Otherwise ``version`` is the
    new draft and ``missing`` lists the blob digests the backend still needs, or, when
    the draft was asked to commit at once and nothing was missing, the new version.
    """

    version: VersionInfo
    missing: tuple[str, ...]
    unchanged: bool = False

    @property
    def committed(self) -> bool:
        """Nothing is left to upload or commit: ``version`` is a committed version."""
        return self.version.state is VersionState.COMMITTED


@dataclass(frozen=True)
class Event:
    """One entry of the change feed; ``seq`` grows by one with every change."""

    seq: int
    kind: str
    project: str
    payload: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True)
class FeedPage:
    """Events after a cursor, and the cursor to read on from.

    ``next_cursor`` may lie past the last event given: a server skips the events of
    projects the caller may not read, but its cursor still moves past them.
    """

    events: tuple[Event, ...]
    next_cursor: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a long list; pass ``next_cursor`` back to read the next page."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class GcReport:
    """What garbage collection removed."""

    blobs_removed: int
    bytes_freed: int
