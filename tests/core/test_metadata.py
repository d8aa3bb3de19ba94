"""Tests for version metadata normalization and its JSON form."""

from __future__ import annotations

import enum
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.errors import ValidationError
from desktop_app.core.metadata import (
    MAX_JSON_BYTES,
    metadata_from_json,
    metadata_to_json,
    normalize_metadata,
)


class Color(enum.IntEnum):
    RED = 1


def test_none_and_empty() -> None:
    assert normalize_metadata(None) == {}
    assert normalize_metadata({}) == {}
    assert metadata_to_json(None) == "{}"


def test_normalization() -> None:
    source: dict[str, Any] = {
        "b": (1, 2.5, "x", None, True),
        "a": {"nested": [float("nan"), {"deep": float("nan")}]},
        "n": float("nan"),
        "color": Color.RED,
    }
    result = normalize_metadata(source)
    assert result == {
        "b": [1, 2.5, "x", None, True],
        "a": {"nested": [None, {"deep": None}]},
        "n": None,
        "color": 1,
    }
    assert list(result) == ["b", "a", "n", "color"]
    assert type(result["color"]) is int
    assert math.isnan(source["n"])  # input left untouched


def test_mappings_are_accepted_and_copied() -> None:
    source = OrderedDict([("z", 1), ("a", [1])])
    result = normalize_metadata(source)
    assert type(result) is dict
    result["a"].append(2)
    assert source["a"] == [1]


def test_json_round_trip_keeps_order_and_is_compact() -> None:
    data = {"z": 1, "a": [1, 2], "é": "ü", "none": None}
    text = metadata_to_json(data)
    assert text == '{"z":1,"a":[1,2],"é":"ü","none":null}'
    assert metadata_from_json(text) == data
    assert list(metadata_from_json(text)) == ["z", "a", "é", "none"]
    assert metadata_to_json({"x": float("nan")}) == '{"x":null}'
    assert metadata_from_json('{"x": NaN}') == {"x": None}


@pytest.mark.parametrize(
    ("metadata", "shown"),
    [
        ({"a": {"b": [0, 1, float("inf")]}}, "metadata['a']['b'][2] is inf"),
        ({"x": -math.inf}, "metadata['x'] is -inf"),
        ({"a": {1: "one"}}, "metadata['a'] has the key 1 of type int"),
        ({("t",): 1}, "metadata has the key ('t',) of type tuple"),
        ({"s": {1, 2}}, "metadata['s'] is a set"),
        ({"b": b"bytes"}, "metadata['b'] is a bytes (b'bytes')"),
        ({"c": 1 + 2j}, "metadata['c'] is a complex"),
        ({"o": [object()]}, "metadata['o'][0] is a object"),
        ({"k\udc80": 1}, "key 'k\\udc80'"),
        ({"v": "bad\ud800"}, "string 'bad\\ud800'"),
        ({str(i): i for i in range(101)}, "101 top-level keys"),
        ({"big": "x" * (1 << 20)}, "1,048,586 bytes"),
    ],
)
def test_invalid_metadata(metadata: dict[Any, Any], shown: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_metadata(metadata)
    assert shown in str(info.value), str(info.value)
    with pytest.raises(ValidationError):
        metadata_to_json(metadata)


@pytest.mark.parametrize("value", [[1, 2], "text", 3, (("a", 1),)])
def test_metadata_must_be_a_mapping(value: Any) -> None:
    with pytest.raises(ValidationError, match=f"not {type(value).__name__}"):
        normalize_metadata(value)


def test_exactly_100_keys_and_1_mib_are_allowed() -> None:
    assert len(normalize_metadata({str(i): i for i in range(100)})) == 100
    payload = {"big": "x" * ((1 << 20) - len('{"big":""}'))}
    assert len(metadata_to_json(payload).encode()) == 1 << 20


def test_self_containing_metadata_is_rejected() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValidationError, match="nests deeper than 100 levels"):
        normalize_metadata({"loop": loop})


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[1, 2]", "is a list, not an object"),
        ("{bad json", "cannot be parsed"),
        ('{"a": Infinity}', "metadata['a'] is inf"),
        ("", "cannot be parsed"),
    ],
)
def test_invalid_json(text: str, shown: str) -> None:
    with pytest.raises(ValidationError) as info:
        metadata_from_json(text)
    assert shown in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=10))
def test_normalized_metadata_survives_json(metadata: dict[str, Any]) -> None:
    try:
        result = normalize_metadata(metadata)
    except ValidationError as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        assert "inf" in problem or "surrogate" in problem
        return
    text = metadata_to_json(result)
    assert json.loads(text) == result
    assert metadata_from_json(text) == result
    assert normalize_metadata(result) == result


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=10), st.booleans())
def test_reading_json_checks_like_normalizing_it(metadata: dict[str, Any], spaced: bool) -> None:
    """Short JSON is read without being encoded again; it must come out the same, and be
    refused for the same reasons, as normalizing what it parses to."""
    text = json.dumps(metadata, indent=1 if spaced else None)  # NaN and Infinity as written
    try:
        want: dict[str, Any] | str = normalize_metadata(json.loads(text))
    except ValidationError as exc:
        want = str(exc)
    try:
        got: dict[str, Any] | str = metadata_from_json(text)
    except ValidationError as exc:
        got = str(exc)
    assert got == want


def test_json_that_grows_past_the_limit_when_encoded_again_is_refused() -> None:
    """Floats written short come out long ("1e15" as 1000000000000000.0): the size is
    checked on the encoding that would be stored, not on the text that was read."""
    floats = 60_000
    text = '{"f":[' + ",".join(["1e15"] * floats) + "]}"
    again = json.dumps(json.loads(text), separators=(",", ":"))
    assert len(text.encode()) < MAX_JSON_BYTES < len(again.encode())
    with pytest.raises(ValidationError, match="bytes as JSON"):
        metadata_from_json(text)
    # The most a short text can grow: still under the limit at the size read unchecked.
    small = '{"f":[' + ",".join(["1e15"] * ((MAX_JSON_BYTES // 20 - 7) // 5)) + "]}"
    assert len(small) <= MAX_JSON_BYTES // 20
    assert len(metadata_to_json(metadata_from_json(small)).encode()) * 4 < MAX_JSON_BYTES
