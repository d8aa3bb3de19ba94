"""``artifact-desk serve`` and ``server create-key|list-keys|revoke-key``, in-process and real."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from server_helpers import API, auth

from desktop_app.cli.main import main
from desktop_app.cli.output import Output


def run_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = main(list(argv), output=Output(stdout, stderr))
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serve_refuses_plain_http_off_loopback(tmp_path: Path, host: str) -> None:
    status, out, err = run_cli("serve", "--data", str(tmp_path / "d"), "--host", host)
    assert status == 2
    assert "--allow-plain-http" in err
    assert "--tls-cert" in err
    assert out == ""


def test_serve_wants_both_tls_files(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    status, _out, err = run_cli(
        "serve", "--data", str(tmp_path / "d"), "--host", "0.0.0.0", "--tls-cert", str(cert)
    )
    assert status == 2
    assert "--tls-key" in err


def test_create_key_prints_the_key_once_and_list_never(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    status, out, err = run_cli(
        "server",
        "create-key",
        "--data",
        data,
        "--name",
        "alice",
        "--project",
        "p",
        "--role",
        "read",
    )
    assert status == 0, err
    key = out.strip()
    assert "\n" not in key  # stdout holds the key alone, for scripts
    assert key.startswith("adk_")
    assert len(key.split("_", 2)) == 3
    secret = key.split("_", 2)[2]
    key_id = key.split("_")[1]
    assert "p: read" in err
    assert key_id in err
    assert secret not in err

    status, quiet_out, _ = run_cli("-q", "server", "create-key", "--data", data, "--name", "owner")
    assert status == 0
    owner_key = quiet_out.strip()
    assert owner_key.startswith("adk_")
    assert "\n" not in owner_key

    status, listing, _ = run_cli("server", "list-keys", "--data", data)
    assert status == 0
    assert key_id in listing
    assert "alice" in listing
    assert "p:read" in listing
    assert "owner" in listing
    for secret_part in (secret, owner_key.split("_", 2)[2]):
        assert secret_part not in listing
    assert (tmp_path / "d" / "metadata.sqlite3").exists()


def test_revoke_key_revokes_and_list_hides_it(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    _, out, _ = run_cli("-q", "server", "create-key", "--data", data, "--name", "bob")
    key_id = out.strip().split("_")[1]
    status, out, err = run_cli("server", "revoke-key", "--data", data, key_id)
    assert status == 0, err
    assert key_id in out
    assert "401" in out
    _, listing, _ = run_cli("server", "list-keys", "--data", data)
    assert key_id not in listing
    _, listing, _ = run_cli("server", "list-keys", "--data", data, "--all")
    assert key_id in listing
    assert "revoked" in listing
    status, _, err = run_cli("server", "revoke-key", "--data", data, key_id)
    assert status == 3
    assert key_id in err
    status, _, err = run_cli("server", "revoke-key", "--data", data, "nope")
    assert status == 3


def test_create_key_checks_its_arguments(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    status, _, err = run_cli(
        "server", "create-key", "--data", data, "--name", "x", "--project", "p"
    )
    assert status == 2
    assert "--role" in err
    status, _, err = run_cli(
        "server",
        "create-key",
        "--data",
        data,
        "--name",
        "x",
        "--project",
        "a/b/c",
        "--role",
        "read",
    )
    assert status == 2
    assert "'a/b/c'" in err
    status, _, err = run_cli("server", "create-key", "--data", data, "--name", "")
    assert status == 2
    assert "name" in err


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {**os.environ, "ARTIFACT_DESK_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "serve",
            "--data",
            str(tmp_path / "d"),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            if requests.get(f"{url}{API}/health", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("serve did not answer /health within 30 s")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_subprocess_answers_and_stops_on_signal(tmp_path: Path, sig: int) -> None:
    process, url = _start(tmp_path)
    try:
        health = requests.get(f"{url}{API}/health", timeout=5)
        assert health.json()["status"] == "ok"
        # a key made by the CLI works against the running server (same data folder)
        _, out, _ = run_cli(
            "-q", "server", "create-key", "--data", str(tmp_path / "d"), "--name", "o"
        )
        projects = requests.get(f"{url}{API}/projects", headers=auth(out.strip()), timeout=5)
        assert projects.status_code == 200
        assert projects.json()["items"] == []
        unauthorized = requests.get(f"{url}{API}/projects", timeout=5)
        assert unauthorized.status_code == 401
        process.send_signal(sig)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, -sig, 128 + sig, 130), (process.returncode, output)
    assert "serving" in output
    assert "/api/v1" in output
    assert "Traceback" not in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}{API}/health", timeout=2)


@pytest.mark.slow
def test_serve_with_tls_files_speaks_https_off_loopback(tmp_path: Path) -> None:
    """With --tls-cert/--tls-key, serve may listen beyond loopback, and it speaks HTTPS."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "desktop_app",
            "serve",
            "--data",
            str(tmp_path / "d"),
            "--host",
            "0.0.0.0",
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
            try:
                health = requests.get(
                    f"https://127.0.0.1:{port}{API}/health", verify=str(cert), timeout=2
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        with pytest.raises(requests.ConnectionError):  # no plain HTTP on that port
            requests.get(f"http://127.0.0.1:{port}{API}/health", timeout=2)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # the refused plain-HTTP client may hold it open
            process.kill()
            process.communicate()


def test_gc_frees_a_deleted_versions_files_while_the_server_runs(tmp_path: Path) -> None:
    from live_server import run_live_server

    from desktop_app.backends.http import HttpBackend
    from desktop_app.client.units import format_size
    from desktop_app.core.digests import md5_b64
    from desktop_app.core.manifest import Manifest, ManifestEntry

    def log(backend: HttpBackend, name: str, files: dict[str, bytes]) -> str:
        manifest = Manifest([ManifestEntry(p, md5_b64(d), len(d)) for p, d in files.items()])
        draft = backend.create_draft("team/p", name, "dataset", manifest)
        backend.upload_blobs("team/p", [(md5_b64(d), d) for d in files.values()])
        return backend.commit(draft.version.id).id

    kept = {f"k{i}.txt": f"kept {i} ".encode() * 50 for i in range(5)}
    doomed = {f"d{i}.txt": f"doomed {i} ".encode() * 50 for i in range(20)}
    data = tmp_path / "srv"
    with run_live_server(data) as server, HttpBackend(server.url, server.key) as backend:
        log(backend, "kept", kept)
        gone = log(backend, "gone", doomed)
        backend.delete_version(gone)
        assert len(list((data / "blobs" / "packs").glob("*.pack"))) == 2

        status, out, err = run_cli("server", "gc", "--data", str(data))

        assert (status, err) == (0, "")
        assert "removed 20 file(s)" in out
        assert f"freed {format_size(sum(len(d) for d in doomed.values()))}" in out
        (left,) = (data / "blobs" / "packs").glob("*.pack")  # the dead pack is gone
        assert left.stat().st_size == sum(len(d) for d in kept.values())
        for content in kept.values():
            assert b"".join(backend.read_blob("team/p", md5_b64(content))) == content


def test_a_worker_process_freezes_its_start_up_objects(tmp_path: Path) -> None:
    """A server process's app factory leaves what it built out of later collections (in a
    process of its own: frozen objects are never collected, so not in this one)."""
    script = (
        "import gc\n"
        "from desktop_app.server.app import app_from_env\n"
        "before = gc.get_freeze_count()\n"
        "app_from_env()\n"
        "print(before, gc.get_freeze_count())\n"
    )
    env = {**os.environ, "ARTIFACT_DESK_SERVER_DATA": str(tmp_path / "srv")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 10_000  # modules, FastAPI's routes, SQLAlchemy's tables
