"""An unchanged put is answered from the latest version, without sending the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop_app.backends.local import LocalBackend
from desktop_app.client.paths import AppPaths
from desktop_app.client.session import Client
from desktop_app.client.settings import Settings
from desktop_app.core.errors import ConflictError
from desktop_app.core.records import DraftResult


class CountingBackend(LocalBackend):
    """The embedded store, counting the drafts an upload asks for."""

    drafts = 0

    def create_draft(self, *args: Any, **kwargs: Any) -> DraftResult:
        self.drafts += 1
        return super().create_draft(*args, **kwargs)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    home = tmp_path / "home"
    paths = AppPaths(home / "config", home / "data", home / "cache", home / "logs")
    return Client(paths=paths, settings=Settings(), backend=CountingBackend(tmp_path / "store"))


def _folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    return root


def test_an_unchanged_put_needs_no_draft(client: Client, tmp_path: Path) -> None:
    data = _folder(tmp_path / "data")
    first = client.put(data, "p", "set", "dataset")
    backend = client.backend
    assert isinstance(backend, CountingBackend)
    assert backend.drafts == 1

    again = client.put(data, "p", "set", "dataset", aliases=["best"])

    assert again.unchanged
    assert again.version.id == first.version.id
    assert "best" in again.version.aliases
    assert backend.drafts == 1
    (data / "a.txt").write_text("changed")
    assert not client.put(data, "p", "set", "dataset").unchanged
    assert backend.drafts == 2
    client.close()


def test_same_content_under_another_type_still_reports_the_clash(
    client: Client, tmp_path: Path
) -> None:
    data = _folder(tmp_path / "data")
    client.put(data, "p", "set", "dataset")

    with pytest.raises(ConflictError, match="dataset"):
        client.put(data, "p", "set", "model")
    client.close()


def test_a_put_for_a_run_still_drafts_so_the_run_is_checked(client: Client, tmp_path: Path) -> None:
    data = _folder(tmp_path / "data")
    run = client.backend.create_run("p")
    client.put(data, "p", "set", "dataset", run_id=run.id)
    backend = client.backend
    assert isinstance(backend, CountingBackend)

    client.put(data, "p", "set", "dataset", run_id=run.id)

    assert backend.drafts == 2
    client.close()
