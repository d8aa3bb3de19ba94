"""JsonTreeModel: nested metadata as a tree of keys, values and JSON types."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from desktop_app.gui.models.metadata import Column, JsonTreeModel, Role

METADATA: dict[str, Any] = {
    "epochs": 10,
    "lr": 0.001,
    "name": "resnet",
    "pretrained": True,
    "notes": None,
    "optimizer": {"kind": "adam", "betas": [0.9, 0.999]},
    "layers": [{"units": 64}, {"units": 10, "activation": "softmax"}],
    "empty": {},
    "none": [],
}


def row_of(model: JsonTreeModel, key: str, parent: QModelIndex | None = None) -> QModelIndex:
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, Column.KEY, parent)
        if index.data() == key:
            return index
    raise AssertionError(f"no key {key!r}")


def cells(model: JsonTreeModel, index: QModelIndex) -> list[str]:
    return [model.index(index.row(), c, index.parent()).data() for c in Column]


def test_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = JsonTreeModel()
    qtmodeltester.check(model)
    model.set_data(METADATA)
    qtmodeltester.check(model)
    model.set_data({})
    assert model.rowCount() == 0
    qtmodeltester.check(model)


def test_keys_keep_their_order_and_scalars_show_value_and_type() -> None:
    model = JsonTreeModel()
    model.set_data(METADATA)
    keys = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert keys == list(METADATA)
    assert cells(model, row_of(model, "epochs")) == ["epochs", "10", "number"]
    assert cells(model, row_of(model, "lr")) == ["lr", "0.001", "number"]
    assert cells(model, row_of(model, "name")) == ["name", "resnet", "string"]
    assert cells(model, row_of(model, "pretrained")) == ["pretrained", "true", "boolean"]
    assert cells(model, row_of(model, "notes")) == ["notes", "null", "null"]
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Column] == [
        "Key",
        "Value",
        "Type",
    ]


def test_objects_and_arrays_expand() -> None:
    model = JsonTreeModel()
    model.set_data(METADATA)
    optimizer = row_of(model, "optimizer")
    assert cells(model, optimizer) == ["optimizer", "2 key(s)", "object"]
    assert model.rowCount(optimizer) == 2
    betas = row_of(model, "betas", optimizer)
    assert cells(model, betas) == ["betas", "2 item(s)", "array"]
    assert [model.index(r, Column.VALUE, betas).data() for r in range(2)] == ["0.9", "0.999"]
    assert model.hasChildren(row_of(model, "layers"))
    assert not model.hasChildren(row_of(model, "empty"))
    assert not model.hasChildren(row_of(model, "name"))


def test_key_path_is_dotted_with_array_positions_in_brackets() -> None:
    model = JsonTreeModel()
    model.set_data(METADATA)
    optimizer = row_of(model, "optimizer")
    assert optimizer.data(Role.KEY_PATH) == "optimizer"
    betas = row_of(model, "betas", optimizer)
    assert betas.data(Role.KEY_PATH) == "optimizer.betas"
    assert model.index(1, 0, betas).data(Role.KEY_PATH) == "optimizer.betas[1]"
    second_layer = model.index(1, 0, row_of(model, "layers"))
    activation = row_of(model, "activation", second_layer)
    assert activation.data(Role.KEY_PATH) == "layers[1].activation"
    assert activation.data(Role.VALUE) == "softmax"
    # Every column of a row answers the same roles.
    value_cell = model.index(activation.row(), Column.VALUE, activation.parent())
    assert value_cell.data(Role.KEY_PATH) == "layers[1].activation"


def test_long_strings_are_cut_in_the_value_column_but_kept_whole() -> None:
    model = JsonTreeModel()
    text = "x" * 1000
    model.set_data({"log": text})
    value = model.index(0, Column.VALUE)
    assert len(value.data()) < 300
    assert value.data(Qt.ItemDataRole.ToolTipRole) == text
    assert value.data(Role.VALUE) == text


def test_set_data_resets_the_model() -> None:
    model = JsonTreeModel()
    model.set_data(METADATA)
    resets: list[None] = []
    model.modelReset.connect(lambda: resets.append(None))
    model.set_data({"only": 1})
    assert resets == [None]
    assert model.rowCount() == 1
    assert model.index(0, 0).data(Role.KEY_PATH) == "only"
