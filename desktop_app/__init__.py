"""Artifact Desk: versioned datasets and models with W&B Artifacts semantics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("artifact-desk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"
