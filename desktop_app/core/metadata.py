"""Version metadata: a JSON object of limited size, with NaN stored as null."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from desktop_app.core.errors import ValidationError
from desktop_app.core.names import quoted

MAX_TOP_LEVEL_KEYS = 100
MAX_JSON_BYTES = 1 << 20
MAX_DEPTH = 100

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Metadata read back from JSON of at most this many characters cannot come out over
# MAX_JSON_BYTES, so it is checked without being encoded again (most of a read's cost for
# stored versions). A character is at most 4 UTF-8 bytes, and the compact encoding of the
# parsed value is at most 5 times the text: strings, integers, literals and separators come
# out no longer than they went in, NaN as null grows by a third, and a float by 4.5 times
# at most ("1e15" comes out as "1000000000000000.0").
_SURELY_SMALL_CHARS = MAX_JSON_BYTES // (4 * 5)


def _key_path(path: tuple[str | int, ...]) -> str:
    return "metadata" + "".join(f"[{part!r}]" for part in path)


def _check_text(text: str, path: tuple[str | int, ...], what: str) -> str:
    if _SURROGATE_RE.search(text):
        raise ValidationError(
            f"{_key_path(path)} has the {what} {quoted(text)} with an unpaired surrogate, "
            "which cannot be stored as UTF-8; remove it"
        )
    return str.__str__(text)


def _normalize(value: object, path: tuple[str | int, ...]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValidationError(
                f"{_key_path(path)} is {value!r}; infinity cannot be stored in JSON, "
                "use a large number, a string or None"
            )
        return float(value)
    if isinstance(value, str):
        return _check_text(value, path, "string")
    if len(path) >= MAX_DEPTH:
        raise ValidationError(
            f"{_key_path(path[:3])}... nests deeper than {MAX_DEPTH} levels "
            "(or contains itself); flatten it"
        )
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"{_key_path(path)} has the key {key!r} of type {type(key).__name__}; "
                    "metadata keys must be strings"
                )
            clean_key = _check_text(key, path, "key")
            result[clean_key] = _normalize(item, (*path, clean_key))
        return result
    if isinstance(value, list | tuple):
        return [_normalize(item, (*path, index)) for index, item in enumerate(value)]
    raise ValidationError(
        f"{_key_path(path)} is a {type(value).__name__} ({quoted(value)}); metadata values "
        "must be None, bool, int, float, str, list or dict"
    )


def _normalize_and_encode(
    metadata: Mapping[str, Any] | None, *, check_size: bool = True
) -> tuple[dict[str, Any], str]:
    """The normalized metadata and its compact JSON ("" when ``check_size`` is False: the
    caller knows it is small enough, and the encoding is not needed)."""
    if metadata is None:
        return {}, "{}"
    if not isinstance(metadata, Mapping):
        raise ValidationError(
            f"metadata must be a dict with string keys, not {type(metadata).__name__} "
            f"{quoted(metadata)}"
        )
    if len(metadata) > MAX_TOP_LEVEL_KEYS:
        raise ValidationError(
            f"metadata has {len(metadata)} top-level keys; the limit is {MAX_TOP_LEVEL_KEYS}, "
            "so group related values under nested keys"
        )
    result: dict[str, Any] = _normalize(metadata, ())
    if not check_size:
        return result, ""
    encoded = json.dumps(result, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    size = len(encoded.encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise ValidationError(
            f"metadata is {size:,} bytes as JSON; the limit is {MAX_JSON_BYTES:,} bytes "
            "(1 MiB), so store large data as a file in the artifact instead"
        )
    return result, encoded


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain JSON-ready copy of ``metadata``: NaN becomes ``None``, tuples become lists.

    Rejects non-string keys, non-JSON values, infinities, more than 100 top-level keys
    and more than 1 MiB of JSON.
    """
    return _normalize_and_encode(metadata)[0]


def metadata_to_json(metadata: Mapping[str, Any] | None) -> str:
    """Compact JSON of the normalized ``metadata``, keys in their given order."""
    return _normalize_and_encode(metadata)[1]


def metadata_from_json(text: str) -> dict[str, Any]:
    """Parse metadata stored by :func:`metadata_to_json`, checking it on the way in."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"metadata JSON {quoted(text)} cannot be parsed: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValidationError(
            f"metadata JSON {quoted(text)} is a {type(parsed).__name__}, not an object; "
            "metadata must be a JSON object"
        )
    return _normalize_and_encode(parsed, check_size=len(text) > _SURELY_SMALL_CHARS)[0]
