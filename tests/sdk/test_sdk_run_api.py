"""Runs (``init``, context manager, current run), references and the public ``Api``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import desktop_app.sdk as wandb
from desktop_app.sdk import _context

PROJECT = "runs-and-api"


def log_version(
    run: wandb.Run, name: str, content: bytes, type: str = "dataset", **kwargs: object
) -> wandb.Artifact:
    artifact = wandb.Artifact(name, type=type)
    with artifact.new_file("data.bin", mode="wb") as stream:
        stream.write(content)
    run.log_artifact(artifact, **kwargs)  # type: ignore[arg-type]
    return artifact


# == runs ================================================================================
def test_init_as_context_manager_finishes(sdk_home: Path) -> None:
    with wandb.init(project=PROJECT, job_type="train", config={"lr": 0.1}) as run:
        assert run.state == "running"
        assert _context.current_run is run
        assert run.config == {"lr": 0.1}
    assert run.state == "finished"
    assert _context.current_run is None
    assert wandb.Api().run(run.id).state == "finished"
    assert wandb.Api().run(f"{PROJECT}/{run.id}").job_type == "train"


def test_init_context_manager_fails_on_exception(sdk_home: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        wandb.init(project=PROJECT, job_type="train") as run,
    ):
        raise RuntimeError("boom")
    assert run.state == "failed"
    assert wandb.Api().run(run.id).state == "failed"
    assert _context.current_run is None


def test_current_run_and_finish(sdk_home: Path) -> None:
    first = wandb.init(project=PROJECT)
    assert _context.current_run is first
    second = wandb.init(project=PROJECT)  # finishes the first
    assert first.state == "finished"
    assert _context.current_run is second
    wandb.finish(exit_code=2)
    assert second.state == "failed"
    assert _context.current_run is None
    wandb.finish()  # nothing to finish: no error


def test_default_project(sdk_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert wandb.init().project == "uncategorized"
    monkeypatch.setenv("ARTIFACT_DESK_PROJECT", "from-env")
    assert wandb.init().project == "from-env"


def test_wandb_run_is_the_current_run(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT)
    assert wandb.run is run
    run.finish()
    assert wandb.run is None


# == references ==========================================================================
def test_use_artifact_every_reference_form(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT, job_type="log")
    log_version(run, "refs", b"zero", aliases=["gold"])
    log_version(run, "refs", b"one")
    consumer = wandb.init(project=PROJECT, job_type="use")
    forms = {
        "refs": "v1",
        "refs:latest": "v1",
        "refs:v0": "v0",
        "refs:v1": "v1",
        "refs:gold": "v0",
        f"{PROJECT}/refs:v0": "v0",
        f"{PROJECT}/refs": "v1",
    }
    for ref, version in forms.items():
        used = consumer.use_artifact(ref)
        assert used.version == version, ref
        assert used.qualified_name == f"{PROJECT}/refs:{version}"
    with pytest.raises(wandb.NotFoundError, match="v7"):
        consumer.use_artifact("refs:v7")
    with pytest.raises(wandb.NotFoundError, match="silver"):
        consumer.use_artifact("refs:silver")


def test_use_artifact_with_entity(sdk_home: Path) -> None:
    run = wandb.init(entity="team", project="proj", job_type="log")
    assert run.project == "team/proj"
    log_version(run, "ent", b"entity data")
    assert run.use_artifact("team/proj/ent:v0").qualified_name == "team/proj/ent:v0"
    assert run.use_artifact("ent:v0").project == "team/proj"
    assert run.use_artifact("ent").version == "v0"
    # 'proj/ent' names the project 'proj' without the entity: a different project.
    with pytest.raises(wandb.NotFoundError):
        run.use_artifact("proj/ent:v0")
    assert wandb.Api().artifact("team/proj/ent:latest").version == "v0"


def test_use_artifact_wrong_type(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT)
    logged = log_version(run, "typed", b"t", type="model")
    with pytest.raises(wandb.ValidationError, match="'model'"):
        run.use_artifact("typed:latest", type="dataset")
    assert logged.used_by() == []
    assert run.use_artifact("typed:latest", type="model").type == "model"
    assert [r.id for r in logged.used_by()] == [run.id]


def test_use_artifact_with_an_unlogged_artifact_logs_it(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT)
    artifact = wandb.Artifact("inline", type="dataset")
    with artifact.new_file("x.txt", mode="w") as stream:
        stream.write("x")
    used = run.use_artifact(artifact)
    assert used.version == "v0"
    logger = used.logged_by()
    assert logger is not None
    assert logger.id == run.id
    assert [r.id for r in used.used_by()] == [run.id]


# == Api =================================================================================
def test_api_artifact_with_and_without_overrides(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT)
    log_version(run, "apiart", b"a0")
    log_version(run, "apiart", b"a1")
    run.finish()

    api = wandb.Api()
    assert api.artifact(f"{PROJECT}/apiart:v0").version == "v0"
    assert api.artifact(f"{PROJECT}/apiart").version == "v1"
    with pytest.raises(wandb.ValidationError, match="project"):
        api.artifact("apiart:v0")

    scoped = wandb.Api(overrides={"project": PROJECT})
    assert scoped.artifact("apiart:v0").version == "v0"
    assert scoped.artifact("apiart:latest").version == "v1"
    assert scoped.artifact("apiart", type="dataset").version == "v1"
    with pytest.raises(wandb.ValidationError, match="'dataset'"):
        scoped.artifact("apiart", type="model")
    assert scoped.artifact_exists("apiart:v1")
    assert not scoped.artifact_exists("apiart:v2")
    assert not scoped.artifact_exists("nothing")
    downloaded = Path(scoped.artifact("apiart:v0").download())
    assert (downloaded / "data.bin").read_bytes() == b"a0"


def test_api_types_collections_and_versions(sdk_home: Path) -> None:
    run = wandb.init(project=PROJECT)
    log_version(run, "ds-b", b"b0")
    log_version(run, "ds-a", b"a0")
    log_version(run, "ds-a", b"a1")
    log_version(run, "ds-a", b"a2")
    log_version(run, "net", b"m0", type="model")
    other = wandb.init(project="other-project")
    log_version(other, "elsewhere", b"e", type="table")

    api = wandb.Api()
    types = api.artifact_types(PROJECT)
    assert sorted(t.name for t in types) == ["dataset", "model"]
    assert all(t.project == PROJECT for t in types)
    assert sorted(c.name for c in api.artifact_collections(PROJECT, "dataset")) == [
        "ds-a",
        "ds-b",
    ]
    assert [c.name for c in api.artifact_collections(PROJECT, "model")] == ["net"]
    assert sorted(c.name for c in api.artifact_collections(PROJECT)) == ["ds-a", "ds-b", "net"]
    with pytest.raises(wandb.ValidationError, match="project"):
        api.artifact_types()

    versions = api.artifacts("dataset", f"{PROJECT}/ds-a")
    assert [v.version for v in versions] == ["v0", "v1", "v2"]
    assert [v.name for v in versions] == ["ds-a:v0", "ds-a:v1", "ds-a:v2"]
    assert ["latest" in v.aliases for v in versions] == [False, False, True]
    with pytest.raises(wandb.ValidationError, match="'dataset'"):
        api.artifacts("model", f"{PROJECT}/ds-a")

    (dataset_type,) = [t for t in types if t.name == "dataset"]
    collection = next(c for c in dataset_type.collections() if c.name == "ds-a")
    assert collection.type == "dataset"
    assert [v.version for v in collection.versions()] == ["v0", "v1", "v2"]
    assert [t.name for t in api.artifact_types("other-project")] == ["table"]


def test_lineage_between_runs(sdk_home: Path) -> None:
    run_a = wandb.init(project=PROJECT, job_type="produce")
    produced = log_version(run_a, "lineage", b"lin")
    run_a.finish()
    run_b = wandb.init(project=PROJECT, job_type="consume")
    run_b.use_artifact("lineage:v0")
    run_b.finish()

    version = wandb.Api().artifact(f"{PROJECT}/lineage:v0")
    assert version.used_by() == [run_b]
    assert version.logged_by() == run_a
    assert produced.logged_by() == run_a
    logger = version.logged_by()
    assert logger is not None
    assert logger.job_type == "produce"


def test_version_logged_from_another_process(
    sdk_home: Path, tmp_path: Path, run_script: Callable[[Path], str]
) -> None:
    run = wandb.init(project=PROJECT, job_type="here")
    log_version(run, "shared", b"from this process")

    script = tmp_path / "other.py"
    script.write_text(
        "import desktop_app.sdk as wandb\n"
        f"run = wandb.init(project={PROJECT!r}, job_type='there')\n"
        "art = wandb.Artifact('shared', type='dataset')\n"
        "with art.new_file('data.bin', mode='wb') as f:\n"
        "    f.write(b'from another process')\n"
        "run.log_artifact(art, aliases=['remote'])\n"
        "run.use_artifact('shared:v0')\n"
        "print('RUN=' + run.id)\n"
        "print('VERSION=' + art.version)\n"
        "run.finish()\n",
        encoding="utf-8",
    )
    stdout = run_script(script)
    lines = dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    assert lines["VERSION"] == "v1"

    latest = run.use_artifact("shared:latest")
    assert latest.version == "v1"
    assert "remote" in latest.aliases
    logger = latest.logged_by()
    assert logger is not None
    assert logger.id == lines["RUN"]
    assert logger.state == "finished"
    assert logger.id != run.id
    folder = Path(latest.download())
    assert (folder / "data.bin").read_bytes() == b"from another process"
    v0 = wandb.Api().artifact(f"{PROJECT}/shared:v0")
    assert [r.id for r in v0.used_by()] == [lines["RUN"]]
