"""The type filter: pick one or several artifact types as found in the data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktop_app.gui.i18n import tr


class TypeFilter(QToolButton):
    """A button whose menu lists the types with check marks; none checked means all."""

    types_changed = Signal(frozenset)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("typeFilter")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setMenu(QMenu(self))
        self._actions: dict[str, QAction] = {}
        self._update_text()

    def set_types(self, types: Sequence[str]) -> None:
        """Offer these types; a checked type that is still offered stays checked."""
        if list(types) == list(self._actions):
            return
        checked = self.selected()
        menu = self.menu()
        menu.clear()
        self._actions = {}
        all_types = menu.addAction(tr("All types"))
        all_types.triggered.connect(self._on_all_types_triggered)
        menu.addSeparator()
        for type_ in types:
            action = menu.addAction(type_)
            action.setCheckable(True)
            action.setChecked(type_ in checked)
            action.toggled.connect(self._on_type_toggled)
            self._actions[type_] = action
        self._update_text()
        if self.selected() != checked:
            self.types_changed.emit(self.selected())

    def selected(self) -> frozenset[str]:
        return frozenset(t for t, a in self._actions.items() if a.isChecked())

    def set_selected(self, types: Iterable[str]) -> None:
        wanted = set(types)
        for type_, action in self._actions.items():
            action.blockSignals(True)
            action.setChecked(type_ in wanted)
            action.blockSignals(False)
        self._on_type_toggled()

    @Slot()
    def _on_all_types_triggered(self) -> None:
        self.set_selected(())

    @Slot()
    def _on_type_toggled(self) -> None:
        self._update_text()
        self.types_changed.emit(self.selected())

    def _update_text(self) -> None:
        chosen = sorted(self.selected())
        self.setText(", ".join(chosen) if chosen else tr("All types"))
        self.setToolTip(tr("Show only artifacts of these types"))
