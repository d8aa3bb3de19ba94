"""JSON of the HTTP API <-> the records every layer passes around.

Everything a server sends is checked here before the client acts on it: a wrong type is a
:class:`ValidationError` naming the field, and every entry path goes through
:func:`validate_entry_path`, so that a malicious or broken server cannot make the client
write outside the folder it downloads into.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.paths import validate_entry_path
from desktop_app.core.records import (
    CollectionInfo,
    DraftResult,
    Event,
    Page,
    ProjectInfo,
    RunInfo,
    VersionInfo,
    VersionState,
)

T = TypeVar("T")
_ENTRY_KEYS = ("digest", "size", "ref", "birthArtifactID", "extra")


def _bad(what: str, why: str) -> ValidationError:
    return ValidationError(
        f"the server sent a malformed {what}: {why}; the server may run another version of "
        "Artifact Desk, so update the app or ask the server's admin"
    )


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _bad(what, f"expected a JSON object, got {type(data).__name__}")
    return data


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _bad(what, f"{key!r} should be a string, not {value!r}")
    return value


def _opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    return None if data.get(key) is None else _str(data, key, what)


def _int(data: Mapping[str, Any], key: str, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(what, f"{key!r} should be a whole number, not {value!r}")
    return value


def _opt_int(data: Mapping[str, Any], key: str, what: str) -> int | None:
    return None if data.get(key) is None else _int(data, key, what)


def _float(data: Mapping[str, Any], key: str, what: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(what, f"{key!r} should be a number, not {value!r}")
    return float(value)


def _opt_float(data: Mapping[str, Any], key: str, what: str) -> float | None:
    return None if data.get(key) is None else _float(data, key, what)


def _dict(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad(what, f"{key!r} should be a JSON object, not {value!r}")
    return dict(value)


def _strings(data: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(what, f"{key!r} should be a list of strings, not {value!r}")
    return tuple(value)


def items_of(data: object, parse: Callable[[object], T], what: str) -> list[T]:
    """``{"items": [...]}`` parsed item by item."""
    items = _object(data, f"list of {what}").get("items")
    if not isinstance(items, list):
        raise _bad(f"list of {what}", "'items' should be a list")
    return [parse(item) for item in items]


def page_of(data: object, parse: Callable[[object], T], what: str) -> Page[T]:
    """A Page: ``{"items": [...], "next_cursor": str | None}``."""
    cursor = _opt_str(_object(data, f"page of {what}"), "next_cursor", f"page of {what}")
    return Page(tuple(items_of(data, parse, what)), cursor)


def project_from_json(data: object) -> ProjectInfo:
    obj = _object(data, "project")
    return ProjectInfo(
        name=_str(obj, "name", "project"),
        artifact_count=_int(obj, "artifact_count", "project"),
        created_at=_float(obj, "created_at", "project"),
    )


def collection_from_json(data: object) -> CollectionInfo:
    obj, what = _object(data, "artifact"), "artifact"
    return CollectionInfo(
        project=_str(obj, "project", what),
        name=_str(obj, "name", what),
        type=_str(obj, "type", what),
        description=_opt_str(obj, "description", what),
        version_count=_int(obj, "version_count", what),
        created_at=_float(obj, "created_at", what),
        updated_at=_float(obj, "updated_at", what),
    )


def version_from_json(data: object) -> VersionInfo:
    obj, what = _object(data, "version"), "version"
    state = _str(obj, "state", what)
    try:
        parsed_state = VersionState(state)
    except ValueError:
        raise _bad(what, f"'state' {state!r} is not PENDING, COMMITTED or DELETED") from None
    return VersionInfo(
        id=_str(obj, "id", what),
        project=_str(obj, "project", what),
        name=_str(obj, "name", what),
        type=_str(obj, "type", what),
        index=_opt_int(obj, "index", what),
        digest=_str(obj, "digest", what),
        size=_int(obj, "size", what),
        file_count=_int(obj, "file_count", what),
        state=parsed_state,
        description=_opt_str(obj, "description", what),
        metadata=_dict(obj, "metadata", what),
        aliases=_strings(obj, "aliases", what),
        tags=_strings(obj, "tags", what),
        logged_by=_opt_str(obj, "logged_by", what),
        created_at=_float(obj, "created_at", what),
        committed_at=_opt_float(obj, "committed_at", what),
    )


def run_from_json(data: object) -> RunInfo:
    obj, what = _object(data, "run"), "run"
    return RunInfo(
        id=_str(obj, "id", what),
        project=_str(obj, "project", what),
        job_type=_opt_str(obj, "job_type", what),
        name=_opt_str(obj, "name", what),
        state=_str(obj, "state", what),
        created_at=_float(obj, "created_at", what),
        finished_at=_opt_float(obj, "finished_at", what),
        config=_dict(obj, "config", what),
    )


def optional_run_from_json(data: object) -> RunInfo | None:
    """``{"run": Run or null}``."""
    run = _object(data, "logged-by answer").get("run")
    return None if run is None else run_from_json(run)


def event_from_json(data: object) -> Event:
    obj, what = _object(data, "event"), "event"
    return Event(
        seq=_int(obj, "seq", what),
        kind=_str(obj, "kind", what),
        project=_str(obj, "project", what),
        payload=_dict(obj, "payload", what),
        created_at=_float(obj, "created_at", what),
    )


def entry_from_json(data: object) -> ManifestEntry:
    """An entry with its path; the path is validated before anything else is read."""
    obj = _object(data, "manifest entry")
    path = _str(obj, "path", "manifest entry")
    validate_entry_path(path)  # raises ValidationError for '../x', '/etc/passwd', 'C:/x'...
    return ManifestEntry.from_json(path, {key: obj[key] for key in _ENTRY_KEYS if key in obj})


def entry_to_json(entry: ManifestEntry) -> dict[str, Any]:
    """W&B's entry JSON plus its path."""
    return {"path": entry.path, **entry.to_json()}


def draft_from_json(data: object) -> DraftResult:
    """``{"version": Version, "missing": [digest], "unchanged": bool}``."""
    obj, what = _object(data, "draft answer"), "draft answer"
    unchanged = obj.get("unchanged", False)
    if not isinstance(unchanged, bool):
        raise _bad(what, f"'unchanged' should be true or false, not {unchanged!r}")
    return DraftResult(
        version=version_from_json(obj.get("version")),
        missing=_strings(obj, "missing", what),
        unchanged=unchanged,
    )


def offset_from_json(data: object, what: str = "upload offset") -> int:
    """``{"offset": int}`` (also the answer to a blob upload)."""
    offset = _int(_object(data, what), "offset", what)
    if offset < 0:
        raise _bad(what, f"'offset' is negative ({offset})")
    return offset
