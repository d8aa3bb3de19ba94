"""The typed error hierarchy shared by every layer.

Every message names the thing that is wrong and says how to fix it, so that the CLI,
the SDK and the GUI can show ``str(error)`` to a person as it is.
"""

from __future__ import annotations


class ArtifactDeskError(Exception):
    """Base class of every error Artifact Desk raises on purpose.

    ``code`` is a stable machine-readable identifier (used by the server's problem+json
    bodies and by the CLI's exit codes); the message is for people.
    """

    code = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(ArtifactDeskError, ValueError):
    """Input that breaks a rule: a name, alias, path, reference, metadata, size..."""

    code = "invalid"
    exit_code = 2


class NotFoundError(ArtifactDeskError, LookupError):
    """A project, artifact, version, run, alias or blob that does not exist."""

    code = "not_found"
    exit_code = 3


class ConflictError(ArtifactDeskError):
    """The request clashes with the current state (type mismatch, committed version...)."""

    code = "conflict"
    exit_code = 4


class IntegrityError(ArtifactDeskError):
    """Bytes that do not match their digest, or a corrupt manifest or cache entry."""

    code = "integrity"
    exit_code = 5


class CancelledError(ArtifactDeskError):
    """The user cancelled a running transfer."""

    code = "cancelled"
    exit_code = 130


class BackendUnavailableError(ArtifactDeskError):
    """The backend cannot be reached right now; the operation may be retried later."""

    code = "unavailable"
    exit_code = 6


class OffsetMismatchError(ConflictError):
    """A resumable upload was sent from the wrong offset; ``expected`` says where to resume."""

    code = "offset_mismatch"

    def __init__(self, message: str, expected: int) -> None:
        super().__init__(message)
        self.expected = expected
