"""Request and response bodies, so that the OpenAPI schema says what the API really does."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.records import (
    CollectionInfo,
    Event,
    ProjectInfo,
    RunInfo,
    VersionInfo,
)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    expected: int | None = None


class Project(BaseModel):
    name: str
    artifact_count: int
    created_at: float

    @classmethod
    def of(cls, info: ProjectInfo) -> Project:
        return cls(name=info.name, artifact_count=info.artifact_count, created_at=info.created_at)


class Collection(BaseModel):
    project: str
    name: str
    type: str
    description: str | None
    version_count: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, info: CollectionInfo) -> Collection:
        return cls(**info.__dict__)


class Version(BaseModel):
    id: str
    project: str
    name: str
    type: str
    index: int | None
    version: str | None
    digest: str
    size: int
    file_count: int
    state: Literal["PENDING", "COMMITTED", "DELETED"]
    description: str | None
    metadata: dict[str, Any]
    aliases: list[str]
    tags: list[str]
    logged_by: str | None
    created_at: float
    committed_at: float | None

    @classmethod
    def of(cls, info: VersionInfo) -> Version:
        return cls(
            id=info.id,
            project=info.project,
            name=info.name,
            type=info.type,
            index=info.index,
            version=info.version,
            digest=info.digest,
            size=info.size,
            file_count=info.file_count,
            state=info.state.value,
            description=info.description,
            metadata=dict(info.metadata),
            aliases=list(info.aliases),
            tags=list(info.tags),
            logged_by=info.logged_by,
            created_at=info.created_at,
            committed_at=info.committed_at,
        )


class Run(BaseModel):
    id: str
    project: str
    job_type: str | None
    name: str | None
    state: str
    created_at: float
    finished_at: float | None
    config: dict[str, Any]

    @classmethod
    def of(cls, info: RunInfo) -> Run:
        return cls(**{**info.__dict__, "config": dict(info.config)})


class Entry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    path: str
    digest: str
    size: int | None = None
    ref: str | None = None
    birth_artifact_id: str | None = Field(default=None, alias="birthArtifactID")
    extra: dict[str, Any] | None = None

    @classmethod
    def of(cls, entry: ManifestEntry) -> dict[str, Any]:
        """The entry as W&B writes it, plus its path (defaults left out)."""
        return {"path": entry.path, **entry.to_json()}


class EventOut(BaseModel):
    seq: int
    kind: str
    project: str
    payload: dict[str, Any]
    created_at: float

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(**{**event.__dict__, "payload": dict(event.payload)})


class ProjectPage(BaseModel):
    items: list[Project]
    next_cursor: str | None


class CollectionPage(BaseModel):
    items: list[Collection]
    next_cursor: str | None


class VersionPage(BaseModel):
    items: list[Version]
    next_cursor: str | None


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str


class Names(BaseModel):
    items: list[str]


class Versions(BaseModel):
    items: list[Version]


class Runs(BaseModel):
    items: list[Run]


class LoggedBy(BaseModel):
    run: Run | None


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = "unspecified"
    manifest: dict[str, Any]
    description: str | None = None
    metadata: dict[str, Any] | None = None
    aliases: list[str] = []
    tags: list[str] = []
    run_id: str | None = None
    commit: bool = False  # commit at once when the project already holds every blob


class DraftOut(BaseModel):
    version: Version
    missing: list[str]
    unchanged: bool


class VersionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_type: str | None = None
    name: str | None = None
    config: dict[str, Any] | None = None


class RunFinish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["finished", "failed", "crashed"] = "finished"


class UseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_id: str


class FetchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digests: list[str] = Field(min_length=1, max_length=10_000)


class MissingOut(BaseModel):
    missing: list[str] = Field(description="the digests asked about that the project lacks")


class ChecksumsOut(BaseModel):
    checksums: dict[str, str] = Field(
        description="hex MD5 digest: hex XXH3-128 checksum of its bytes, for those of the "
        "digests asked about that the project holds and that have one"
    )


class Offset(BaseModel):
    offset: int


class UploadOut(BaseModel):
    complete: bool
    offset: int


class Health(BaseModel):
    status: str
    version: str
