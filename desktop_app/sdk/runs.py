"""``Run``: one execution of a script that uses artifact versions and logs new ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from desktop_app.core.errors import ValidationError
from desktop_app.core.records import RunInfo
from desktop_app.core.refs import parse_ref
from desktop_app.sdk import _context
from desktop_app.sdk.artifact import Artifact


class Run:
    """A run, as returned by ``init``; also a context manager that finishes it."""

    def __init__(self, info: RunInfo) -> None:
        self._info = info

    @classmethod
    def start(
        cls,
        *,
        project: str,
        job_type: str | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Run:
        backend = _context.get_client().backend
        return cls(backend.create_run(project, job_type=job_type, name=name, config=config))

    @property
    def id(self) -> str:
        return self._info.id

    @property
    def name(self) -> str | None:
        return self._info.name

    @property
    def project(self) -> str:
        return self._info.project

    @property
    def job_type(self) -> str | None:
        return self._info.job_type

    @property
    def config(self) -> Mapping[str, Any]:
        return self._info.config

    @property
    def state(self) -> str:
        return self._info.state

    def log_artifact(
        self,
        artifact_or_path: Artifact | str | Path,
        name: str | None = None,
        type: str | None = None,
        aliases: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> Artifact:
        """Log an artifact (or a file or folder path) as this run's output."""
        if isinstance(artifact_or_path, Artifact):
            artifact = artifact_or_path
        else:
            path = Path(artifact_or_path)
            artifact = Artifact(name or _name_from_path(path), type or "unspecified")
            if path.is_dir():
                artifact.add_dir(path)
            else:
                artifact.add_file(path)
        return artifact._log(self, aliases or (), tags or ())

    def use_artifact(
        self,
        artifact_or_name: Artifact | str,
        type: str | None = None,
        aliases: Sequence[str] | None = None,
        use_as: str | None = None,
    ) -> Artifact:
        """Declare a version as this run's input and return it (``name``, ``name:v2``...)."""
        backend = _context.get_client().backend
        if isinstance(artifact_or_name, Artifact):
            artifact = artifact_or_name
            if artifact.id is None:
                artifact._log(self, aliases or (), ())
        else:
            info = backend.resolve(parse_ref(artifact_or_name, self.project))
            artifact = Artifact._from_version(info)
        if type is not None and artifact.type != type:
            raise ValidationError(
                f"{artifact.qualified_name} has type {artifact.type!r}, not {type!r}"
            )
        assert artifact.id is not None
        backend.use_version(self.id, artifact.id)
        return artifact

    def finish(self, exit_code: int | None = None) -> None:
        """Mark the run finished (or failed for a non-zero exit code)."""
        if self._info.state == "running":
            state = "finished" if not exit_code else "failed"
            self._info = _context.get_client().backend.finish_run(self.id, state=state)
        if _context.current_run is self:
            _context.current_run = None

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exit_code=1 if exc_type is not None else 0)

    def __repr__(self) -> str:
        return f"<Run {self.project}/{self.id} job_type={self.job_type}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def _name_from_path(path: Path) -> str:
    """An artifact name from a file or folder name: unsupported characters become ``-``."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in path.name)
    return cleaned.strip(".") or "artifact"
