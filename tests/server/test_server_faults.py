"""A real server killed mid-upload, and connections cut mid-transfer.

a. ``artifact-desk serve`` gets SIGKILL while a large blob is in flight and another client
   commits small versions. After a restart on the same data every version whose commit was
   acknowledged is intact (resolved, every blob downloaded and compared), and the
   interrupted upload resumes from the server's offset to a byte-exact, committable blob.
b. A TCP proxy between ``HttpBackend`` and the server cuts one connection after N bytes:
   uploads resume from the server's offset, downloads resume with ``Range``; both end
   byte-exact.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from server_process import ServerPool, ServerProcess, log_files, make_manifest, server_pool

from desktop_app.backends.http import HttpBackend, RetryPolicy, Timeouts
from desktop_app.client.progress import Throttle
from desktop_app.client.upload import send_blob, upload_version
from desktop_app.core.digests import md5_b64
from desktop_app.core.errors import BackendUnavailableError, OffsetMismatchError
from desktop_app.core.records import VersionInfo, VersionState
from desktop_app.core.refs import ArtifactRef

pytestmark = pytest.mark.slow

PROJECT = "team/faults"
MIB = 1 << 20
CHUNK = MIB
NO_RETRY = RetryPolicy(attempts=1)
QUICK_RETRY = RetryPolicy(attempts=5, base_delay=0.05, max_delay=0.5)


def pattern(size: int, seed: int) -> bytes:
    """``size`` reproducible, incompressible bytes."""
    return random.Random(seed).randbytes(size)


def chunks_of(data: bytes, start: int = 0, size: int = CHUNK) -> Iterator[bytes]:
    view = memoryview(data)
    for position in range(start, len(data), size):
        yield view[position : position + size]


def md5_of_blob(backend: HttpBackend, project: str, digest: str) -> tuple[str, int]:
    """``(base64 MD5, size)`` of the blob as the server sends it."""
    hasher = hashlib.md5()
    size = 0
    for chunk in backend.read_blob(project, digest):
        hasher.update(chunk)
        size += len(chunk)
    return base64.b64encode(hasher.digest()).decode(), size


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerPool]:
    with server_pool(tmp_path) as pool:
        yield pool


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def settled_offset(backend: HttpBackend, digest: str, timeout: float = 15) -> int:
    """The upload offset once the server has stored what it got of a cut upload.

    After a cut the server may still be writing the last bytes it received; a resume sent
    meanwhile gets 409 ``offset_mismatch``. A client would retry; here we wait instead.
    """
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        offset = backend.upload_offset(PROJECT, digest)
        if offset == last and offset > 0:
            return offset
        if time.monotonic() > deadline:
            raise AssertionError(f"the offset of {digest} did not settle (last {offset})")
        last = offset
        time.sleep(0.2)


# -- a. SIGKILL mid-upload -------------------------------------------------------------------
BIG_SIZE = 96 * MIB
KILL_AFTER = 24 * MIB  # the big upload pauses here until the server is dead


class SmallCommitter(threading.Thread):
    """Commits small versions until stopped or the server dies; keeps what was acknowledged."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(name="small-committer", daemon=True)
        self.backend = HttpBackend(url, key, retry=NO_RETRY)
        self.acknowledged: list[tuple[VersionInfo, dict[str, bytes]]] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            i = 0
            while not self.stop.is_set():
                files = {
                    "table.csv": f"row,{i}\n".encode() * (i + 1),
                    f"shard-{i}.bin": pattern(300 * 1024 + i, seed=1000 + i),  # single PUT
                }
                if i % 2:  # odd versions send their blobs in one batch instead
                    draft = self.backend.create_draft(
                        PROJECT, "small-things", "dataset", make_manifest(files)
                    )
                    by_digest = {md5_b64(d): d for d in files.values()}
                    self.backend.upload_blobs(
                        PROJECT, [(dg, by_digest[dg]) for dg in draft.missing]
                    )
                    version = self.backend.commit(draft.version.id)
                else:
                    version = log_files(self.backend, PROJECT, "small-things", files)
                self.acknowledged.append((version, files))
                i += 1
        except BaseException as exc:  # the kill ends this thread: expected afterwards
            self.error = exc
        finally:
            self.backend.close()


def test_sigkill_mid_upload_keeps_acknowledged_versions_and_resumes(
    servers: ServerPool,
) -> None:
    server, key = servers.start(workers=1)
    big = pattern(BIG_SIZE, seed=7)
    big_digest = md5_b64(big)
    small_file = b"config: 1\n"
    files = {"model.bin": big, "config.yaml": small_file}

    uploader = HttpBackend(server.url, key, retry=NO_RETRY)
    observer = HttpBackend(server.url, key, retry=NO_RETRY)
    committer = SmallCommitter(server.url, key)
    paused = threading.Event()
    killed = threading.Event()
    upload_error: list[BaseException] = []

    def big_chunks() -> Iterator[bytes]:
        for position, chunk in zip(range(0, BIG_SIZE, CHUNK), chunks_of(big), strict=True):
            if position >= KILL_AFTER and not paused.is_set():
                paused.set()
                killed.wait(60)
            yield chunk

    def upload_big() -> None:
        try:
            uploader.upload_blob(PROJECT, big_digest, BIG_SIZE, big_chunks())
        except BaseException as exc:
            upload_error.append(exc)

    try:
        draft = uploader.create_draft(PROJECT, "big-model", "model", make_manifest(files))
        assert set(draft.missing) == {big_digest, md5_b64(small_file)}
        uploader.upload_blob(PROJECT, md5_b64(small_file), len(small_file), [small_file])

        committer.start()
        wait_for(lambda: len(committer.acknowledged) >= 3, 60, "small commits before the kill")
        upload_thread = threading.Thread(target=upload_big, name="big-upload", daemon=True)
        upload_thread.start()
        wait_for(paused.is_set, 60, "the big upload to reach its pause")
        # The server has written (not just received) this much: the offset the API reports.
        wait_for(
            lambda: observer.upload_offset(PROJECT, big_digest) >= KILL_AFTER - 4 * MIB,
            30,
            "the server to write the first part of the big blob",
        )
        offset_before_kill = observer.upload_offset(PROJECT, big_digest)
        wait_for(lambda: len(committer.acknowledged) >= 6, 60, "more small commits")

        server.kill()  # SIGKILL, mid-upload and probably mid-commit
        killed.set()
        committer.stop.set()
        upload_thread.join(60)
        committer.join(60)
        assert not upload_thread.is_alive()
        assert not committer.is_alive()
        assert len(upload_error) == 1, "the big upload did not notice the kill"
        assert isinstance(upload_error[0], BackendUnavailableError), repr(upload_error[0])
        acknowledged = list(committer.acknowledged)
        assert len(acknowledged) >= 6

        server.start()  # same data folder, same port
        with HttpBackend(server.url, key, retry=QUICK_RETRY) as backend:
            _check_acknowledged(backend, acknowledged)
            _resume_big_upload(backend, draft.version.id, big, offset_before_kill)
        assert server.server_errors() == []
    finally:
        killed.set()
        committer.stop.set()
        committer.backend.close()
        uploader.close()
        observer.close()


def _check_acknowledged(
    backend: HttpBackend, acknowledged: list[tuple[VersionInfo, dict[str, bytes]]]
) -> None:
    indices = [version.index for version, _files in acknowledged]
    assert indices == list(range(len(indices)))
    listed = backend.list_versions(PROJECT, "small-things")
    # A commit in flight at the kill may have landed without its answer: at most one more.
    assert [v.index for v in listed] in (
        list(range(len(indices))),
        list(range(len(indices) + 1)),
    )
    for version, files in acknowledged:
        found = backend.resolve(ArtifactRef(PROJECT, "small-things", f"v{version.index}"))
        assert (found.id, found.digest, found.state) == (
            version.id,
            version.digest,
            VersionState.COMMITTED,
        )
        manifest = backend.get_manifest(version.id)
        assert {e.path: (e.digest, e.size) for e in manifest} == {
            path: (md5_b64(data), len(data)) for path, data in files.items()
        }
        for data in files.values():
            assert md5_of_blob(backend, PROJECT, md5_b64(data)) == (md5_b64(data), len(data))
    latest = backend.resolve(ArtifactRef(PROJECT, "small-things"))
    assert latest.index == listed[-1].index


def _resume_big_upload(
    backend: HttpBackend, draft_id: str, big: bytes, offset_before_kill: int
) -> None:
    digest = md5_b64(big)
    offset = backend.upload_offset(PROJECT, digest)
    print(f"big upload: offset {offset_before_kill} before the kill, {offset} after restart")
    # SIGKILL does not lose written bytes (they are in the page cache, not in the process).
    assert offset_before_kill <= offset < len(big), (offset_before_kill, offset)
    assert offset > 0
    backend.upload_blob(PROJECT, digest, len(big), chunks_of(big, offset), offset=offset)
    assert backend.upload_offset(PROJECT, digest) == 0  # complete: no partial upload left
    draft = backend.get_version(draft_id)
    assert draft.state is VersionState.PENDING  # the draft outlived the kill
    version = backend.commit(draft_id)
    assert (version.state, version.index) == (VersionState.COMMITTED, 0)
    assert backend.resolve(ArtifactRef(PROJECT, "big-model")).id == draft_id
    assert md5_of_blob(backend, PROJECT, digest) == (digest, len(big))


# -- b. a connection cut mid-transfer --------------------------------------------------------
class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that cuts ONE connection after ``cut_after`` bytes.

    ``direction`` is ``"up"`` (client to server: an upload) or ``"down"`` (server to
    client: a download). The first connection to pass ``cut_after`` bytes that way is cut
    (both sides reset); every later byte passes through untouched.
    """

    def __init__(self, target_port: int, cut_after: int, direction: str) -> None:
        assert direction in ("up", "down")
        self.target = ("127.0.0.1", target_port)
        self.cut_after = cut_after
        self.direction = direction
        self.cuts = 0
        self.connections = 0
        self._armed = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._accepter = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._accepter.join(10)
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(10)
        for sock in sockets:
            sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            client.settimeout(None)  # blocking: close() wakes the pumps with shutdown()
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
                pair = {"sent": 0, "cut": False, "done": 0}
                for src, dst, way in ((client, server, "up"), (server, client, "down")):
                    thread = threading.Thread(
                        target=self._pump, args=(src, dst, way, pair), daemon=True
                    )
                    self._threads.append(thread)
                    thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, way: str, pair: dict) -> None:
        try:
            self._forward(src, dst, way, pair)
        finally:
            with self._lock:
                pair["done"] += 1
                close_now = pair["done"] == 2 and pair["cut"]
            if close_now:  # both pumps are out: closing (with linger 0) sends the RST
                src.close()
                dst.close()

    def _forward(self, src: socket.socket, dst: socket.socket, way: str, pair: dict) -> None:
        while not self._stop.is_set() and not pair["cut"]:
            try:
                data = src.recv(256 * 1024)
            except OSError:
                break
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)  # pass the half-close on
                return
            if way == self.direction:
                with self._lock:
                    left = self.cut_after - pair["sent"]
                    cut = self._armed and len(data) >= left
                    if cut:
                        self._armed = False
                        self.cuts += 1
                        pair["cut"] = True
                    pair["sent"] += len(data)
                if cut:
                    with contextlib.suppress(OSError):
                        dst.sendall(data[:left])
                    self._cut(src, dst)
                    return
            try:
                dst.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _cut(src: socket.socket, dst: socket.socket) -> None:
        """Reset both sides, as a dropped link or a restarting middlebox would."""
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other pump


CUT_SIZE = 32 * MIB
CUT_AFTER = 10 * MIB + 12345


@pytest.fixture
def cut_server(servers: ServerPool) -> tuple[ServerProcess, str]:
    return servers.start(workers=1)


def test_upload_through_a_cut_connection_resumes_from_the_server_offset(
    cut_server: tuple[ServerProcess, str],
) -> None:
    server, key = cut_server
    data = pattern(CUT_SIZE, seed=11)
    digest = md5_b64(data)
    with (
        CuttingProxy(server.port, CUT_AFTER, "up") as proxy,
        HttpBackend(proxy.url, key, retry=QUICK_RETRY, timeouts=Timeouts(read=30)) as backend,
    ):
        draft = backend.create_draft(PROJECT, "cut-upload", "dataset", make_manifest({"f": data}))
        assert list(draft.missing) == [digest]

        # HttpBackend.upload_blob does NOT resume by itself: a cut after the first byte
        # left raises, and the caller resumes from the server's offset.
        with pytest.raises(BackendUnavailableError):
            backend.upload_blob(PROJECT, digest, CUT_SIZE, chunks_of(data))
        assert proxy.cuts == 1

        attempts = 0
        offsets = []
        while True:  # the resume loop a caller runs (what send_blob does, plus the retry)
            attempts += 1
            assert attempts <= 10, offsets
            offset = backend.upload_offset(PROJECT, digest)
            offsets.append(offset)
            try:
                backend.upload_blob(
                    PROJECT, digest, CUT_SIZE, chunks_of(data, offset), offset=offset
                )
                resumed_from = offset
                break
            except OffsetMismatchError as exc:  # the server was still storing the cut part
                offsets.append(exc.expected)
        assert 0 < resumed_from <= CUT_AFTER
        print(f"cut upload: offsets seen {offsets}, {attempts} attempt(s) to finish")
        assert backend.upload_offset(PROJECT, digest) == 0
        version = backend.commit(draft.version.id)
        assert version.state is VersionState.COMMITTED
        assert md5_of_blob(backend, PROJECT, digest) == (digest, CUT_SIZE)
        assert proxy.cuts == 1
    assert server.server_errors() == []


def test_upload_version_through_a_cut_connection_resumes_by_itself(
    cut_server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    """``upload_version`` survives the cut: it asks for the server's offset and goes on."""
    server, key = cut_server
    data = pattern(CUT_SIZE, seed=12)
    digest = md5_b64(data)
    source = tmp_path / "model.bin"
    source.write_bytes(data)
    manifest = make_manifest({"model.bin": data})
    with (
        CuttingProxy(server.port, CUT_AFTER, "up") as proxy,
        HttpBackend(proxy.url, key, retry=QUICK_RETRY, timeouts=Timeouts(read=30)) as backend,
    ):
        result = upload_version(
            backend, PROJECT, "cut-version", "model", manifest, {digest: source}
        )
        assert proxy.cuts == 1
        assert (result.version.index, result.unchanged) == (0, False)
        assert md5_of_blob(backend, PROJECT, digest) == (digest, CUT_SIZE)
    assert server.server_errors() == []


def test_send_blob_resumes_after_a_cut_and_counts_each_byte_once(
    cut_server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    """``send_blob`` resumes from the server's offset; progress ends at exactly the size."""
    server, key = cut_server
    data = pattern(4 * MIB, seed=13)
    digest = md5_b64(data)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    with (
        CuttingProxy(server.port, MIB + 7, "up") as proxy,
        HttpBackend(proxy.url, key, retry=QUICK_RETRY) as backend,
    ):
        backend.create_draft(PROJECT, "send-blob", "dataset", make_manifest({"b": data}))
        throttle = Throttle(None, len(data))
        send_blob(backend, PROJECT, digest, len(data), source, throttle, None)
        assert throttle.done == len(data)
        assert md5_of_blob(backend, PROJECT, digest) == (digest, len(data))
        assert proxy.cuts == 1
    assert server.server_errors() == []


def test_upload_whose_answer_is_cut_can_be_sent_again(
    cut_server: tuple[ServerProcess, str],
) -> None:
    """The server stored the whole blob but the answer was lost: the offset then reads 0
    (as for a blob never sent), so the client sends it all again; that must still work."""
    server, key = cut_server
    data = pattern(8 * MIB, seed=15)
    digest = md5_b64(data)
    with HttpBackend(server.url, key) as direct:
        draft = direct.create_draft(PROJECT, "lost-answer", "dataset", make_manifest({"f": data}))
        with (
            CuttingProxy(server.port, 1, "down") as proxy,
            HttpBackend(proxy.url, key, retry=QUICK_RETRY) as backend,
        ):
            with pytest.raises(BackendUnavailableError):
                backend.upload_blob(PROJECT, digest, len(data), chunks_of(data))
            assert proxy.cuts == 1
            assert backend.upload_offset(PROJECT, digest) == 0
            backend.upload_blob(PROJECT, digest, len(data), chunks_of(data))
        assert direct.commit(draft.version.id).index == 0
        assert md5_of_blob(direct, PROJECT, digest) == (digest, len(data))
    assert server.server_errors() == []


def test_download_through_a_cut_connection_resumes_with_range(
    cut_server: tuple[ServerProcess, str],
) -> None:
    server, key = cut_server
    data = pattern(CUT_SIZE, seed=14)
    digest = md5_b64(data)
    with HttpBackend(server.url, key) as direct:
        log_files(direct, PROJECT, "cut-download", {"f": data})
    with (
        CuttingProxy(server.port, CUT_AFTER, "down") as proxy,
        HttpBackend(proxy.url, key, retry=QUICK_RETRY, timeouts=Timeouts(read=30)) as backend,
    ):
        received = b"".join(backend.read_blob(PROJECT, digest, chunk_size=256 * 1024))
        assert proxy.cuts == 1
        assert proxy.connections >= 2  # the resumed read came on a new connection
    assert len(received) == CUT_SIZE
    assert received == data
    assert server.server_errors() == []
