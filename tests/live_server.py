"""A real Artifact Desk server on a loopback socket, for tests in any folder.

``tests/`` is on ``sys.path`` (it holds a conftest), so test modules import this by name.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LiveServer:
    """A server running in this process on 127.0.0.1, with an owner key."""

    url: str
    key: str
    data_dir: Path
    app: object

    def create_key(self, name: str, grants: list[tuple[str, str]] | None = None) -> str:
        key, _info = self.app.state.keys.create(name, grants or [])  # type: ignore[attr-defined]
        return str(key)


@contextlib.contextmanager
def run_live_server(
    data_dir: Path, db_url: str | None = None, *, port: int = 0, key: str | None = None
) -> Iterator[LiveServer]:
    """uvicorn serving ``create_app`` in a thread, over a real socket; stopped on exit.

    ``port`` and ``key`` let a test start the same server again (same folder, same port,
    the owner key it already has) after stopping it.
    """
    import uvicorn

    from desktop_app.server.app import create_app
    from desktop_app.server.config import ServerConfig

    app = create_app(ServerConfig(data_dir=data_dir, db_url=db_url))
    if key is None:
        key, _info = app.state.keys.create("test-owner")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))  # bound before the server starts: no race for the port
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", key, data_dir, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
