"""Guards the PySide6 pin: 6.12.0 on Python 3.11 drops a reference to None on every Qt call
that returns nothing, and the process dies with ``Fatal Python error: none_dealloc`` after a
few thousand calls. An upgrade that brings the bug back must fail here, not in a session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import PySide6

ROOT = Path(__file__).resolve().parents[2]

CALLS = 50_000

SCRIPT = f"""
import sys
from PySide6.QtWidgets import QApplication, QLabel
from PySide6.QtCore import QObject
app = QApplication([])
label = QLabel()
obj = QObject()
refs_before = sys.getrefcount(None)
for i in range({CALLS} // 2):
    label.setText("x")          # returns None
    obj.setObjectName("o")      # returns None
print("ok", sys.getrefcount(None) - refs_before)
"""


def test_fifty_thousand_calls_returning_none_do_not_crash() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    status, leaked = result.stdout.split()
    assert status == "ok"
    # A correct binding keeps None's reference count steady; the broken one loses one per call.
    assert abs(int(leaked)) < 1000


def test_installed_pyside6_is_the_pinned_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in dependencies if d.startswith("PySide6-Essentials"))
    assert pin.startswith("PySide6-Essentials=="), "PySide6 must stay pinned to a checked version"
    assert PySide6.__version__ == pin.split("==")[1]
