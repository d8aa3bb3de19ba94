"""Refresh the translation sources and compile them.

Every user-visible string goes through ``desktop_app.gui.i18n.tr``; this finds each
``tr("…")`` literal in ``desktop_app/gui``, adds new ones to every
``resources/translations/artifact_desk_<code>.ts`` (untranslated until someone fills them
in, e.g. with Qt Linguist), keeps the translations already there, and compiles the .qm
files the app loads with ``pyside6-lrelease``. Run it with the project's Python:
``python packaging/update_translations.py``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUI = ROOT / "desktop_app" / "gui"
TRANSLATIONS = ROOT / "resources" / "translations"
CONTEXT = "ArtifactDesk"


def source_strings() -> list[str]:
    found: dict[str, None] = {}
    for path in sorted(GUI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tr"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = None
    return list(found)


def update(ts_file: Path, strings: list[str]) -> None:
    tree = ET.parse(ts_file)
    context = tree.getroot().find("context")
    assert context is not None, f"{ts_file} has no <context>"
    known = {m.findtext("source"): m for m in context.findall("message")}
    for text in strings:
        if text not in known:
            message = ET.SubElement(context, "message")
            ET.SubElement(message, "source").text = text
            ET.SubElement(message, "translation", type="unfinished")
    ET.indent(tree)
    tree.write(ts_file, encoding="utf-8", xml_declaration=True)


def main() -> int:
    strings = source_strings()
    lrelease = shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent))
    if lrelease is None:
        print("pyside6-lrelease not found beside this Python; install PySide6-Essentials")
        return 1
    for ts_file in sorted(TRANSLATIONS.glob("artifact_desk_*.ts")):
        update(ts_file, strings)
        subprocess.run([lrelease, str(ts_file), "-qm", str(ts_file.with_suffix(".qm"))], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
