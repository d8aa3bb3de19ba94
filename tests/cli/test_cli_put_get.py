"""The main flows of ``artifact-desk`` run in-process: put, ls, versions, get, verify."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop_app.cli.main import main

PROJECT = "artifacts-example"
ARTIFACT = f"{PROJECT}/example_artifact"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ARTIFACT_DESK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("hello\n")
    (data / "sub" / "b.bin").write_bytes(bytes(range(256)) * 20)
    (data / "c.csv").write_text("x,y\n1,2\n")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def put_data(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run(capsys, "put", "data", "-n", ARTIFACT, "-t", "dataset", *extra)


def test_put_prints_version_files_size_and_digest(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = put_data(capsys)
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith(f"{ARTIFACT}:v0 (3 files, ")
    assert "KiB, digest " in first
    assert err == ""


def test_second_identical_put_says_nothing_to_upload(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert put_data(capsys)[0] == 0
    code, out, _err = put_data(capsys)
    assert code == 0
    assert out.splitlines()[0] == f"identical to {ARTIFACT}:v0, nothing to upload"
    code, out, _err = run(capsys, "versions", ARTIFACT, "--json")
    assert [v["version"] for v in json.loads(out)] == ["v0"]


def test_changed_content_makes_v1_and_moves_latest(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys)
    (workdir / "data" / "a.txt").write_text("changed\n")
    code, out, _err = put_data(capsys)
    assert code == 0
    assert out.startswith(f"{ARTIFACT}:v1 ")
    _code, out, _err = run(capsys, "versions", ARTIFACT, "--json")
    found = {v["version"]: v for v in json.loads(out)}
    assert "latest" in found["v1"]["aliases"]
    assert "latest" not in found["v0"]["aliases"]


def test_aliases_tags_description_and_metadata_are_stored(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = put_data(
        capsys,
        "-a",
        "best",
        "--alias",
        "production",
        "-a",
        "latest",
        "--tag",
        "raw data",
        "-d",
        "first cut",
        "--metadata",
        '{"rows": 3, "source": {"kind": "csv"}}',
    )
    assert code == 0, err
    assert "best" in out
    assert "production" in out
    _code, out, _err = run(capsys, "versions", ARTIFACT, "--json")
    (version,) = json.loads(out)
    assert set(version["aliases"]) == {"latest", "best", "production"}
    assert version["tags"] == ["raw data"]
    assert version["description"] == "first cut"
    assert version["metadata"] == {"rows": 3, "source": {"kind": "csv"}}


def test_alias_on_unchanged_put_is_added_to_the_existing_version(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys)
    code, out, _err = put_data(capsys, "-a", "best")
    assert code == 0
    assert "nothing to upload" in out
    _code, out, _err = run(capsys, "versions", ARTIFACT, "--json")
    assert "best" in json.loads(out)[0]["aliases"]


def test_type_defaults_to_unspecified(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "put", "data/a.txt", "-n", f"{PROJECT}/single")[0] == 0
    _code, out, _err = run(capsys, "ls", PROJECT, "--json")
    assert json.loads(out)[0]["type"] == "unspecified"


def test_ls_lists_projects_then_artifacts(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ls")
    assert code == 0
    assert out == ""
    assert "no projects yet" in err
    put_data(capsys)
    run(capsys, "put", "data/a.txt", "-n", f"{PROJECT}/weights", "-t", "model")
    code, out, _err = run(capsys, "ls")
    assert code == 0
    assert out.splitlines()[0].split() == ["PROJECT", "ARTIFACTS", "CREATED"]
    assert out.splitlines()[1].split()[:2] == [PROJECT, "2"]
    code, out, _err = run(capsys, "ls", PROJECT)
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "VERSIONS", "UPDATED"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["example_artifact", "dataset", "1"],
        ["weights", "model", "1"],
    ]
    code, out, _err = run(capsys, "ls", PROJECT, "-t", "model", "--json")
    assert [c["name"] for c in json.loads(out)] == ["weights"]
    code, out, _err = run(capsys, "ls", "--json")
    assert json.loads(out)[0]["project"] == PROJECT


def test_versions_table_has_the_documented_columns(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys, "-a", "best")
    code, out, _err = run(capsys, "versions", ARTIFACT)
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["VERSION", "ALIASES", "DIGEST", "FILES", "SIZE", "CREATED"]
    assert row.startswith("v0 ")
    assert "latest, best" in row or "best, latest" in row
    assert " 3 " in row


def test_get_with_root_writes_identical_files_and_prints_the_folder(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys)
    code, out, err = run(capsys, "get", f"{ARTIFACT}:latest", "--root", "out")
    assert code == 0, err
    assert out == "out\n"
    for name in ("a.txt", "c.csv", "sub/b.bin"):
        assert (workdir / "out" / name).read_bytes() == (workdir / "data" / name).read_bytes()


def test_get_defaults_to_artifacts_name_version(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys)
    code, out, _err = run(capsys, "get", f"{ARTIFACT}:v0")
    assert code == 0
    folder = workdir / "artifacts" / "example_artifact:v0"
    assert out.strip() == str(Path("artifacts") / "example_artifact:v0")
    assert (folder / "a.txt").read_text() == "hello\n"


def test_get_with_entity_and_path_prefix(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "put", "data", "-n", "team/proj/things", "-t", "dataset")[0] == 0
    code, _out, err = run(capsys, "get", "team/proj/things:v0", "--root", "out", "--path", "sub")
    assert code == 0, err
    assert sorted(p.name for p in (workdir / "out").rglob("*") if p.is_file()) == ["b.bin"]


def test_failing_get_creates_no_folder(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    put_data(capsys)
    code, _out, err = run(capsys, "get", f"{ARTIFACT}:v5")
    assert code == 3
    assert "v5" in err
    assert not (workdir / "artifacts").exists()
    code, _out, _err = run(capsys, "get", f"{PROJECT}/unknown:latest", "--root", "out")
    assert code == 3
    assert not (workdir / "out").exists()


def test_verify_matching_folder_exits_0(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    put_data(capsys)
    run(capsys, "get", ARTIFACT, "--root", "out")
    code, out, _err = run(capsys, "verify", ARTIFACT, "out")
    assert code == 0
    assert "matches" in out
    assert run(capsys, "verify", ARTIFACT, "data")[0] == 0


def test_verify_reports_changed_missing_and_extra_files_with_exit_1(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_data(capsys)
    run(capsys, "get", ARTIFACT, "--root", "out")
    (workdir / "out" / "a.txt").write_text("tampered\n")
    (workdir / "out" / "c.csv").unlink()
    (workdir / "out" / "extra.txt").write_text("new")
    code, out, err = run(capsys, "verify", f"{ARTIFACT}:v0", "out")
    assert code == 1
    assert out.splitlines() == ["changed: a.txt", "missing: c.csv", "not in the version: extra.txt"]
    assert err.startswith("artifact-desk: error: verify failed:")
    assert "3 differences" in err


def test_quiet_prints_only_requested_data(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "-q", "put", "data", "-n", ARTIFACT) == (0, "", "")
    assert run(capsys, "put", "data", "-n", ARTIFACT, "--quiet") == (0, "", "")
    assert run(capsys, "get", ARTIFACT, "--root", "out", "-q") == (0, "out\n", "")
    assert run(capsys, "-q", "verify", ARTIFACT, "out") == (0, "", "")


def test_no_progress_on_stderr_when_not_a_terminal(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = put_data(capsys)
    assert code == 0
    assert err == ""
    code, _out, err = run(capsys, "get", ARTIFACT, "--root", "out")
    assert code == 0
    assert "\r" not in err
    assert "%" not in err
    assert "\x1b" not in err


def test_files_lists_the_paths_of_a_version(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert put_data(capsys)[0] == 0

    code, out, _err = run(capsys, "files", f"{ARTIFACT}:v0", "--json")

    assert code == 0
    listed = json.loads(out)
    assert [f["path"] for f in listed] == ["a.txt", "c.csv", "sub/b.bin"]
    assert listed[2]["size"] == 256 * 20
    assert run(capsys, "files", f"{ARTIFACT}-missing:v0")[0] == 3


def test_put_from_and_get_into_folders_whose_names_are_not_utf8(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Linux allows any bytes in a folder's name (here Latin-1's "é"); the files inside
    # still have names a manifest can hold.
    source = Path(os.fsdecode(os.fsencode(workdir) + b"/donn\xe9es"))
    (workdir / "data").rename(source)
    code, _out, err = run(capsys, "put", str(source), "-n", ARTIFACT, "-t", "dataset")
    assert code == 0, err

    target = Path(os.fsdecode(os.fsencode(workdir) + b"/t\xe9l\xe9charg\xe9"))
    code, out, err = run(capsys, "get", f"{ARTIFACT}:latest", "--root", str(target))
    assert code == 0, err
    assert (target / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 20
    assert "t\\xe9l\\xe9charg\\xe9" in out  # the folder, printed with its bytes shown
    code, _out, err = run(capsys, "get", f"{ARTIFACT}:latest", "--root", str(target))
    assert code == 0, err  # the files there are checked (and kept) through the hash cache
    code, _out, err = run(capsys, "verify", f"{ARTIFACT}:latest", str(target))
    assert code == 0, err
