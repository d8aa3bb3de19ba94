"""Artifact references: ``entity/project/name:alias``, ``project/name:v3``, ``name``."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from desktop_app.core.errors import ValidationError
from desktop_app.core.names import (
    LATEST,
    quoted,
    validate_alias,
    validate_artifact_name,
    validate_project,
)

MAX_VERSION_INDEX = 2**63 - 1
ACCEPTED_FORMS = (
    "'name', 'project/name' or 'entity/project/name', optionally followed by "
    "':vN' (a version number) or ':alias'"
)

_VERSION_RE = re.compile(r"v([0-9]+)")


def validate_selector(selector: str) -> str:
    """A version selector: ``vN`` (a version number) or an alias such as ``latest``."""
    if isinstance(selector, str):
        match = _VERSION_RE.fullmatch(selector)
        if match is not None:
            digits = match.group(1)
            if len(digits) > 1 and digits.startswith("0"):
                raise ValidationError(
                    f"version {selector!r} has leading zeros; write 'v{int(digits)}'"
                )
            if int(digits) > MAX_VERSION_INDEX:
                raise ValidationError(
                    f"version {quoted(selector)} is too large; version numbers go up to "
                    f"v{MAX_VERSION_INDEX}"
                )
            return selector
    return validate_alias(selector)


@dataclass(frozen=True)
class ArtifactRef:
    """A parsed reference to one artifact version.

    ``project`` is ``entity/project``, ``project``, or ``None`` when the reference did not
    name one and the caller must supply a default; ``selector`` is ``vN`` or an alias.
    """

    project: str | None
    name: str
    selector: str = LATEST

    def __post_init__(self) -> None:
        if self.project is not None:
            validate_project(self.project)
        validate_artifact_name(self.name)
        validate_selector(self.selector)

    @property
    def version_index(self) -> int | None:
        """The version number of a ``vN`` selector (3 for ``v3``), else ``None``."""
        match = _VERSION_RE.fullmatch(self.selector)
        return int(match.group(1)) if match is not None else None

    @property
    def is_latest(self) -> bool:
        """Whether the reference follows the ``latest`` alias."""
        return self.selector == LATEST

    def with_project(self, project: str) -> ArtifactRef:
        """This reference with ``project`` filled in if it has none yet."""
        if self.project is not None:
            return self
        return replace(self, project=validate_project(project))

    def __str__(self) -> str:
        prefix = f"{self.project}/" if self.project is not None else ""
        return f"{prefix}{self.name}:{self.selector}"


def _in_ref(text: str, exc: ValidationError) -> ValidationError:
    return ValidationError(f"in artifact reference {quoted(text)}: {exc}")


def parse_ref(text: str, default_project: str | None = None) -> ArtifactRef:
    """Parse a reference; ``default_project`` fills a missing project.

    The selector follows the last ``:`` unless a ``/`` comes after it; without one the
    reference means ``latest``.
    """
    if not isinstance(text, str):
        raise ValidationError(
            f"artifact reference must be a string, not {type(text).__name__} {text!r}"
        )
    if not text:
        raise ValidationError(f"artifact reference '' is empty; write {ACCEPTED_FORMS}")
    if text.strip() != text:
        raise ValidationError(
            f"artifact reference {quoted(text)} starts or ends with whitespace; remove it"
        )
    body, selector = text, LATEST
    colon = text.rfind(":")
    if colon >= 0 and "/" not in text[colon + 1 :]:
        body, selector = text[:colon], text[colon + 1 :]
        if not selector:
            raise ValidationError(
                f"artifact reference {quoted(text)} ends with ':' but no version or alias; "
                "write 'name:latest', 'name:v3' or 'name:<alias>', or drop the ':'"
            )
    parts = body.split("/")
    if len(parts) > 3:
        raise ValidationError(
            f"artifact reference {quoted(text)} has {len(parts)} '/'-separated parts; "
            f"write {ACCEPTED_FORMS}"
        )
    project = "/".join(parts[:-1]) if len(parts) > 1 else None
    try:
        if project is not None:
            validate_project(project)
        validate_artifact_name(parts[-1])
        validate_selector(selector)
    except ValidationError as exc:
        raise _in_ref(text, exc) from None
    if project is None and default_project is not None:
        project = validate_project(default_project)
    return ArtifactRef(project=project, name=parts[-1], selector=selector)
