"""The language setting: a shipped translation is loaded, used, and removed with the window."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtWidgets import QTabWidget
from windows import open_main_window

from desktop_app.client.paths import AppPaths
from desktop_app.client.settings import load_settings, save_settings
from desktop_app.gui.i18n import TRANSLATIONS_DIR, available_languages, tr

ROOT = Path(__file__).resolve().parents[2]


def test_german_is_offered_and_shown_then_removed_with_the_window() -> None:
    assert "de" in available_languages()
    paths = AppPaths.from_env().ensure()
    settings = load_settings(paths)
    settings.language = "de"
    save_settings(paths, settings)
    window = open_main_window()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&Datei", "&Ansicht", "&Hilfe"]
    tabs = window.findChild(QTabWidget, "versionDetail")
    assert [tabs.tabText(i) for i in range(tabs.count())][:2] == ["Übersicht", "Dateien"]
    window.close()
    assert tr("&File") == "&File"


def test_every_translatable_string_is_in_every_translation_source() -> None:
    """packaging/update_translations.py keeps the .ts files current; run it after adding
    strings (new ones stay untranslated until someone translates them)."""
    spec = importlib.util.spec_from_file_location(
        "update_translations", ROOT / "packaging" / "update_translations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    wanted = set(module.source_strings())
    sources = sorted(TRANSLATIONS_DIR.glob("artifact_desk_*.ts"))
    assert sources
    for ts_file in sources:
        known = {m.findtext("source") for m in ET.parse(ts_file).getroot().iter("message")}
        missing = wanted - known
        assert not missing, f"{ts_file.name} lacks {sorted(missing)[:5]}; run the script"
        assert ts_file.with_suffix(".qm").is_file(), f"compile {ts_file.name}: run the script"
