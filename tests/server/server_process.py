"""A REAL ``artifact-desk serve`` in a subprocess: start, health-wait, keys, stop, kill, restart.

Unlike ``live_server`` (uvicorn in a thread of the test process) this runs the command line
exactly as an admin would, so tests can SIGKILL it mid-request, restart it on the same data
and port, and run it with ``--workers N``. Each server runs in its own process group, so a
kill also reaches uvicorn's worker processes. ``ServerPool`` stops every server it started,
whatever the test did.

The file name is unique in the test tree, so test modules import it by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from desktop_app.backends.protocol import Backend
from desktop_app.core.digests import md5_b64
from desktop_app.core.manifest import Manifest, ManifestEntry
from desktop_app.core.records import VersionInfo

REPO_ROOT = Path(__file__).resolve().parents[2]
HEALTH_PATH = "/api/v1/health"
# As in ``tests/backends/contract_helpers.py`` (not importable from here: another folder).
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# uvicorn's access log: ``127.0.0.1:5555 - "POST /api/v1/... HTTP/1.1" 500 Internal ...``
_ACCESS_LINE = re.compile(r'"(?P<request>[A-Z]+ \S+) HTTP/[\d.]+" (?P<status>\d{3})')


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("ARTIFACT_DESK_SERVER_DATA", None)  # only what the command line says
    env.pop("ARTIFACT_DESK_SERVER_DB", None)
    return env


class ServerProcess:
    """One ``python -m desktop_app serve`` on 127.0.0.1, logging to ``log_path``.

    ``start()`` waits until ``/api/v1/health`` answers; ``stop()`` sends SIGTERM (then
    SIGKILL if it hangs); ``kill()`` sends SIGKILL to the whole process group at once;
    ``restart()`` starts again on the same data folder, database and port.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        db_url: str | None = None,
        workers: int = 1,
        port: int | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.db_url = db_url
        self.workers = workers
        self.port = port or free_port()
        self.log_path = log_path or data_dir.with_name(f"{data_dir.name}-server.log")
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __repr__(self) -> str:
        return f"ServerProcess({self.url}, data={self.data_dir}, workers={self.workers})"

    # -- the command line ----------------------------------------------------------------
    def _data_args(self) -> list[str]:
        args = ["--data", str(self.data_dir)]
        if self.db_url:
            args += ["--db", self.db_url]
        return args

    def create_key(self, name: str = "test-owner") -> str:
        """A new owner key, made by ``artifact-desk server create-key`` (the key on stdout)."""
        done = subprocess.run(
            [
                sys.executable,
                *("-m", "desktop_app", "server", "create-key", "--name", name),
                *self._data_args(),
            ],
            cwd=REPO_ROOT,
            env=_child_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"server create-key failed with {done.returncode}: "
                f"{done.stderr.decode(errors='replace')}"
            )
        lines = done.stdout.decode().strip().splitlines()
        if not lines or not lines[-1].strip():
            raise RuntimeError(f"server create-key printed no key: {done.stdout!r}")
        return lines[-1].strip()

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        if self.running:
            raise RuntimeError(f"{self} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "desktop_app", "serve", *self._data_args()]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start #{self.starts}: {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self} exited with {self.process.returncode} before it answered; "
                    f"log:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self} did not answer within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}{HEALTH_PATH}", timeout=2) as answer:
                return answer.status == 200 and json.load(answer).get("status") == "ok"
        except (OSError, ValueError):  # URLError, refused, reset, timeout, bad JSON
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM (a graceful shutdown); SIGKILL if it takes longer than ``timeout``."""
        if self.process is None:
            return None
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(process)
        self._reap_group(process)
        self.process = None
        return process.returncode

    def kill(self) -> int | None:
        """SIGKILL the server and its workers at once, as a crash or an OOM kill would."""
        if self.process is None:
            return None
        process = self.process
        self._kill_group(process)
        self.process = None
        return process.returncode

    def restart(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Stop if needed, then start again on the same data, database and port."""
        self.stop()
        return self.start(timeout)

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the group this Popen started
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(STOP_TIMEOUT)

    @staticmethod
    def _reap_group(process: subprocess.Popen[bytes]) -> None:
        """Leftover workers of a stopped server (its group id is its pid) get SIGKILL."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    # -- the log -------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def server_errors(self) -> list[str]:
        """Access-log lines with a 5xx status, and tracebacks the server logged."""
        found = []
        for line in self.log_text().splitlines():
            match = _ACCESS_LINE.search(line)
            failed = match is not None and match.group("status").startswith("5")
            if failed or line.startswith("Traceback") or "Exception in ASGI application" in line:
                found.append(line.strip())
        return found


class ServerPool:
    """Starts servers under one folder and stops all of them on ``close()``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[ServerProcess] = []

    def start(
        self,
        name: str = "server",
        *,
        db_url: str | None = None,
        workers: int = 1,
        key_name: str = "test-owner",
    ) -> tuple[ServerProcess, str]:
        """A running server on a fresh folder and an owner key made through the CLI."""
        server = ServerProcess(self.root / name, db_url=db_url, workers=workers)
        self.servers.append(server)
        key = server.create_key(key_name)  # before start: keys can come first
        server.start()
        return server, key

    def close(self) -> None:
        errors = []
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:  # stop the others all the same
                errors.append(exc)
        self.servers.clear()
        if errors:
            raise errors[0]


@contextlib.contextmanager
def server_pool(root: Path) -> Iterator[ServerPool]:
    pool = ServerPool(root)
    try:
        yield pool
    finally:
        pool.close()


def make_manifest(files: Mapping[str, bytes]) -> Manifest:
    return Manifest([ManifestEntry(path, md5_b64(data), len(data)) for path, data in files.items()])


def log_files(
    backend: Backend,
    project: str,
    name: str,
    files: Mapping[str, bytes],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> VersionInfo:
    """Draft, upload the missing blobs one by one, commit (the contract suite's ``Logger``)."""
    draft = backend.create_draft(project, name, "dataset", make_manifest(files), metadata=metadata)
    if draft.unchanged:
        return draft.version
    by_digest = {md5_b64(data): data for data in files.values()}
    for digest in draft.missing:
        data = by_digest[digest]
        backend.upload_blob(project, digest, len(data), [data])
    return backend.commit(draft.version.id)
