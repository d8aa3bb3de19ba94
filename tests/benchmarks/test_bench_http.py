"""Speed through the team server over loopback, against curl and cp -r in the same run.

The server runs as its own process (as in production). Baselines: curl uploading the same
1 GiB file to the same blob endpoint and downloading it back; cp -r of the 10,000 files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from test_bench_put_get import SMALL_FILES, SMALL_SIZE, backdate, timed, write_big, write_small

from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import load_settings
from desktop_app.client.upload import UploadResult
from desktop_app.core.digests import hex_to_b64
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo

pytestmark = [pytest.mark.benchmark, pytest.mark.slow]
API = "/api/v1"
ROUNDS = 2  # turns curl and our client take on the 1 GiB file; the best of each counts
# Turns cp -r and our put take on the 10,000 small files: each takes about a second, and
# cp -r of them has ranged from 0.3 s to 6 s on these machines, all in kernel time.
SMALL_ROUNDS = 7
DOWNLOAD_ROUNDS = 4  # turns curl and our get take on the 1 GiB download


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(url, owner key)`` of ``artifact-desk serve`` in a subprocess."""
    data = tmp_path / "srv"
    cli = [sys.executable, "-m", "desktop_app"]
    key = subprocess.run(
        [*cli, "server", "create-key", "--data", str(data), "--name", "bench"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*cli, "serve", "--data", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}{API}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(tmp_path, ignore_errors=True)


def curl(*args: str) -> None:
    """curl writing the answer to a file (``--output``) or discarding it, like our client."""
    output = [] if "--output" in args else ["-o", os.devnull]
    subprocess.run(["curl", "-sS", "-f", *output, *args], check=True)


def test_http_transfers_against_curl_and_cp(
    server: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    report: Callable[[str], None],
) -> None:
    url, key = server
    auth = f"Authorization: Bearer {key}"
    monkeypatch.setenv("ARTIFACT_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ARTIFACT_DESK_URL", url)
    monkeypatch.setenv("ARTIFACT_DESK_API_KEY", key)
    big_dir, small_dir = tmp_path / "big", tmp_path / "small"
    write_big(big_dir / "weights.bin")
    write_small(small_dir)
    backdate(big_dir)
    backdate(small_dir)
    big = big_dir / "weights.bin"
    size = big.stat().st_size
    hasher = hashlib.md5()
    start = time.perf_counter()
    with open(big, "rb") as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    hex_digest = hasher.hexdigest()
    md5_s = time.perf_counter() - start  # a verified get cannot take less than this

    # The machines are noisy: curl and our client take turns, ROUNDS times; the best of each
    # counts, and who goes first alternates: on these virtual machines a transfer right
    # after a GiB was written and deleted runs up to three times slower than the next one.
    # Each round uses fresh projects, so every upload really sends the bytes, and the
    # content cache is emptied before each get.
    paths = AppPaths.from_env()
    client = Client(paths=paths, settings=load_settings(paths))
    curl_up, curl_down, send_big, put_big, get_big = [], [], [], [], []
    versions: list[VersionInfo] = []  # of the big file, one put each round
    for round_ in range(ROUNDS):
        base = f"baseline-{round_}"
        blob_url = f"{url}{API}/projects/{base}/blobs/{hex_digest}"
        client.backend.create_run(base)  # the project must exist to upload into it

        def curl_upload(blob_url: str = blob_url, base: str = base) -> None:
            curl_up.append(
                timed(
                    lambda: curl(
                        "-T", str(big), "-H", auth, "-H", "Expect:", f"{blob_url}?size={size}"
                    )
                )[0]
            )
            manifest = Manifest([ManifestEntry("weights.bin", hex_to_b64(hex_digest), size)])
            client.backend.commit(
                client.backend.create_draft(base, "blob", "model", manifest).version.id
            )

        def put(round_: int = round_) -> None:
            hashed: list[float] = []
            start = time.perf_counter()
            up = client.put(
                big_dir,
                f"bench-{round_}",
                "big",
                "model",
                on_hash_progress=lambda d, t: d == t and hashed.append(time.perf_counter()),
            )
            put_big.append(time.perf_counter() - start)
            send_big.append(put_big[-1] - (hashed[-1] - start))
            versions.append(up.version)
            client.content_cache.remove(hex_to_b64(hex_digest))  # the get must fetch it
            os.sync()

        def curl_download(blob_url: str = blob_url) -> None:
            out = tmp_path / "c.bin"
            curl_down.append(timed(lambda: curl("-H", auth, "--output", str(out), blob_url))[0])
            out.unlink()
            os.sync()

        def get(round_: int = round_, version: VersionInfo | None = None) -> None:
            out_big, version = tmp_path / f"out-big-{round_}", version or versions[-1]
            get_big.append(timed(lambda: client.get(version, out_big))[0])
            problems = client.verify(version, out_big)
            shutil.rmtree(out_big)
            client.content_cache.remove(hex_to_b64(hex_digest))
            os.sync()
            assert not problems

        for pair in ([curl_upload, put], [curl_download, get]):
            for step in pair if round_ % 2 == 0 else reversed(pair):
                step()
    # Downloads take about a second, as long as this machine's noise: more turns of them,
    # fetching again the versions the rounds made, who goes first still alternating.
    for round_ in range(ROUNDS, DOWNLOAD_ROUNDS):
        steps: list[Callable[[], None]] = [
            lambda r=round_ % ROUNDS: curl_download(
                f"{url}{API}/projects/baseline-{r}/blobs/{hex_digest}"
            ),
            lambda r=round_ % ROUNDS, n=round_: get(n, versions[r]),
        ]
        for step in steps if round_ % 2 == 0 else reversed(steps):
            step()
    curl_up_s, curl_down_s = min(curl_up), min(curl_down)
    send_big_s, put_big_s, get_big_s = min(send_big), min(put_big), min(get_big)

    client.close()

    # 10,000 small files: cp -r and a first put (a new client each time, so nothing is in
    # its hash cache; a new project, so every byte is sent) take turns, best of each.
    # The copies are removed only at the end: deleting 10,000 files stalls this disk.
    # Who goes first alternates, as for the big file.
    cp_small, put_small = [], []
    ups: list[UploadResult] = []
    for round_ in range(SMALL_ROUNDS):
        copy = [str(small_dir), str(tmp_path / f"cp-{round_}")]

        def copy_small(copy: list[str] = copy) -> None:
            cp_small.append(timed(lambda: subprocess.run(["cp", "-r", *copy], check=True))[0])

        def put_small_files(round_: int = round_) -> None:
            home = {"ARTIFACT_DESK_HOME": str(tmp_path / f"home-{round_}")}
            with Client(paths=AppPaths.from_env(home), settings=load_settings(paths)) as fresh:
                seconds, result = timed(
                    lambda: fresh.put(small_dir, f"small-{round_}", "small", "dataset")
                )
            put_small.append(seconds)
            ups.append(result)

        for step in (
            (copy_small, put_small_files) if round_ % 2 == 0 else (put_small_files, copy_small)
        ):
            step()
    up_small = ups[-1]
    cp_small_s, put_small_s = min(cp_small), min(put_small)
    client = Client(paths=paths, settings=load_settings(paths))
    project = up_small.version.project
    # Unchanged again: first from a client that has to hash every file, then from one that
    # knows them all from its hash cache.
    cold_s, cold = timed(lambda: client.put(small_dir, project, "small", "dataset"))
    again_s, again = timed(lambda: client.put(small_dir, project, "small", "dataset"))
    get_small_s, _ = timed(lambda: client.get(up_small.version, tmp_path / "out-small"))
    client.close()

    small_bytes = SMALL_FILES * SMALL_SIZE
    report(
        "team server over loopback, same data, same run (best of "
        f"{ROUNDS} turns each on the 1 GiB upload, {DOWNLOAD_ROUNDS} on its download, "
        f"{SMALL_ROUNDS} on 10,000 files)"
    )
    report(
        f"  curl upload 1 GiB {curl_up_s:.2f} s, curl download {curl_down_s:.2f} s, "
        f"cp -r 10,000 files {cp_small_s:.2f} s"
    )
    report(
        f"  MD5 of the 1 GiB file (from memory) {md5_s:.2f} s, {curl_down_s / md5_s:.0%} of "
        "curl's download: the get checks the server's XXH3-128 of the blob instead"
    )
    rows = [
        ("put 1 GiB (hash + send)", put_big_s, size, f"{curl_up_s / put_big_s:.0%} of curl"),
        ("  sending part", send_big_s, size, f"{curl_up_s / send_big_s:.0%} of curl's throughput"),
        (
            "get 1 GiB (fetch, verify, place)",
            get_big_s,
            size,
            f"{curl_down_s / get_big_s:.0%} of curl",
        ),
        ("put 10,000 x 4 KiB", put_small_s, small_bytes, f"{put_small_s / cp_small_s:.2f} x cp -r"),
        (
            "put again, unchanged, hashing",
            cold_s,
            small_bytes,
            f"{cold.uploaded_bytes} blob bytes sent",
        ),
        ("put again, unchanged", again_s, small_bytes, f"{again.uploaded_bytes} blob bytes sent"),
        ("get 10,000 x 4 KiB", get_small_s, small_bytes, f"{get_small_s / cp_small_s:.2f} x cp -r"),
    ]
    for label, seconds, amount, ratio in rows:
        rate = amount / seconds / (1 << 20)
        report(f"  {label:<34} {seconds:7.2f} s  {rate:8.0f} MiB/s  {ratio}")

    assert cold.unchanged
    assert cold.uploaded_bytes == 0
    assert again.unchanged
    assert again.uploaded_bytes == 0
    assert curl_up_s / send_big_s >= 0.7, "the 1 GiB upload must reach 70% of curl"
    # The get writes the blob once, through the page cache as curl does: the cache's file
    # becomes the placed file (a hard link). Writing a second, cache-only copy past the
    # page cache gave 46-64% of curl on a day this disk was slow (100-112% the day before).
    assert curl_down_s / get_big_s >= 0.7, "the 1 GiB download must reach 70% of curl"
    # Best turns of each. The put took 0.53 s in this benchmark until it paused the
    # garbage collector (full collections of this process's heap, 78 ms each), and was
    # 2.0-2.6 x the fastest cp -r (0.26 s) seen here; it now takes about 0.41 s (1.6 x).
    assert put_small_s < 3 * cp_small_s, "10,000 small files must go up in under 3 x cp -r"
