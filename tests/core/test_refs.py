"""Tests for artifact references."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.errors import ValidationError
from desktop_app.core.names import quoted
from desktop_app.core.refs import ArtifactRef, parse_ref, validate_selector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name", ArtifactRef(None, "name", "latest")),
        ("name:latest", ArtifactRef(None, "name", "latest")),
        ("name:best", ArtifactRef(None, "name", "best")),
        ("name:v0", ArtifactRef(None, "name", "v0")),
        ("proj/name:v3", ArtifactRef("proj", "name", "v3")),
        ("team/proj/name:production", ArtifactRef("team/proj", "name", "production")),
        ("team/proj/name", ArtifactRef("team/proj", "name", "latest")),
        ("proj/data.v2", ArtifactRef("proj", "data.v2", "latest")),
        ("name:my alias", ArtifactRef(None, "name", "my alias")),
        ("name:v", ArtifactRef(None, "name", "v")),
    ],
)
def test_parse_valid_refs(text: str, expected: ArtifactRef) -> None:
    assert parse_ref(text) == expected


def test_properties() -> None:
    ref = parse_ref("team/proj/model:v12")
    assert ref.version_index == 12
    assert not ref.is_latest
    assert str(ref) == "team/proj/model:v12"
    latest = parse_ref("model")
    assert latest.is_latest
    assert latest.version_index is None
    assert str(latest) == "model:latest"
    assert parse_ref("model:best").version_index is None


def test_default_project_fills_only_a_missing_project() -> None:
    assert parse_ref("model", default_project="team/proj").project == "team/proj"
    assert parse_ref("p/model", default_project="other").project == "p"
    ref = parse_ref("model:v1")
    assert ref.with_project("proj") == ArtifactRef("proj", "model", "v1")
    assert ref.with_project("proj").with_project("other").project == "proj"
    with pytest.raises(ValidationError, match="'bad proj'"):
        ref.with_project("bad proj")
    with pytest.raises(ValidationError, match="'no way'"):
        parse_ref("model", default_project="no way")


@pytest.mark.parametrize(
    ("text", "shown", "rule"),
    [
        ("", "''", "empty"),
        ("name:", "'name:'", "no version or alias"),
        ("proj/name:", "'proj/name:'", "no version or alias"),
        (" name", "' name'", "whitespace"),
        ("name ", "'name '", "whitespace"),
        ("name\n", "'name\\n'", "whitespace"),
        ("a/b/c/d", "'a/b/c/d'", "'entity/project/name'"),
        ("a/b/c/d:v1", "'a/b/c/d:v1'", "4 '/'-separated parts"),
        ("/name", "project ''", "empty"),
        ("proj/", "artifact name ''", "empty"),
        ("a//name", "project ''", "empty"),
        ("my data:v1", "'my data'", "may only contain"),
        ("proj/na me", "'na me'", "may only contain"),
        ("bad team/proj/name", "entity 'bad team'", "may only contain"),
        ("team/bad proj/name", "project 'bad proj'", "may only contain"),
        ("name:v03", "'v03'", "write 'v3'"),
        ("name:v00", "'v00'", "write 'v0'"),
        ("name:v99999999999999999999", "'v99999999999999999999'", "too large"),
        ("name:v١", "'v١'", "version number"),
        ("name:a\u200bb", "U+200B", "invisible"),
        ("name:x:y", "'name:x'", "may only contain"),
        ("p:x/name", "'p:x'", "may only contain"),
        ("name:v1/x", "'name:v1'", "may only contain"),
        ("name: best", "' best'", "whitespace"),
        ("./name", "'.'", "reserved"),
    ],
)
def test_invalid_refs(text: str, shown: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_ref(text)
    message = str(info.value)
    assert quoted(text) in message, message
    assert shown in message, message
    assert rule in message, message


def test_constructor_validates_fields() -> None:
    with pytest.raises(ValidationError, match="'a/b'"):
        ArtifactRef(None, "a/b")
    with pytest.raises(ValidationError, match="'x:y'"):
        ArtifactRef("p", "n", "x:y")
    with pytest.raises(ValidationError, match="'a/b/c'"):
        ArtifactRef("a/b/c", "n")


def test_validate_selector() -> None:
    assert validate_selector("v7") == "v7"
    assert validate_selector("latest") == "latest"
    with pytest.raises(ValidationError, match="'v07'"):
        validate_selector("v07")


part = st.text(string.ascii_letters + string.digits + "_-.", min_size=1, max_size=20).filter(
    lambda s: s not in (".", "..")
)
projects = st.one_of(st.none(), part, st.builds("{}/{}".format, part, part))
aliases = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=20,
).filter(lambda s: "/" not in s and ":" not in s and s[0] != "v")
selectors = st.one_of(
    aliases, st.integers(0, 10**6).map("v{}".format), st.just("latest"), st.just("v")
)


@given(projects, part, selectors)
def test_str_round_trips(project: str | None, name: str, selector: str) -> None:
    ref = ArtifactRef(project, name, selector)
    assert parse_ref(str(ref)) == ref
    if selector.startswith("v") and selector[1:].isdigit():
        assert ref.version_index == int(selector[1:])


@given(st.text(max_size=40))
def test_parse_ref_never_fails_unexpectedly(text: str) -> None:
    try:
        ref = parse_ref(text)
    except ValidationError as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        assert quoted(text) in problem
        return
    assert parse_ref(str(ref)) == ref
