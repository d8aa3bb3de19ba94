"""The one translation function for every user-visible string, and loading a language."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "ArtifactDesk"
TRANSLATIONS_DIR = Path(str(files("desktop_app.resources") / "translations"))


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """``text`` in the user's language (``%n`` takes ``n`` for plurals)."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


def available_languages() -> list[str]:
    """Language codes with a compiled translation, plus English (the source language)."""
    found = sorted(p.stem.removeprefix("artifact_desk_") for p in TRANSLATIONS_DIR.glob("*.qm"))
    return ["en", *[code for code in found if code != "en"]]


def install_translator(app: QCoreApplication, language: str | None) -> QTranslator | None:
    """Load the translation for ``language`` (the system's when None); English needs none."""
    code = language or QLocale.system().name().split("_")[0]
    if code == "en":
        return None
    translator = QTranslator(app)
    if translator.load(str(TRANSLATIONS_DIR / f"artifact_desk_{code}.qm")):
        app.installTranslator(translator)
        return translator
    return None
