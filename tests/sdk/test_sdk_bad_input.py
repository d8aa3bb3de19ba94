"""Bad input through the SDK: a clear error naming the value, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import desktop_app.sdk as wandb
from desktop_app.sdk import _context

PROJECT = "bad-input"
LONG_NAME = "n" * 200


@pytest.fixture
def world(sdk_home: Path, tmp_path: Path) -> tuple[wandb.Run, wandb.Artifact]:
    """A run and one good logged version, so that lookups have something to miss."""
    (tmp_path / "good.txt").write_bytes(b"good")
    run = wandb.init(project=PROJECT, job_type="bad-input")
    good = wandb.Artifact("good", type="dataset")
    good.add_file(tmp_path / "good.txt")
    run.log_artifact(good)
    return run, good


def snapshot() -> tuple[Any, ...]:
    backend = _context.get_client().backend
    collections = [
        (c.name, c.type, c.info.version_count) for c in wandb.Api().artifact_collections(PROJECT)
    ]
    return tuple(backend.events()), tuple(collections)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "payload.bin"
    path.write_bytes(b"payload")
    return path


def _logged_with_alias(alias: str) -> Callable[[wandb.Run, Path], object]:
    def act(run: wandb.Run, tmp_path: Path) -> object:
        artifact = wandb.Artifact("aliased", type="dataset")
        artifact.add_file(_file(tmp_path))
        return run.log_artifact(artifact, aliases=[alias])

    return act


def _metadata_inf_setter(run: wandb.Run, tmp_path: Path) -> object:
    artifact = wandb.Artifact("meta", type="dataset")
    artifact.metadata = {"score": float("inf")}
    return artifact


def _add_file(name: str) -> Callable[[wandb.Run, Path], object]:
    return lambda run, tmp_path: wandb.Artifact("f", type="dataset").add_file(
        _file(tmp_path), name=name
    )


def _new_file(run: wandb.Run, tmp_path: Path) -> object:
    artifact = wandb.Artifact("nf", type="dataset")
    with artifact.new_file("../outside.txt", mode="w") as stream:
        stream.write("x")
    return artifact


def _bad_log_tag(run: wandb.Run, tmp_path: Path) -> object:
    artifact = wandb.Artifact("tagged", type="dataset")
    artifact.add_file(_file(tmp_path))
    return run.log_artifact(artifact, tags=["bad!tag"])


CASES: list[tuple[str, Callable[[wandb.Run, Path], object], type[Exception], str]] = [
    ("name-slash", lambda r, p: wandb.Artifact("my/data"), wandb.ValidationError, "my/data"),
    ("name-space", lambda r, p: wandb.Artifact("a b"), wandb.ValidationError, "'a b'"),
    ("name-long", lambda r, p: wandb.Artifact(LONG_NAME), wandb.ValidationError, "n" * 100),
    ("name-dotdot", lambda r, p: wandb.Artifact(".."), wandb.ValidationError, "'..'"),
    (
        "type-reserved",
        lambda r, p: wandb.Artifact("ok", type="wandb-x"),
        wandb.ValidationError,
        "wandb-x",
    ),
    (
        "type-space",
        lambda r, p: wandb.Artifact("ok", type="my type"),
        wandb.ValidationError,
        "my type",
    ),
    ("alias-version", _logged_with_alias("v3"), wandb.ValidationError, "v3"),
    ("alias-slash", _logged_with_alias("team/best"), wandb.ValidationError, "team/best"),
    ("alias-colon", _logged_with_alias("a:b"), wandb.ValidationError, "a:b"),
    ("alias-empty", _logged_with_alias(""), wandb.ValidationError, "''"),
    (
        "add-file-missing",
        lambda r, p: wandb.Artifact("f").add_file(p / "no-such-file.h5"),
        wandb.ValidationError,
        "no-such-file.h5",
    ),
    (
        "add-dir-missing",
        lambda r, p: wandb.Artifact("f").add_dir(p / "no-such-dir"),
        wandb.ValidationError,
        "no-such-dir",
    ),
    ("add-file-escape", _add_file("../escape"), wandb.ValidationError, "../escape"),
    ("add-file-absolute", _add_file("/etc/passwd"), wandb.ValidationError, "/etc/passwd"),
    ("add-file-dot-segment", _add_file("a/./b"), wandb.ValidationError, "a/./b"),
    ("new-file-escape", _new_file, wandb.ValidationError, "../outside.txt"),
    (
        "metadata-inf",
        lambda r, p: wandb.Artifact("m", metadata={"score": float("inf")}),
        wandb.ValidationError,
        "inf",
    ),
    ("metadata-inf-setter", _metadata_inf_setter, wandb.ValidationError, "inf"),
    (
        "reference-ftp",
        lambda r, p: wandb.Artifact("r").add_reference("ftp://host/data.bin"),
        wandb.ValidationError,
        "ftp://host/data.bin",
    ),
    (
        "reference-missing-file",
        lambda r, p: wandb.Artifact("r").add_reference((p / "gone.bin").as_uri()),
        wandb.NotFoundError,
        "gone.bin",
    ),
    ("use-a:b:c", lambda r, p: r.use_artifact("a:b:c"), wandb.ValidationError, "a:b:c"),
    ("use-leading-zero", lambda r, p: r.use_artifact("good:v01"), wandb.ValidationError, "v01"),
    ("use-trailing-colon", lambda r, p: r.use_artifact("good:"), wandb.ValidationError, "good:"),
    ("use-missing", lambda r, p: r.use_artifact("absent:latest"), wandb.NotFoundError, "absent"),
    ("use-missing-version", lambda r, p: r.use_artifact("good:v9"), wandb.NotFoundError, "v9"),
    (
        "tag-setter",
        lambda r, p: setattr(wandb.Artifact("t"), "tags", ["bad,tag"]),
        wandb.ValidationError,
        "bad,tag",
    ),
    ("tag-on-log", _bad_log_tag, wandb.ValidationError, "bad!tag"),
    (
        "description-nul",
        lambda r, p: wandb.Artifact("d", description="a\x00b"),
        wandb.ValidationError,
        "NUL",
    ),
]


@pytest.mark.parametrize(
    ("act", "error", "shown"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_and_writes_nothing(
    world: tuple[wandb.Run, wandb.Artifact],
    tmp_path: Path,
    act: Callable[[wandb.Run, Path], object],
    error: type[Exception],
    shown: str,
) -> None:
    run, _good = world
    before = snapshot()
    with pytest.raises(error) as info:
        act(run, tmp_path)
    assert shown in str(info.value)
    assert snapshot() == before
    assert not (tmp_path / "artifacts").exists()


def test_alias_latest_on_log_is_accepted_as_in_wandb(
    world: tuple[wandb.Run, wandb.Artifact], tmp_path: Path
) -> None:
    run, _good = world
    artifact = wandb.Artifact("good", type="dataset")
    artifact.add_file(_file(tmp_path))
    run.log_artifact(artifact, aliases=["latest"])
    assert artifact.version == "v1"
    assert artifact.aliases == ["latest"]


def test_alias_latest_on_an_older_version_is_refused(
    world: tuple[wandb.Run, wandb.Artifact], tmp_path: Path
) -> None:
    run, good = world
    newer = wandb.Artifact("good", type="dataset")
    newer.add_file(_file(tmp_path))
    run.log_artifact(newer)
    good.aliases = ["latest"]
    with pytest.raises(wandb.ValidationError, match="latest"):
        good.save()


def test_bad_alias_on_save_writes_nothing(world: tuple[wandb.Run, wandb.Artifact]) -> None:
    _run, good = world
    before = snapshot()
    good.description = "should not be stored"
    with pytest.raises(wandb.ValidationError, match="ok/bad"):
        good.aliases = ["ok/bad"]  # refused as soon as it is set, before any save
    assert good.aliases == ["latest"]
    assert snapshot() == before
    assert wandb.Api().artifact(f"{PROJECT}/good:v0").description is None


def test_type_clash_with_existing_artifact(
    world: tuple[wandb.Run, wandb.Artifact], tmp_path: Path
) -> None:
    run, _good = world
    before = snapshot()
    clash = wandb.Artifact("good", type="model")
    clash.add_file(_file(tmp_path))
    with pytest.raises(wandb.ArtifactDeskError, match="good"):
        run.log_artifact(clash)
    assert snapshot() == before


def test_bad_project_in_init(sdk_home: Path) -> None:
    with pytest.raises(wandb.ValidationError, match="bad project"):
        wandb.init(project="bad project")
    assert _context.current_run is None
