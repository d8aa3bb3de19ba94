"""Take the README's screenshot: a realistic workspace in the real window, grabbed to PNG.

Run under a display (for example ``xvfb-run -s "-screen 0 1600x1000x24" python
packaging/screenshot.py out.png [TAB] [transfers|dialog]``); the workspace goes in a
temporary ARTIFACT_DESK_HOME.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "gui"), str(ROOT / "tests" / "backends")]


def main(out: Path, tab: int, mode: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="artifact-desk-shot-"))
    os.environ["ARTIFACT_DESK_HOME"] = str(home)
    from gui_data import PROJECT, seed_workspace
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.backends.local import LocalBackend
    from desktop_app.client.paths import AppPaths
    from desktop_app.client.session import Client
    from desktop_app.gui import build_main_window

    paths = AppPaths.from_env().ensure()
    backend = LocalBackend(paths.store_dir)
    ws = seed_workspace(backend, raw_versions=8)
    backend.close()
    with Client(paths=paths) as client:  # something in the cache, as after a download
        client.get(ws.versions["resnet50:v1"], home / "download")
    window = build_main_window(poll_ms=500)
    window.resize(1500, 900)
    window.show()
    app = QApplication.instance()
    assert app is not None

    from desktop_app.gui.transfer_session import TransferSession

    transfers = window.findChild(TransferSession)
    assert transfers is not None
    transfers.actions.ask_folder = lambda _title, _start: home / "downloads"
    (home / "downloads").mkdir()

    def select() -> None:
        window.browse.select_artifact(PROJECT, "resnet50")
        window.browse.select_version(ws.versions["resnet50:v1"].id)
        window.detail.setCurrentIndex(tab)
        if mode == "transfers":
            window.menu_actions.download.trigger()
            window.browse.select_version(ws.versions["resnet50:v2"].id)
            window.menu_actions.download.trigger()
            window.menu_actions.show_transfers.trigger()
        if mode == "dialog":
            new = home / "checkpoint"
            new.mkdir()
            (new / "model.pt").write_bytes(b"new weights" * 5000)
            (new / "config.json").write_bytes(b'{"layers": 50}')
            transfers.start_upload([new])

    def grab() -> None:
        if tab == 1:
            window.detail.select_file("config.json")

        def save() -> None:
            screen = QApplication.primaryScreen()
            screen.grabWindow(0).copy(window.frameGeometry()).save(str(out))
            window.close()

        QTimer.singleShot(800, save)

    QTimer.singleShot(1500, select)
    QTimer.singleShot(3000, grab)
    app.exec()


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        int(sys.argv[2]) if len(sys.argv) > 2 else 0,
        sys.argv[3] if len(sys.argv) > 3 else "",
    )
