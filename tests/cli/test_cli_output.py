"""The output layer (tables, JSON, the progress line) and ``cache cleanup``."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from desktop_app.cli.main import main
from desktop_app.cli.output import Output, Progress
from desktop_app.client.session import Client
from desktop_app.core.digests import md5_file_b64


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ARTIFACT_DESK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_table_aligns_columns() -> None:
    stdout = io.StringIO()
    Output(stdout, io.StringIO()).table(["A", "LONGER"], [["xyz", "1"], ["x", "22"]])
    assert stdout.getvalue().splitlines() == ["A    LONGER", "xyz  1", "x    22"]


def test_quiet_drops_messages_but_keeps_results_and_errors() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(stdout, stderr, quiet=True)
    out.message("chatty")
    out.note("also chatty")
    out.result("data")
    out.json({"k": "ü"})
    out.error("bad 'x'")
    assert stdout.getvalue() == 'data\n{\n  "k": "ü"\n}\n'
    assert stderr.getvalue() == "artifact-desk: error: bad 'x'\n"


def test_progress_is_silent_when_stderr_is_not_a_terminal() -> None:
    stderr = io.StringIO()
    with Output(io.StringIO(), stderr).progress("uploading") as progress:
        progress(5, 10)
        progress(10, 10)
    assert stderr.getvalue() == ""


def test_progress_is_silent_on_a_terminal_when_quiet() -> None:
    stderr = FakeTerminal()
    with Output(io.StringIO(), stderr, quiet=True).progress("uploading") as progress:
        progress(10, 10)
    assert stderr.getvalue() == ""


def test_progress_draws_one_line_throttled_and_erases_it() -> None:
    stream = FakeTerminal()
    clock = FakeClock()
    progress = Progress(stream, "uploading", enabled=True, interval=0.1, clock=clock)
    progress(0, 2048)
    clock.now = 0.05
    progress(1024, 2048)  # too soon: skipped
    clock.now = 0.2
    progress(1536, 2048)
    clock.now = 0.21
    progress(2048, 2048)  # complete: always drawn
    progress.close()
    draws = stream.getvalue().split("\r\x1b[K")
    assert draws == [
        "",
        "uploading  0 B / 2 KiB    0%",
        "uploading  1.5 KiB / 2 KiB   75%",
        "uploading  2 KiB / 2 KiB  100%",
        "",
    ]
    assert "\n" not in stream.getvalue()


def test_put_draws_progress_on_a_terminal(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    (workdir / "data").mkdir()
    (workdir / "data" / "big.bin").write_bytes(b"x" * 300_000)
    assert main(["put", "data", "-n", "p/big"]) == 0
    drawn = terminal.getvalue()
    assert "\rhashing" in drawn.replace("\x1b[K", "")
    assert "uploading" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is erased before the summary
    assert capsys.readouterr().out.startswith("p/big:v0 ")


def fill_cache(blobs: dict[str, bytes], tmp: Path, pin: str | None = None) -> None:
    with Client() as client:
        for name, content in blobs.items():
            path = tmp / name
            path.write_bytes(content)
            digest = md5_file_b64(path)
            client.content_cache.put_file(digest, path)
            if name == pin:
                client.content_cache.pin("some-version", [digest])


def cached_bytes() -> int:
    with Client() as client:
        return client.content_cache.total_bytes()


def test_cache_cleanup_0_empties_the_cache(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_cache({"one": b"1" * 1000, "two": b"2" * 2000}, workdir)
    assert cached_bytes() == 3000
    code = main(["cache", "cleanup", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "freed 2.9 KiB (3,000 bytes)" in out
    assert cached_bytes() == 0


def test_cache_cleanup_keeps_pinned_contents(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_cache({"one": b"1" * 1000, "two": b"2" * 2000}, workdir, pin="two")
    code = main(["cache", "cleanup", "0B"])
    captured = capsys.readouterr()
    assert code == 0
    assert "(1,000 bytes)" in captured.out
    assert "pinned" in captured.err
    assert cached_bytes() == 2000


def test_cache_cleanup_above_the_size_frees_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_cache({"one": b"1" * 1000}, workdir)
    assert main(["cache", "cleanup", "10GB"]) == 0
    assert "freed 0 B (0 bytes)" in capsys.readouterr().out
    assert cached_bytes() == 1000
