"""``Api``: read logged artifacts without a run, as W&B's public API does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from desktop_app.core.errors import NotFoundError, ValidationError
from desktop_app.core.records import CollectionInfo
from desktop_app.core.refs import parse_ref
from desktop_app.sdk import _context
from desktop_app.sdk.artifact import Artifact
from desktop_app.sdk.runs import Run


@dataclass(frozen=True)
class ArtifactType:
    """One artifact type of a project."""

    project: str
    name: str

    def collections(self) -> list[ArtifactCollection]:
        return Api().artifact_collections(self.project, self.name)


@dataclass(frozen=True)
class ArtifactCollection:
    """A named artifact and its versions."""

    info: CollectionInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def type(self) -> str:
        return self.info.type

    @property
    def project(self) -> str:
        return self.info.project

    def artifacts(self) -> list[Artifact]:
        return Api().artifacts(self.type, f"{self.project}/{self.name}")

    versions = artifacts


class Api:
    """Query artifacts, types, collections and runs; ``overrides={"project": ...}``."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._project = (overrides or {}).get("project")
        self._backend = _context.get_client().backend

    def artifact(self, name: str, type: str | None = None) -> Artifact:
        """The version ``name`` refers to (``project/name:alias``, ``entity/project/name:v1``)."""
        info = self._backend.resolve(parse_ref(name, self._project))
        if type is not None and info.type != type:
            raise ValidationError(f"{info.qualified_name} has type {info.type!r}, not {type!r}")
        return Artifact._from_version(info)

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        try:
            self.artifact(name, type)
        except NotFoundError:
            return False
        return True

    def artifact_types(self, project: str | None = None) -> list[ArtifactType]:
        project = self._need_project(project)
        return [ArtifactType(project, t) for t in self._backend.list_artifact_types(project)]

    def artifact_collections(
        self,
        project_name: str | None = None,
        type_name: str | None = None,
    ) -> list[ArtifactCollection]:
        project = self._need_project(project_name)
        return [
            ArtifactCollection(info) for info in self._backend.list_collections(project, type_name)
        ]

    def artifacts(self, type_name: str, name: str) -> list[Artifact]:
        """Every version of ``project/name`` (type must match)."""
        ref = parse_ref(name, self._project)
        if ref.project is None:
            raise ValidationError(f"give the project as well: 'project/{ref.name}'")
        versions = self._backend.list_versions(ref.project, ref.name)
        if versions and versions[0].type != type_name:
            raise ValidationError(
                f"{ref.project}/{ref.name} has type {versions[0].type!r}, not {type_name!r}"
            )
        return [Artifact._from_version(v) for v in versions]

    def run(self, path: str) -> Run:
        """A run by ``project/run_id`` or ``run_id``."""
        return Run(self._backend.get_run(path.rsplit("/", 1)[-1]))

    def _need_project(self, project: str | None) -> str:
        project = project or self._project
        if project is None:
            raise ValidationError(
                "name the project, e.g. Api().artifact_types('my-project'), or pass "
                "Api(overrides={'project': 'my-project'})"
            )
        return project
