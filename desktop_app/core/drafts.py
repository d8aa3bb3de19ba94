"""The fields of a new version, checked one way for every store and every client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.metadata import metadata_to_json, normalize_metadata
from desktop_app.core.names import (
    LATEST,
    validate_artifact_name,
    validate_description,
    validate_project,
    validate_tag,
    validate_type,
    validate_user_alias,
)


@dataclass(frozen=True)
class DraftFields:
    """A draft's names and annotations, each validated (and normalized)."""

    project: str
    name: str
    type: str
    description: str | None
    metadata_json: str
    aliases: tuple[str, ...]
    tags: tuple[str, ...]


def check_draft_fields(
    project: str,
    name: str,
    type_: str,
    *,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> DraftFields:
    """Validate what a draft is created with; the first problem raises ValidationError.

    A client checks them before it sends any bytes early, the store again before it writes.
    """
    return DraftFields(
        project=validate_project(project),
        name=validate_artifact_name(name),
        type=validate_type(type_),
        description=validate_description(description),
        metadata_json=metadata_to_json(normalize_metadata(metadata)),
        # ``latest`` is applied to every new version anyway, so asking for it is harmless.
        aliases=tuple(sorted({validate_user_alias(a) for a in aliases if a != LATEST})),
        tags=tuple(sorted({validate_tag(t) for t in tags})),
    )
