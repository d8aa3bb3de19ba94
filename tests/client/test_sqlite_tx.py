"""Opening the client's databases from several threads at once, as the window does (its
browsing worker and its transfer queue each open the caches when it starts)."""

from __future__ import annotations

import threading
from pathlib import Path

from desktop_app.client.content_cache import ContentCache
from desktop_app.client.hash_cache import HashCache


def open_together(count: int, make: object) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            make().close()  # type: ignore[operator]
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_new_caches_open_from_several_threads_at_once(tmp_path: Path) -> None:
    for attempt in range(15):
        folder = tmp_path / str(attempt)
        assert open_together(4, lambda f=folder: HashCache(f / "hashes.sqlite3")) == []
        assert open_together(4, lambda f=folder: ContentCache(f / "blobs", 1 << 20)) == []
