"""Exit codes and error messages: every error class, bad input, crashes and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from desktop_app.cli.main import main
from desktop_app.client.progress import CancelCheck, check_cancelled
from desktop_app.client.session import Client
from desktop_app.core.errors import (
    BackendUnavailableError,
    CancelledError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)

ARTIFACT = "proj/example"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ARTIFACT_DESK_URL", raising=False)
    monkeypatch.delenv("ARTIFACT_DESK_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("hello\n")
    (data / "b.txt").write_text("world\n")
    return tmp_path


@pytest.fixture
def logged(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["put", "data", "-n", ARTIFACT, "-t", "dataset"]) == 0
    capsys.readouterr()
    return workdir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def version_names(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, _err = run(capsys, "versions", ARTIFACT, "--json")
    assert code == 0
    return [v["version"] for v in json.loads(out)]


# -- one test per error class -----------------------------------------------------------
def test_name_without_project_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "put", "data", "-n", "example", "-t", "dataset")
    assert code == 2
    assert out == ""
    assert err.startswith("artifact-desk: error: -n/--name 'example' names no project")
    assert "[ENTITY/]PROJECT/NAME" in err


def test_unknown_artifact_exits_3(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "get", "proj/nothing:latest")
    assert code == 3
    assert "'nothing'" in err


def test_type_conflict_exits_4(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "put", "data", "-n", ARTIFACT, "-t", "model")
    assert code == 4
    assert "'dataset'" in err
    assert err.startswith("artifact-desk: error: ")


def test_tampered_file_fails_verify_with_exit_1(
    logged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (logged / "data" / "a.txt").write_text("HELLO\n")
    code, out, _err = run(capsys, "verify", ARTIFACT, "data")
    assert code == 1
    assert out == "changed: a.txt\n"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ValidationError("bad thing 'x'"), 2),
        (NotFoundError("no such thing 'x'"), 3),
        (ConflictError("clash over 'x'"), 4),
        (IntegrityError("digest of 'x' differs"), 5),
        (BackendUnavailableError("server at 'x' is down"), 6),
    ],
)
def test_each_error_class_maps_to_its_exit_code(
    logged: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    code: int,
) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(Client, "resolve", fail)
    got, out, err = run(capsys, "get", ARTIFACT, "--root", "out")
    assert got == code
    assert out == ""
    assert err == f"artifact-desk: error: {error}\n"
    assert not (logged / "out").exists()


def test_argparse_errors_exit_2_with_usage(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "put", "data")
    assert code == 2
    assert out == ""
    assert err.startswith("usage: artifact-desk put")
    assert "artifact-desk put: error: the following arguments are required: -n/--name" in err
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys, "ls", "--bogus")[0] == 2


# -- bad input never writes anything ----------------------------------------------------
BAD_INPUTS: list[tuple[list[str], int, str]] = [
    (["put", "data", "-n", "noproject"], 2, "'noproject'"),
    (["put", "data", "-n", "proj/bad name!"], 2, "'bad name!'"),
    (["put", "data", "-n", "a/b/c/d"], 2, "'a/b/c'"),
    (["put", "data", "-n", "proj/example:v1"], 2, "'proj/example:v1'"),
    (["put", "data", "-n", "proj/new", "-a", "v3"], 2, "'v3'"),
    (["put", "data", "-n", "proj/new", "-a", "a:b"], 2, "'a:b'"),
    (["put", "data", "-n", "proj/new", "--tag", "bad/tag"], 2, "'bad/tag'"),
    (["put", "data", "-n", "proj/new", "-t", "wandb-history"], 2, "'wandb-history'"),
    (["put", "data", "-n", "proj/new", "-t", "my type"], 2, "'my type'"),
    (["put", "data", "-n", "proj/new", "--metadata", "{bad"], 2, "'{bad'"),
    (["put", "data", "-n", "proj/new", "--metadata", "[1, 2]"], 2, "JSON array"),
    (["put", "data", "-n", "proj/new", "--metadata", '{"x": Infinity}'], 2, "inf"),
    (["put", "no_such_dir", "-n", "proj/new"], 2, "'no_such_dir'"),
    (["get", "proj/example:v007", "--root", "out"], 2, "'v007'"),
    (["get", "proj/example:", "--root", "out"], 2, "'proj/example:'"),
    (["get", "example", "--root", "out"], 2, "'example'"),
    (["get", "proj/example", "--root", "out", "--path", "nothere"], 2, "'nothere'"),
    (["get", "nosuch/example", "--root", "out"], 3, "'nosuch'"),
    (["get", "proj/example:v9", "--root", "out"], 3, "'v9'"),
    (["get", "proj/example:nope", "--root", "out"], 3, "'nope'"),
    (["verify", "proj/example", "out"], 2, "'out'"),
    (["verify", "proj/example:v4", "data"], 3, "'v4'"),
    (["cache", "cleanup", "10XB"], 2, "'10XB'"),
    (["ls", "bad project!"], 2, "'bad project!'"),
    (["ls", "nosuchproject"], 3, "'nosuchproject'"),
    (["ls", "-t", "dataset"], 2, "'dataset'"),
    (["versions", "proj/nothing"], 3, "'nothing'"),
    (["versions", "nothing"], 2, "'nothing'"),
]


@pytest.mark.parametrize(
    ("argv", "code", "named"), BAD_INPUTS, ids=[" ".join(a) for a, *_ in BAD_INPUTS]
)
def test_bad_input_is_refused_before_anything_is_written(
    logged: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, named: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert got == code, err
    assert out == ""
    assert err.startswith("artifact-desk: error: ")
    assert named in err
    assert "Traceback" not in err
    assert not (logged / "out").exists()
    assert not (logged / "artifacts").exists()
    assert version_names(capsys) == ["v0"]
    code, out, _err = run(capsys, "ls", "proj", "--json")
    assert [c["name"] for c in json.loads(out)] == ["example"]


def test_get_into_an_existing_file_is_refused(
    logged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (logged / "out").write_text("a file")
    code, _out, err = run(capsys, "get", ARTIFACT, "--root", "out")
    assert code == 2
    assert "'out' is a file" in err
    assert (logged / "out").read_text() == "a file"


# -- crashes, interrupts, file system errors --------------------------------------------
def test_unexpected_exception_exits_70_without_traceback(
    logged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Client, "resolve", crash)
    code, _out, err = run(capsys, "get", ARTIFACT)
    assert code == 70
    assert "RuntimeError: boom" in err
    assert "ARTIFACT_DESK_DEBUG=1" in err
    assert "Traceback" not in err

    monkeypatch.setenv("ARTIFACT_DESK_DEBUG", "1")
    code, _out, err = run(capsys, "get", ARTIFACT)
    assert code == 70
    assert "Traceback (most recent call last)" in err


def test_keyboard_interrupt_exits_130_with_cancelled(
    logged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "verify", interrupted)
    code, out, err = run(capsys, "verify", ARTIFACT, "data")
    assert code == 130
    assert out == ""
    assert err == "artifact-desk: cancelled\n"


def test_ctrl_c_during_a_transfer_cancels_it(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def put(*_args: object, is_cancelled: CancelCheck, **_kwargs: object) -> None:
        seen.append(is_cancelled())
        os.kill(os.getpid(), signal.SIGINT)  # the handler only sets the cancel flag
        seen.append(is_cancelled())
        check_cancelled(is_cancelled, "the upload")

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(Client, "put", put)
    code, _out, err = run(capsys, "put", "data", "-n", ARTIFACT)
    assert seen == [False, True]
    assert code == 130
    assert err.startswith("artifact-desk: cancelled (the upload was cancelled by the user)")
    assert signal.getsignal(signal.SIGINT) is before


def test_cancelled_error_from_the_client_exits_130(
    logged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def cancelled(*_args: object, **_kwargs: object) -> None:
        raise CancelledError("the download was cancelled by the user")

    monkeypatch.setattr(Client, "get", cancelled)
    assert run(capsys, "get", ARTIFACT)[0] == 130


def test_os_error_exits_74_naming_the_file(
    logged: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/somewhere/out")

    monkeypatch.setattr(Client, "get", denied)
    code, _out, err = run(capsys, "get", ARTIFACT)
    assert code == 74
    assert err == "artifact-desk: error: cannot access /somewhere/out: Permission denied\n"


def test_client_factory_errors_are_reported(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def factory() -> Client:
        raise BackendUnavailableError("the server at http://x is unreachable; try again later")

    code = main(["ls"], client_factory=factory)
    err = capsys.readouterr().err
    assert code == 6
    assert "unreachable" in err


def test_an_unreachable_server_is_a_clear_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIFACT_DESK_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("ARTIFACT_DESK_API_KEY", "adk_00000000_not-a-real-secret")
    code, _out, err = run(capsys, "ls")
    assert code == 6
    assert "127.0.0.1:1" in err
    assert "not-a-real-secret" not in err


# -- no command, help, version ----------------------------------------------------------
def test_no_command_without_a_display_explains_and_shows_help(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(capsys)
    assert code == 2
    assert out == ""
    assert "there is no display to open the window on" in err
    assert "usage: artifact-desk" in err
    assert not (workdir / "home").exists()


def test_cache_without_action_shows_its_help(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "cache")
    assert code == 2
    assert "cleanup" in err


def test_help_documents_the_exit_codes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--help")
    assert code == 0
    for line in ("0    success", "1    verify", "2    usage", "3    not found", "4    conflict"):
        assert line in out
    for line in ("5    integrity", "6    backend unavailable", "130  cancelled"):
        assert line in out
    code, out, _err = run(capsys, "put", "--help")
    assert code == 0
    assert "[ENTITY/]PROJECT/NAME" in out
    assert "unspecified" in out


def test_version(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "--version")
    assert code == 0
    assert out.startswith("artifact-desk ")


def test_a_folder_with_case_twins_is_refused_before_anything_is_stored(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twins = workdir / "twins"
    twins.mkdir()
    (twins / "Data.csv").write_text("upper")
    (twins / "data.csv").write_text("lower")

    code, _out, err = run(capsys, "put", str(twins), "-n", "proj/twins", "-t", "dataset")

    assert code == 2
    assert "Data.csv" in err
    assert "data.csv" in err
    _code, listed, note = run(capsys, "ls")
    assert listed == ""
    assert "no projects" in note
