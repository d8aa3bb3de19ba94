"""The process-wide pieces a W&B-style API needs: the client and the current run."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from desktop_app.client.session import Client

if TYPE_CHECKING:
    from desktop_app.sdk.runs import Run

_lock = threading.Lock()
_clients: dict[tuple[str | None, str | None], Client] = {}
current_run: Run | None = None


def get_client() -> Client:
    """One client per configuration (``ARTIFACT_DESK_HOME`` and server URL) per process."""
    key = (os.environ.get("ARTIFACT_DESK_HOME"), os.environ.get("ARTIFACT_DESK_URL"))
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = Client()
        return client


def close_clients() -> None:
    """Close every client (tests and interpreter shutdown)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def say(message: str) -> None:
    """Tell the user something, the way W&B prints its ``wandb:`` lines."""
    print(f"artifact-desk: {message}", file=sys.stderr)
