"""The cyclic garbage collector pauses during a put and comes back as it was."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.backends.local import LocalBackend
from desktop_app.client.gc_pause import PAUSE_GC_FROM_FILES, paused_gc
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_turns_it_on_again() -> None:
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_release_ends_the_pause_early_and_once() -> None:
    with paused_gc() as pause:
        with paused_gc() as inner:
            inner.release()
            inner.release()  # a second release must not end the outer pause
            assert not gc.isenabled()
        pause.release()
        assert gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_turn_it_on_when_the_last_one_ends() -> None:
    """Two transfers on two threads: the first to end must not turn it on under the other."""
    first_inside, second_inside, first_done = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    seen: list[bool] = []

    def first() -> None:
        with paused_gc():
            first_inside.set()
            second_inside.wait(5)
        first_done.set()

    def second() -> None:
        first_inside.wait(5)
        with paused_gc():
            second_inside.set()
            first_done.wait(5)
            seen.append(gc.isenabled())  # the first has ended; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_program_that_turned_it_off_keeps_it_off() -> None:
    gc.disable()
    with paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()


def _files(folder: Path, count: int) -> Path:
    folder.mkdir()
    for index in range(count):
        (folder / f"f{index:04d}.bin").write_bytes(os.urandom(16))
    return folder


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    """A client over an embedded store in ``tmp_path``."""
    root = tmp_path / "home"
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "logs")
    backend = LocalBackend(tmp_path / "store")
    try:
        with Client(paths=paths, settings=Settings(), backend=backend) as made:
            yield made
    finally:
        backend.close()


@pytest.mark.parametrize(
    ("count", "pause_gc", "paused"),
    [
        (PAUSE_GC_FROM_FILES - 1, True, False),  # few files (perhaps large, a long put)
        (PAUSE_GC_FROM_FILES, True, True),
        (PAUSE_GC_FROM_FILES, False, False),  # the window's uploads: it makes cycles
    ],
)
def test_a_put_pauses_the_collector_only_for_many_files_and_when_allowed(
    client: Client, tmp_path: Path, count: int, pause_gc: bool, paused: bool
) -> None:
    seen: set[bool] = set()
    client.put(
        _files(tmp_path / "data", count),
        "team",
        "set",
        "dataset",
        on_hash_progress=lambda *_: seen.add(gc.isenabled()),
        pause_gc=pause_gc,
    )
    assert seen == {not paused}
    assert gc.isenabled()


def test_a_window_upload_of_many_files_keeps_the_collector_running(
    client: Client, tmp_path: Path
) -> None:
    from desktop_app.client.transfer_jobs import run_upload
    from desktop_app.client.transfers import UploadSpec

    data = _files(tmp_path / "data", PAUSE_GC_FROM_FILES)
    seen: set[bool] = set()
    spec = UploadSpec(sources=(str(data),), project="team", name="many", type="d")
    run_upload(client, spec, lambda *_: seen.add(gc.isenabled()), None)
    assert seen == {True}


def test_a_put_runs_without_collections_and_leaves_the_collector_on(
    client: Client, tmp_path: Path
) -> None:
    """A put of many files sets off no automatic collection (each one walked the whole
    heap), and the collector works again afterwards."""
    data = _files(tmp_path / "data", 3000)  # enough for several collections of each kind
    seen: set[bool] = set()
    collections: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(note)
    try:
        result = client.put(
            data, "team", "many", "dataset", on_hash_progress=lambda *_: seen.add(gc.isenabled())
        )
        inside = list(collections)
    finally:
        gc.callbacks.remove(note)
    assert result.version.file_count == 3000
    assert seen == {False}
    # At most the one collection that the first allocation after the pause sets off.
    assert len(inside) <= 1
    assert gc.isenabled()


def test_a_get_of_many_files_pauses_it_and_of_a_few_or_a_part_does_not(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.client import session
    from desktop_app.client.download import download_version as real

    seen: list[bool] = []

    def noting(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(session, "download_version", noting)
    many = client.put(_files(tmp_path / "many", PAUSE_GC_FROM_FILES), "team", "m", "d")
    few = client.put(_files(tmp_path / "few", 3), "team", "f", "d")
    client.get(many.version, tmp_path / "out-many")
    client.get(few.version, tmp_path / "out-few")
    client.get(many.version, tmp_path / "out-part", path_prefix="f0001.bin")
    assert seen == [False, True, True]
    assert len(list((tmp_path / "out-many").iterdir())) == PAUSE_GC_FROM_FILES
    assert gc.isenabled()
