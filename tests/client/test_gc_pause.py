"""The cyclic garbage collector pauses during a put and comes back as it was."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.backends.local import LocalBackend
from desktop_app.client.gc_pause import paused_gc
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


def test_a_put_runs_without_collections_and_leaves_the_collector_on(tmp_path: Path) -> None:
    """A put of many files sets off no automatic collection (each one walked the whole
    heap), and the collector works again afterwards."""
    data = tmp_path / "data"
    data.mkdir()
    for index in range(3000):  # enough allocations for several collections of each kind
        (data / f"f{index:04d}.bin").write_bytes(os.urandom(16))
    root = tmp_path / "home"
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "logs")
    collections: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    backend = LocalBackend(tmp_path / "store")
    gc.callbacks.append(note)
    try:
        with Client(paths=paths, settings=Settings(), backend=backend) as client:
            collections.clear()
            result = client.put(data, "team", "many", "dataset")
            inside = list(collections)
    finally:
        gc.callbacks.remove(note)
        backend.close()
    assert result.version.file_count == 3000
    # At most the young collection that the first allocation after the pause sets off.
    assert inside in ([], [0])
    assert gc.isenabled()
