"""Tests for artifact names, projects, types, aliases, tags and descriptions."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.errors import ValidationError
from desktop_app.core.names import (
    quoted,
    validate_alias,
    validate_artifact_name,
    validate_description,
    validate_project,
    validate_tag,
    validate_type,
    validate_user_alias,
)

NAME_CHARS = string.ascii_letters + string.digits + "_-."


def assert_rejected(validate: Callable[[str], object], value: str, *expected: str) -> str:
    """Call ``validate`` and check the message names the value (and any ``expected`` text)."""
    with pytest.raises(ValidationError) as info:
        validate(value)
    message = str(info.value)
    assert quoted(value) in message or repr(value) in message, message
    for text in expected:
        assert text in message, message
    return message


@pytest.mark.parametrize(
    "name", ["a", "example_artifact", "my-data.v2", "A1", "...", ".hidden", "x" * 128]
)
def test_valid_artifact_names(name: str) -> None:
    assert validate_artifact_name(name) == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("my/data", "may only contain letters, digits"),
        ("my data", "may only contain"),
        ("name:v1", "may only contain"),
        ("naïve", "may only contain"),
        ("ｄａｔａ", "may only contain"),
        ("data\n", "may only contain"),
        ("tab\tname", "may only contain"),
        ("a\\b", "may only contain"),
        ("x" * 129, "at most 128"),
        (".", "reserved"),
        ("..", "reserved"),
        ("", "empty"),
    ],
)
def test_invalid_artifact_names(name: str, rule: str) -> None:
    assert_rejected(validate_artifact_name, name, "artifact name", rule)


def test_non_string_name_is_rejected_with_its_type() -> None:
    with pytest.raises(ValidationError, match="must be a string, not int 5"):
        validate_artifact_name(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("project", ["p", "artifacts-example", "team/artifacts-example"])
def test_valid_projects(project: str) -> None:
    assert validate_project(project) == project


@pytest.mark.parametrize(
    ("project", "bad_part", "label"),
    [
        ("my team/proj", "my team", "entity"),
        ("team/pro ject", "pro ject", "project"),
        ("/proj", "", "entity"),
        ("team/", "", "project"),
        ("a b", "a b", "project"),
        ("team/..", "..", "project"),
    ],
)
def test_invalid_projects_name_the_wrong_part(project: str, bad_part: str, label: str) -> None:
    message = assert_rejected(validate_project, project)
    assert f"{label} {bad_part!r}" in message


def test_project_with_too_many_parts() -> None:
    assert_rejected(validate_project, "a/b/c", "'entity/project'")


@pytest.mark.parametrize("type_", ["dataset", "model", "unspecified", "run_table", "wandb"])
def test_valid_types(type_: str) -> None:
    assert validate_type(type_) == type_


@pytest.mark.parametrize(
    ("type_", "rule"),
    [
        ("wandb-history", "reserved"),
        ("wandb-", "reserved"),
        ("data set", "may only contain"),
        ("model/v1", "may only contain"),
        ("", "empty"),
        ("t" * 129, "at most 128"),
    ],
)
def test_invalid_types(type_: str, rule: str) -> None:
    assert_rejected(validate_type, type_, rule)


@pytest.mark.parametrize(
    "alias", ["best", "latest", "production", "v", "v1.0", "V1", "vX", "my alias", "é", "🙂"]
)
def test_valid_aliases(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize(
    ("alias", "rule"),
    [
        ("", "empty"),
        ("a" * 129, "at most 128"),
        ("best/model", "'/'"),
        ("best:1", "':'"),
        ("v0", "version number"),
        ("v12", "version number"),
        ("v١", "version number"),
        (" best", "whitespace"),
        ("best ", "whitespace"),
        ("best\u3000", "whitespace"),
        ("be\x00st", "U+0000"),
        ("best\n", "U+000A"),
        ("best\x7f", "U+007F"),
        ("be\u200bst", "ZERO WIDTH SPACE"),
        ("\ufeffbest", "U+FEFF"),
        ("best\u202e", "U+202E"),
        ("best\u2028x", "U+2028"),
        ("best\u2029x", "U+2029"),
        ("best\ud800", "U+D800"),
    ],
)
def test_invalid_aliases(alias: str, rule: str) -> None:
    assert_rejected(validate_alias, alias, "alias", rule)


def test_user_alias_rejects_latest_and_says_it_moves_by_itself() -> None:
    assert_rejected(validate_user_alias, "latest", "moves by itself", "newest")
    assert validate_user_alias("best") == "best"
    assert_rejected(validate_user_alias, "v3", "version number")


@pytest.mark.parametrize("tag", ["a", "nightly", "big data", "two  spaces", "é-ü_1", "x" * 128])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "rule"),
    [
        ("", "empty"),
        (" lead", "may only contain"),
        ("trail ", "may only contain"),
        ("a/b", "may only contain"),
        ("a\tb", "may only contain"),
        ("a.b", "may only contain"),
        ("x" * 129, "at most 128"),
    ],
)
def test_invalid_tags(tag: str, rule: str) -> None:
    assert_rejected(validate_tag, tag, "tag", rule)


def test_descriptions() -> None:
    assert validate_description(None) is None
    assert validate_description("") == ""
    text = "line one\nline two\t✓" + "x" * (65_536 - 20)
    assert validate_description(text) == text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("x" * 65_537, "65,537 characters"),
        ("bad\x00text", "NUL"),
        ("bad\udc80text", "surrogate"),
    ],
)
def test_invalid_descriptions(text: str, rule: str) -> None:
    message = assert_rejected(validate_description, text, "description", rule)
    assert len(message) < 500


@given(st.text(alphabet=NAME_CHARS, min_size=1, max_size=128))
def test_name_property_accepts_exactly_the_documented_rule(name: str) -> None:
    if name in (".", ".."):
        assert_rejected(validate_artifact_name, name)
    else:
        assert validate_artifact_name(name) == name


@given(st.text(min_size=1, max_size=40))
def test_name_property_any_text(name: str) -> None:
    ok = bool(re.fullmatch(r"[A-Za-z0-9_.\-]{1,128}", name)) and name not in (".", "..")
    if ok:
        assert validate_artifact_name(name) == name
    else:
        assert_rejected(validate_artifact_name, name)


@given(st.text(min_size=1, max_size=40))
def test_alias_property_accepted_aliases_are_visible_and_separator_free(alias: str) -> None:
    try:
        validate_alias(alias)
    except ValidationError as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        assert quoted(alias) in problem
        return
    assert "/" not in alias
    assert ":" not in alias
    assert alias == alias.strip()
    assert not re.fullmatch(r"v\d+", alias)
