"""A 1 GiB upload and download through the window, against the CLI, with the event loop timed.

Two figures from issue 5, each next to a baseline measured in the same run:

- the event loop's longest stall (a 5 ms timer in the GUI thread, see ``stall_probe``)
  while the transfer queue uploads, and then downloads, 1 GiB (target under 50 ms each),
  against the same window idle;
- the time of those transfers through the window (from the request to the finished job
  reaching the GUI thread) against ``artifact-desk put`` and ``get`` on the same file,
  with the same home (settings, login) and the same server. Target: the window reaches
  90% of the CLI's throughput, the CLI timed as a user runs it. The CLI also reports how
  long its ``main(argv)`` took, without starting Python; against that the window must
  reach 60% (``COMMAND_TARGET`` says why not 90%). While the CLI runs, this process's
  event loop runs as during the window's transfers (the probe ticking, the wait
  polling), so that the probe's own cost falls on both sides.

The team server runs as its own process, as in production, so its work does not share
this process's interpreter lock. Every upload sends another content (a stamp in the
file's first block), so the server's deduplication cannot skip it, and the content cache
is emptied before every download, so each one fetches the bytes. The machines are noisy
(2 cores, other sessions): the window and the CLI take turns, ``ROUNDS`` times for the
uploads and ``DOWNLOAD_ROUNDS`` for the (shorter) downloads, who goes
first alternating, and the best of each counts, for stalls as for times.
Run alone with ``pytest tests/benchmarks/test_gui_transfers.py -s`` to see the figures.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import test_bench_http
from PySide6.QtCore import QObject, QThread, Signal, Slot
from pytestqt.qtbot import QtBot
from stall_probe import TICK_MS, TickRecorder, p99, stall
from test_bench_put_get import write_big

from desktop_app.client.credentials import store_key
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import load_settings, save_settings
from desktop_app.client.transfers import DownloadSpec, Job, JobState, Spec, UploadSpec
from desktop_app.gui import build_main_window
from desktop_app.gui.app import AppSession
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.transfer_session import TransferSession
from desktop_app.gui.worker import ONLINE

pytestmark = [pytest.mark.benchmark, pytest.mark.slow]

STALL_TARGET_S = 0.050
THROUGHPUT_TARGET = 0.9  # of the CLI's, for the same data (the command as a user runs it)
# Of the CLI's command alone, without starting Python: a guard against the window's own
# machinery getting slower. Not 90%: the window's download measures 83-99% of the
# command's when this benchmark runs alone, but 77-95% after the sync benchmark has run in
# the same process (as in the suite), and the cause is not found. It is not CPU (the
# window's process spends no more CPU time on a download than the CLI's) nor the GUI
# thread (under 2% of a core, profiled); the same download function, called in a plain
# Python process that has run a while, also measured slower than in new processes.
COMMAND_TARGET = 0.6
ROUNDS = 2  # even: each side goes first as often (the first after uploads is slower)
# Downloads take a second or so, as long as the noise of these machines: more turns, each
# fetching one of the versions the upload turns made (the cache emptied every time).
DOWNLOAD_ROUNDS = 6
IDLE_MS = 1500
TRANSFER_TIMEOUT_MS = 120_000
PROJECT = "bench"
# ``python -m desktop_app`` with the time ``main(argv)`` took as the last line on stderr.
CLI_TIMED = [
    sys.executable,
    "-c",
    "import sys, time\n"
    "from desktop_app.cli.main import main\n"
    "start = time.perf_counter()\n"
    "status = main(sys.argv[1:])\n"
    "print(time.perf_counter() - start, file=sys.stderr)\n"
    "sys.exit(status)\n",
]

# The team server in its own process, as the HTTP benchmark starts it (a fixture: by name).
team_server = test_bench_http.server


# -- the window, logged in to the server -----------------------------------------------------
@pytest.fixture
def home(team_server: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """A fresh ``ARTIFACT_DESK_HOME`` logged in to the server, as ``artifact-desk login``
    leaves it; the CLI subprocesses inherit it."""
    url, key = team_server
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ARTIFACT_DESK_KEYRING", "file")
    for name in ("ARTIFACT_DESK_URL", "ARTIFACT_DESK_API_KEY", "ARTIFACT_DESK_CACHE_MAX"):
        monkeypatch.delenv(name, raising=False)
    paths = AppPaths.from_env().ensure()
    store_key(url, key, paths)
    settings = load_settings(paths)
    settings.backend_url = url
    save_settings(paths, settings)
    return paths


@pytest.fixture
def window(qtbot: QtBot, home: AppPaths) -> Iterator[MainWindow]:
    """The main window, online; closed at the end, and no thread of it may outlive it."""
    before = set(threading.enumerate())
    # As at the app's start: the first window of a process freezes the objects alive then
    # (gui/app.py). Earlier benchmarks in this process left theirs frozen (the sync
    # benchmark's 100,000 versions); this window starts from what it alone holds.
    gc.unfreeze()
    gc.collect()
    window = build_main_window()
    try:
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.status.state == ONLINE, timeout=10_000)
        yield window
    finally:
        window.close()
    # A QThread that ran Python code shows up as a dummy thread; closing the window has
    # stopped its QThreads, and dummy threads cannot be joined.
    new = [
        t
        for t in threading.enumerate()
        if t not in before and not isinstance(t, threading._DummyThread)
    ]
    for thread in new:
        thread.join(timeout=10)
    leftover = [t for t in new if t.is_alive()]
    assert not leftover, f"threads left behind by the window: {leftover}"
    running = [t for t in window.findChildren(QThread) if t.isRunning()]
    assert not running, f"QThreads still running after the window closed: {running}"


class FinishWatch(QObject):
    """Notes, in the GUI thread, when each job the window hears about finishes."""

    job_finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.finished: list[tuple[Job, float]] = []

    @Slot(object)
    def on_job_changed(self, job: Job) -> None:
        if job.state.finished:
            self.finished.append((job, time.perf_counter()))
            self.job_finished.emit()

    def first(self, spec: Spec) -> tuple[Job, float] | None:
        """The job for ``spec`` and when it finished, once it has."""
        return next(((j, t) for j, t in self.finished if j.spec == spec), None)


class Bench:
    """The four transfers of one round, each timed from a clean start.

    Before each one the disk is synced: the server's copy of the previous upload would
    otherwise be written back during the next transfer and slow whichever side came next.
    """

    def __init__(self, qtbot: QtBot, window: MainWindow, home: AppPaths, work: Path) -> None:
        session = window.findChild(TransferSession)
        app_session = window.findChild(AppSession)
        assert session is not None
        assert app_session is not None
        self.qtbot, self.session, self.mirror = qtbot, session, app_session.mirror
        self.home, self.work = home, work
        self.source = work / "src" / "weights.bin"
        write_big(self.source)
        self.size = self.source.stat().st_size
        self.tags: dict[str, bytes] = {}  # artifact name: the stamp its content carries
        self.watch = FinishWatch()
        session.service.job_changed.connect(self.watch.on_job_changed)
        self.gui_up: list[tuple[float, list[float]]] = []
        self.gui_down: list[tuple[float, list[float]]] = []
        self.cli_up: list[tuple[float, float]] = []
        self.cli_down: list[tuple[float, float]] = []

    def close(self) -> None:
        self.session.service.job_changed.disconnect(self.watch.on_job_changed)
        self.source.unlink()

    # -- uploads -------------------------------------------------------------------------
    def upload_gui(self, name: str) -> None:
        self._stamp(name)
        spec = UploadSpec((str(self.source),), PROJECT, name, "model")
        self.gui_up.append(self._through_window(spec, lambda: self.session.actions.upload(spec)))

    def upload_cli(self, name: str) -> None:
        self._stamp(name)
        self.cli_up.append(
            self.cli("put", str(self.source), "-n", f"{PROJECT}/{name}", "-t", "model")
        )

    def _stamp(self, name: str) -> None:
        """Give the file a content never sent before (nothing for the server to dedupe)."""
        tag = len(self.tags).to_bytes(8, "little")
        with open(self.source, "r+b") as out:
            out.seek(8)
            out.write(tag)
        self.tags[name] = tag
        os.sync()

    # -- downloads -----------------------------------------------------------------------
    def download_gui(self, name: str) -> None:
        """Download as a double click does, into a folder the (replaced) dialog names."""
        self.qtbot.waitUntil(lambda: bool(self.mirror.versions(PROJECT, name)), timeout=30_000)
        version_id = self.mirror.versions(PROJECT, name)[0].info.id
        into = self.work / f"out-{name}"
        self.session.actions.ask_folder = lambda _title, _start: into
        self._empty_content_cache()
        spec = DownloadSpec(version_id, str(into / f"{name}:v0"))
        self.gui_down.append(
            self._through_window(spec, lambda: self.session.actions.download_version(version_id))
        )
        self._check_and_remove(into, name)

    def download_cli(self, name: str) -> None:
        into = self.work / f"out-{name}"
        self._empty_content_cache()
        self.cli_down.append(self.cli("get", f"{PROJECT}/{name}:v0", "--root", str(into)))
        self._check_and_remove(into, name)

    def _empty_content_cache(self) -> None:
        """Nothing for a download to take from the cache; and the disk synced."""
        with Client(paths=self.home) as client:
            client.content_cache.evict(0)
            assert client.content_cache.total_bytes() == 0
        os.sync()

    def _check_and_remove(self, folder: Path, name: str) -> None:
        (placed,) = folder.rglob("weights.bin")
        assert placed.stat().st_size == self.size
        with open(placed, "rb") as stream:
            assert stream.read(16)[8:] == self.tags[name]
        shutil.rmtree(folder)
        self._empty_content_cache()

    # -- timing --------------------------------------------------------------------------
    def _through_window(self, spec: Spec, start: Callable[[], object]) -> tuple[float, list[float]]:
        """Seconds from the request to the finished job reaching the GUI thread, and the
        gaps between the event loop's ticks meanwhile."""
        self.watch.finished.clear()  # a download of the same version again is another job
        probe = TickRecorder()
        probe.start()
        began = time.perf_counter()
        # Waits in the event loop for the job's end, without polling: a wait that checks
        # every 10 ms takes the interpreter lock from the transfer's threads 100 times a
        # second, which the CLI's process never has to give up (see the CLI's turns).
        with self.qtbot.waitSignal(self.watch.job_finished, timeout=TRANSFER_TIMEOUT_MS):
            start()
        while self.watch.first(spec) is None:  # another job finished first
            with self.qtbot.waitSignal(self.watch.job_finished, timeout=TRANSFER_TIMEOUT_MS):
                pass
        gaps = probe.stop()
        finished = self.watch.first(spec)
        assert finished is not None
        job, ended = finished
        assert job.state is JobState.DONE, job.error
        assert "(unchanged)" not in (job.result or ""), "the upload must send the bytes"
        return ended - began, gaps

    def cli(self, *args: str) -> tuple[float, float]:
        """``artifact-desk -q ARGS`` in a new process: its wall time, and the time its
        ``main(argv)`` took (the command without starting Python and importing).

        Meanwhile this process does what it does during the window's transfers: its event
        loop runs, with the stall probe ticking and the wait polling. Blocked in
        ``subprocess.run`` instead, it would leave the CLI a core the window's transfers
        never get, and the comparison would measure the probe, not the window."""
        probe = TickRecorder()
        probe.start()
        began = time.perf_counter()
        with subprocess.Popen(
            [*CLI_TIMED, "-q", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            self.qtbot.waitUntil(lambda: process.poll() is not None, timeout=TRANSFER_TIMEOUT_MS)
            wall = time.perf_counter() - began
            _out, err = process.communicate()
        probe.stop()
        if process.returncode != 0:
            raise AssertionError(f"artifact-desk {' '.join(args)} failed: {err}")
        return wall, float(err.splitlines()[-1])


# -- the benchmark ---------------------------------------------------------------------------
def test_gui_transfers_keep_the_window_responsive_and_match_the_cli(
    qtbot: QtBot,
    window: MainWindow,
    home: AppPaths,
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    # Baseline: the same window, online and idle.
    probe = TickRecorder()
    probe.start()
    qtbot.wait(IDLE_MS)
    idle_gaps = probe.stop()

    bench = Bench(qtbot, window, home, tmp_path)
    for round_ in range(DOWNLOAD_ROUNDS):
        gui, cli = f"gui-{round_ % ROUNDS}", f"cli-{round_ % ROUNDS}"
        # Who goes first takes turns too, so neither side always follows the other.
        pairs = [[(bench.download_gui, gui), (bench.download_cli, cli)]]
        if round_ < ROUNDS:
            pairs.insert(0, [(bench.upload_gui, gui), (bench.upload_cli, cli)])
        for pair in pairs:
            for step, name in pair if round_ % 2 == 0 else reversed(pair):
                step(name)
    bench.close()

    interval = TICK_MS / 1000
    idle_stall = stall(idle_gaps, interval)
    gib = bench.size / (1 << 30)
    report(
        "\n1 GiB through the window vs the CLI, team server over loopback "
        f"(best of {ROUNDS} uploads and {DOWNLOAD_ROUNDS} downloads each)"
    )
    report(
        f"  event loop idle: max stall {idle_stall * 1000:.1f} ms, "
        f"p99 gap {p99(idle_gaps) * 1000:.1f} ms (baseline); ticks of {TICK_MS} ms"
    )
    stalls: dict[str, float] = {}
    ratios: dict[str, float] = {}  # against the CLI's command alone
    walls: dict[str, float] = {}  # against the CLI as a user runs it
    for label, gui_runs, cli_runs in (
        ("upload", bench.gui_up, bench.cli_up),
        ("download", bench.gui_down, bench.cli_down),
    ):
        run_stalls = [stall(gaps, interval) for _, gaps in gui_runs]
        best_gaps = min((gaps for _, gaps in gui_runs), key=lambda g: stall(g, interval))
        stalls[label] = min(run_stalls)
        report(
            f"  event loop during the {label}: max stall "
            + " / ".join(f"{s * 1000:.1f} ms" for s in run_stalls)
            + f"; best {stalls[label] * 1000:.1f} ms = "
            f"{stalls[label] / max(idle_stall, 1e-3):.1f} x idle, "
            f"p99 gap {p99(best_gaps) * 1000:.1f} ms; target < {STALL_TARGET_S * 1000:.0f} ms"
        )
        gui_s = min(seconds for seconds, _ in gui_runs)
        wall_s = min(wall for wall, _ in cli_runs)
        cli_s = min(main for _, main in cli_runs)
        start_s = min(wall - main for wall, main in cli_runs)
        ratios[label] = cli_s / gui_s
        walls[label] = wall_s / gui_s
        report(
            f"  {label}: window "
            + " / ".join(f"{s:.2f}" for s, _ in gui_runs)
            + " s; CLI "
            + " / ".join(f"{main:.2f}" for _, main in cli_runs)
            + f" s (+{start_s:.2f} s to start Python); "
            f"best {gib / gui_s * 1024:.0f} vs {gib / cli_s * 1024:.0f} MiB/s: "
            f"the window reaches {walls[label]:.0%} of the CLI's throughput "
            f"(target >= {THROUGHPUT_TARGET:.0%}), {ratios[label]:.0%} of its command's "
            f"alone (guard >= {COMMAND_TARGET:.0%})"
        )

    assert stalls["upload"] < STALL_TARGET_S
    assert stalls["download"] < STALL_TARGET_S
    for label in ("upload", "download"):
        assert walls[label] >= THROUGHPUT_TARGET, label
        assert ratios[label] >= COMMAND_TARGET, label
