"""Contract: aliases (``latest`` and user aliases) and resolving references."""

from __future__ import annotations

import pytest

from desktop_app.core.errors import NotFoundError, ValidationError
from desktop_app.core.refs import ArtifactRef, parse_ref

P = "proj"


def _aliases_by_index(backend, name, project=P):
    return {v.index: set(v.aliases) for v in backend.list_versions(project, name)}


def test_latest_is_on_exactly_the_newest_version(backend, log):
    for i in range(3):
        log(P, "data", {"a": str(i).encode()})
        holders = [i for i, a in _aliases_by_index(backend, "data").items() if "latest" in a]
        assert holders == [i]


def test_add_alias_moves_it_between_versions_of_one_artifact(backend, log):
    v0 = log(P, "data", {"a": b"0"})
    v1 = log(P, "data", {"a": b"1"})

    backend.add_alias(v0.id, "best")
    assert backend.resolve(ArtifactRef(P, "data", "best")).id == v0.id

    moved = backend.add_alias(v1.id, "best")

    assert "best" in moved.aliases
    assert "best" not in backend.get_version(v0.id).aliases
    assert backend.resolve(ArtifactRef(P, "data", "best")).id == v1.id
    assert _aliases_by_index(backend, "data") == {0: set(), 1: {"best", "latest"}}


def test_adding_an_alias_twice_is_harmless(backend, log):
    v0 = log(P, "data", {"a": b"0"})

    backend.add_alias(v0.id, "best")
    again = backend.add_alias(v0.id, "best")

    assert sorted(again.aliases) == ["best", "latest"]


def test_same_alias_in_two_artifacts_is_independent(backend, log):
    a = log(P, "a", {"f": b"a"})
    b = log(P, "b", {"f": b"b"})

    backend.add_alias(a.id, "production")
    backend.add_alias(b.id, "production")

    assert backend.resolve(ArtifactRef(P, "a", "production")).id == a.id
    assert backend.resolve(ArtifactRef(P, "b", "production")).id == b.id


def test_draft_alias_moves_at_commit(backend, log):
    v0 = log(P, "data", {"a": b"0"}, aliases=["best"])
    v1 = log(P, "data", {"a": b"1"}, aliases=["best"])

    assert backend.resolve(ArtifactRef(P, "data", "best")).id == v1.id
    assert "best" not in backend.get_version(v0.id).aliases


def test_draft_alias_is_invisible_until_commit(backend, log, manifest_of):
    log(P, "data", {"a": b"0"})
    draft = backend.create_draft(P, "data", "dataset", manifest_of({"a": b"1"}), aliases=["next"])

    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "next"))
    assert backend.resolve(ArtifactRef(P, "data", "latest")).index == 0
    assert draft.version.index is None


def test_unchanged_draft_does_not_apply_its_aliases(backend, log, manifest_of):
    log(P, "data", {"a": b"0"})

    again = backend.create_draft(P, "data", "dataset", manifest_of({"a": b"0"}), aliases=["new"])

    assert again.unchanged
    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "new"))


def test_remove_alias(backend, log):
    v0 = log(P, "data", {"a": b"0"}, aliases=["best", "keep"])

    after = backend.remove_alias(v0.id, "best")

    assert sorted(after.aliases) == ["keep", "latest"]
    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "best"))
    assert backend.resolve(ArtifactRef(P, "data", "keep")).id == v0.id


@pytest.mark.parametrize("alias", ["v0", "v3", "v12"])
def test_version_forms_are_not_user_aliases(backend, log, alias):
    v0 = log(P, "data", {"a": b"0"})

    with pytest.raises(ValidationError, match=alias):
        backend.add_alias(v0.id, alias)

    assert sorted(backend.get_version(v0.id).aliases) == ["latest"]


def test_latest_cannot_be_set_or_removed_by_hand(backend, log):
    v0 = log(P, "data", {"a": b"0"})
    log(P, "data", {"a": b"1"})

    with pytest.raises(ValidationError, match="latest"):
        backend.add_alias(v0.id, "latest")
    with pytest.raises(ValidationError, match="latest"):
        backend.remove_alias(backend.resolve(ArtifactRef(P, "data")).id, "latest")

    assert backend.resolve(ArtifactRef(P, "data")).index == 1


def test_deleting_a_version_removes_its_aliases_and_moves_latest_back(backend, log):
    v0 = log(P, "data", {"a": b"0"})
    v1 = log(P, "data", {"a": b"1"})
    v2 = log(P, "data", {"a": b"2"}, aliases=["best"])

    backend.delete_version(v2.id)

    assert backend.resolve(ArtifactRef(P, "data")).id == v1.id
    with pytest.raises(NotFoundError):
        backend.resolve(ArtifactRef(P, "data", "best"))
    # The alias is free again and can go to another version.
    backend.add_alias(v0.id, "best")
    assert backend.resolve(ArtifactRef(P, "data", "best")).id == v0.id


def test_deleting_an_older_version_keeps_latest(backend, log):
    v0 = log(P, "data", {"a": b"0"})
    v1 = log(P, "data", {"a": b"1"})

    backend.delete_version(v0.id)

    assert backend.resolve(ArtifactRef(P, "data")).id == v1.id


def test_resolve_parsed_references(backend, log):
    v0 = log("team/proj", "data", {"a": b"0"}, aliases=["best"])
    v1 = log("team/proj", "data", {"a": b"1"})

    assert backend.resolve(parse_ref("team/proj/data")).id == v1.id
    assert backend.resolve(parse_ref("team/proj/data:v0")).id == v0.id
    assert backend.resolve(parse_ref("team/proj/data:best")).id == v0.id
    assert backend.resolve(parse_ref("data:latest", default_project="team/proj")).id == v1.id


@pytest.mark.parametrize(
    "ref",
    [
        ArtifactRef(P, "data", "v2"),
        ArtifactRef(P, "data", "nope"),
        ArtifactRef(P, "no-such-artifact", "latest"),
        ArtifactRef("no-such-project", "data", "latest"),
        ArtifactRef("team/proj", "data", "latest"),
    ],
    ids=str,
)
def test_resolve_unknown_is_not_found(backend, log, ref):
    log(P, "data", {"a": b"0"})
    log(P, "data", {"a": b"1"})

    with pytest.raises(NotFoundError):
        backend.resolve(ref)


def test_resolve_never_returns_a_draft(backend, manifest_of):
    backend.create_draft(P, "data", "dataset", manifest_of({"a": b"0"}))

    for selector in ("latest", "v0"):
        with pytest.raises(NotFoundError):
            backend.resolve(ArtifactRef(P, "data", selector))


def test_resolve_without_project_is_a_validation_error(backend, log):
    log(P, "data", {"a": b"0"})

    with pytest.raises(ValidationError, match="data"):
        backend.resolve(parse_ref("data"))
