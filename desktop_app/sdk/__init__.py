"""The W&B-style Python API: ``import desktop_app.sdk as wandb``.

run = wandb.init(project="artifacts-example", job_type="add-dataset")
artifact = wandb.Artifact(name="example_artifact", type="dataset")
artifact.add_file(local_path="./dataset.h5", name="training_dataset")
artifact.save()
artifact = run.use_artifact("example_artifact:latest")
datadir = artifact.download()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from desktop_app.core.errors import (
    ArtifactDeskError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from desktop_app.sdk import _context
from desktop_app.sdk.api import Api
from desktop_app.sdk.artifact import Artifact
from desktop_app.sdk.runs import Run

DEFAULT_PROJECT = "uncategorized"


def init(
    project: str | None = None,
    job_type: str | None = None,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    entity: str | None = None,
) -> Run:
    """Start a run (finishing the current one) and make it the current run."""
    project = project or os.environ.get("ARTIFACT_DESK_PROJECT") or DEFAULT_PROJECT
    if entity:
        project = f"{entity}/{project}"
    if _context.current_run is not None:
        _context.current_run.finish()
    run = Run.start(project=project, job_type=job_type, name=name, config=config)
    _context.current_run = run
    return run


def finish(exit_code: int | None = None) -> None:
    """Finish the current run, if any."""
    if _context.current_run is not None:
        _context.current_run.finish(exit_code)


def __getattr__(name: str) -> Any:
    if name == "run":  # ``wandb.run``: the current run or None
        return _context.current_run
    raise AttributeError(f"module 'desktop_app.sdk' has no attribute {name!r}")


__all__ = [
    "Api",
    "Artifact",
    "ArtifactDeskError",
    "ConflictError",
    "IntegrityError",
    "NotFoundError",
    "Run",
    "ValidationError",
    "finish",
    "init",
]
