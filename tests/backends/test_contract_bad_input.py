"""Contract: bad input is a ValidationError naming the bad value, and writes nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from contract_helpers import make_manifest, raw_manifest

from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import ValidationError
from desktop_app.core.manifest import ManifestEntry
from desktop_app.core.refs import parse_ref

P = "proj"
GOOD = make_manifest({"ok.txt": b"fine"})


@dataclass
class Ctx:
    version_id: str
    run_id: str


def _draft(project=P, name="data", type_="dataset", manifest=GOOD, **kwargs):
    def call(backend, ctx):
        backend.create_draft(project, name, type_, manifest, **kwargs)

    return call


def _paths(*paths):
    entries = [ManifestEntry(path, md5_b64(path.encode()), len(path)) for path in paths]
    return _draft(name="other", manifest=raw_manifest(entries))


def _entry(**fields):
    return _draft(name="other", manifest=raw_manifest([ManifestEntry("f.txt", **fields)]))


def _call(method, *args, **kwargs):
    def call(backend, ctx):
        resolved = [
            getattr(ctx, a[1:]) if isinstance(a, str) and a.startswith("@") else a for a in args
        ]
        getattr(backend, method)(*resolved, **kwargs)

    return call


CASES = [
    # artifact names
    pytest.param(_draft(name="my/data"), "my/data", id="name-slash"),
    pytest.param(_draft(name="data:v1"), "data:v1", id="name-colon"),
    pytest.param(_draft(name="white space"), "white space", id="name-space"),
    pytest.param(_draft(name="ünïcode"), "ünïcode", id="name-non-ascii"),
    pytest.param(_draft(name="n" * 129), "n" * 129, id="name-too-long"),
    pytest.param(_draft(name=".."), "'..'", id="name-dotdot"),
    pytest.param(_draft(name=""), "''", id="name-empty"),
    # types
    pytest.param(_draft(type_="wandb-history"), "wandb-history", id="type-reserved"),
    pytest.param(_draft(type_="bad type"), "bad type", id="type-space"),
    # projects
    pytest.param(_draft(project="has space"), "has space", id="project-space"),
    pytest.param(_draft(project="a/b/c"), "a/b/c", id="project-two-slashes"),
    pytest.param(_call("create_run", "bad project"), "bad project", id="run-project"),
    # aliases
    pytest.param(_draft(aliases=["has/slash"]), "has/slash", id="alias-slash"),
    pytest.param(_draft(aliases=["has:colon"]), "has:colon", id="alias-colon"),
    pytest.param(_draft(aliases=["v7"]), "v7", id="alias-version-form"),
    pytest.param(_draft(aliases=["ok", "x" * 129]), "x" * 129, id="alias-too-long"),
    pytest.param(_draft(aliases=["tab\there"]), "U+0009", id="alias-control-char"),
    pytest.param(_call("add_alias", "@version_id", "v0"), "v0", id="add-alias-v0"),
    pytest.param(_call("add_alias", "@version_id", "latest"), "latest", id="add-latest"),
    pytest.param(_call("add_alias", "@version_id", "x/y"), "x/y", id="add-alias-slash"),
    pytest.param(_call("remove_alias", "@version_id", "latest"), "latest", id="remove-latest"),
    # tags
    pytest.param(_draft(tags=["bad/tag"]), "bad/tag", id="tag-slash"),
    pytest.param(_draft(tags=["trailing "]), "trailing ", id="tag-trailing-space"),
    pytest.param(_draft(tags=[""]), "''", id="tag-empty"),
    pytest.param(
        _call("update_version", "@version_id", tags=["semi;colon"]), "semi;colon", id="update-tag"
    ),
    # entry paths
    pytest.param(_paths("../escape.txt"), "../escape.txt", id="path-dotdot"),
    pytest.param(_paths("/etc/passwd"), "/etc/passwd", id="path-absolute"),
    pytest.param(_paths("a//b.txt"), "a//b.txt", id="path-empty-segment"),
    pytest.param(_paths("./a.txt"), "./a.txt", id="path-dot"),
    pytest.param(_paths("a\x00b"), "a\\x00b", id="path-nul"),
    pytest.param(_paths("dir\\file.txt"), "file.txt", id="path-backslash"),
    pytest.param(_paths("C:/windows.txt"), "C:/windows.txt", id="path-drive"),
    pytest.param(_paths(""), "''", id="path-empty"),
    pytest.param(_paths("Data.csv", "data.csv"), "Data.csv", id="path-case-collision"),
    pytest.param(_paths("a", "a/b"), "a/b", id="path-file-and-folder"),
    # entries
    pytest.param(_entry(digest="not-a-digest", size=3), "not-a-digest", id="entry-digest"),
    pytest.param(_entry(digest=md5_b64(b"abc"), size=-1), "-1", id="entry-negative-size"),
    # metadata and descriptions
    pytest.param(_draft(metadata={"x": math.inf}), "inf", id="metadata-inf"),
    pytest.param(_draft(metadata={"x": [1, -math.inf]}), "-inf", id="metadata-neg-inf"),
    pytest.param(_draft(metadata={f"k{i}": i for i in range(101)}), "101", id="metadata-101-keys"),
    pytest.param(_draft(metadata={"s": {1, 2}}), "set", id="metadata-set"),
    pytest.param(_draft(metadata=["not", "a", "dict"]), "list", id="metadata-list"),
    pytest.param(
        _call("update_version", "@version_id", metadata={"loss": math.inf}), "inf", id="update-inf"
    ),
    pytest.param(_draft(description="nul\x00inside"), "NUL", id="description-nul"),
    # blobs and references
    pytest.param(_call("upload_blob", P, "zzz", 3, [b"abc"]), "zzz", id="blob-digest"),
    pytest.param(_call("upload_offset", P, "not base64!"), "not base64!", id="offset-digest"),
    pytest.param(_call("resolve", parse_ref("data:best")), "data", id="ref-without-project"),
]


@pytest.fixture
def ctx(backend, log):
    run = backend.create_run(P, job_type="setup")
    version = log(P, "data", {"a.txt": b"existing"}, aliases=["best"], tags=["kept"], run_id=run.id)
    return Ctx(version_id=version.id, run_id=run.id)


def _snapshot(backend, version_id):
    projects = sorted((p.name, p.artifact_count) for p in backend.list_projects())
    collections = sorted((c.name, c.type, c.version_count) for c in backend.list_collections(P))
    version = backend.get_version(version_id)
    return (
        backend.events(0),
        projects,
        collections,
        (version.aliases, version.tags, dict(version.metadata), version.description),
    )


@pytest.mark.parametrize(("call", "needle"), CASES)
def test_bad_input_is_refused_before_anything_is_written(backend, ctx, call, needle):
    before = _snapshot(backend, ctx.version_id)

    with pytest.raises(ValidationError) as caught:
        call(backend, ctx)

    assert needle in str(caught.value)
    assert _snapshot(backend, ctx.version_id) == before
