"""The seed page's code (W&B Artifacts overview) runs unchanged against Artifact Desk."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import desktop_app.sdk as wandb

SEED_SNIPPET = """\
import desktop_app.sdk as wandb

run = wandb.init(project="artifacts-example", job_type="add-dataset")
artifact = wandb.Artifact(name="example_artifact", type="dataset")
artifact.add_file(local_path="./dataset.h5", name="training_dataset")
artifact.save()

artifact = run.use_artifact("example_artifact:latest")
datadir = artifact.download()
"""


def _write_dataset(folder: Path) -> bytes:
    data = bytes(range(256)) * 40 + b"hdf5-ish payload"
    (folder / "dataset.h5").write_bytes(data)
    return data


def test_seed_page_code_in_process(sdk_home: Path, tmp_path: Path) -> None:
    data = _write_dataset(tmp_path)

    run = wandb.init(project="artifacts-example", job_type="add-dataset")
    artifact = wandb.Artifact(name="example_artifact", type="dataset")
    artifact.add_file(local_path="./dataset.h5", name="training_dataset")
    artifact.save()

    artifact = run.use_artifact("example_artifact:latest")
    datadir = artifact.download()

    assert Path(datadir) == Path("artifacts") / "example_artifact:v0"
    assert not Path(datadir).is_absolute()
    placed = tmp_path / "artifacts" / "example_artifact:v0" / "training_dataset"
    assert placed.read_bytes() == data
    assert sorted(p.name for p in (tmp_path / datadir).iterdir()) == ["training_dataset"]
    assert artifact.version == "v0"
    assert artifact.type == "dataset"
    assert "latest" in artifact.aliases
    assert run.job_type == "add-dataset"
    assert run.project == "artifacts-example"
    assert [r.id for r in artifact.used_by()] == [run.id]


def test_seed_page_code_as_a_real_script(
    sdk_home: Path, tmp_path: Path, run_script: Callable[[Path], str]
) -> None:
    data = _write_dataset(tmp_path)
    script = tmp_path / "script.py"
    script.write_text(SEED_SNIPPET + 'print("DATADIR=" + datadir)\n', encoding="utf-8")
    stdout = run_script(script)
    assert "DATADIR=artifacts/example_artifact:v0" in stdout.splitlines()
    assert (tmp_path / "artifacts" / "example_artifact:v0" / "training_dataset").read_bytes() == (
        data
    )
    # The version is in the store the script used, and this process can read it.
    logged = wandb.Api().artifact("artifacts-example/example_artifact:latest")
    assert logged.version == "v0"
    assert [e.path for e in logged.files()] == ["training_dataset"]


def test_seed_snippet_text_is_the_pages_code() -> None:
    page = Path("/work/shared/seed/artifacts-overview.ja.md")
    if not page.exists():
        pytest.skip("seed page not available")
    text = page.read_text(encoding="utf-8")
    for line in textwrap.dedent(SEED_SNIPPET).splitlines()[2:6]:
        assert line in text


def test_pages_own_use_artifact_names_a_file_and_gets_a_helpful_error(
    sdk_home: Path, tmp_path: Path
) -> None:
    _write_dataset(tmp_path)
    run = wandb.init(project="artifacts-example", job_type="add-dataset")
    artifact = wandb.Artifact(name="example_artifact", type="dataset")
    artifact.add_file(local_path="./dataset.h5", name="training_dataset")
    artifact.save()

    with pytest.raises(wandb.NotFoundError) as info:
        run.use_artifact("training_dataset:latest")
    message = str(info.value)
    assert "no artifact named 'training_dataset'" in message
    assert "artifacts-example" in message
    assert "example_artifact" in message
    # Nothing was recorded as used.
    assert artifact.used_by() == []
