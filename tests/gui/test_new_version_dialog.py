"""The new-version dialog over a mirror synced from a realistic embedded store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_data import PROJECT, Workspace, seed_workspace
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QProgressBar, QPushButton
from pytestqt.qtbot import QtBot

from desktop_app.backends.local import LocalBackend
from desktop_app.client.mirror import Mirror
from desktop_app.client.mirror_sync import sync_until_caught_up
from desktop_app.client.transfers import UploadSpec
from desktop_app.client.upload_preview import UploadSummary
from desktop_app.core.errors import ValidationError
from desktop_app.gui.models.metadata_rows import MetadataRowsModel, parse_value, value_text
from desktop_app.gui.widgets.new_version_dialog import (
    PLAN_DELAY_MS,
    NewVersionDialog,
    guess_type,
    suggest_name,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Mirror, Workspace]]:
    backend = LocalBackend(tmp_path / "store")
    workspace = seed_workspace(backend)
    with Mirror(tmp_path / "mirror.sqlite3") as mirror:
        sync_until_caught_up(backend, mirror)
        yield mirror, workspace
    backend.close()


@pytest.fixture
def mirror(store: tuple[Mirror, Workspace]) -> Mirror:
    return store[0]


def files(root: Path, names: dict[str, bytes]) -> Path:
    for name, data in names.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def images(tmp_path: Path) -> Path:
    return files(tmp_path / "cats and dogs", {"a.png": b"\x89PNG" * 50, "labels.csv": b"f,l\n"})


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return files(tmp_path / "run-7", {"model.safetensors": b"w" * 5000, "config.json": b"{}"})


def make_dialog(
    qtbot: QtBot,
    mirror: Mirror,
    sources: list[Path],
    project: str | None = None,
    name: str | None = None,
    type_: str | None = None,
) -> NewVersionDialog:
    dialog = NewVersionDialog(sources, mirror, project=project, name=name, type_=type_)
    qtbot.addWidget(dialog)
    return dialog


def problem(dialog: NewVersionDialog) -> str:
    label = dialog.findChild(QLabel, "newVersionProblem")
    assert label is dialog.problem
    return label.text()


def upload_enabled(dialog: NewVersionDialog) -> bool:
    button = dialog.findChild(QPushButton, "newVersionUpload")
    assert button is dialog.upload_button
    return button.isEnabled()


def base_items(dialog: NewVersionDialog) -> list[tuple[str, Any]]:
    combo = dialog.findChild(QComboBox, "newVersionBase")
    assert combo is not None
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


# -- suggestions -------------------------------------------------------------------------
def test_type_is_guessed_from_the_files(tmp_path: Path, images: Path, weights: Path) -> None:
    assert guess_type([weights]) == "model"
    assert guess_type([weights / "model.safetensors"]) == "model"
    assert guess_type([images]) == "dataset"
    other = files(tmp_path / "misc", {"notes.xyz": b"?" * 10})
    assert guess_type([other]) == "dataset"
    # A checkpoint next to much more data is still a dataset.
    mixed = files(tmp_path / "mixed", {"tiny.pt": b"p", "big.parquet": b"x" * 1000})
    assert guess_type([mixed]) == "dataset"
    empty_model = files(tmp_path / "empty", {"model.onnx": b""})
    assert guess_type([empty_model]) == "model"


def test_name_is_suggested_from_the_dropped_item(tmp_path: Path, images: Path) -> None:
    assert suggest_name([images]) == "cats-and-dogs"
    assert suggest_name([images / "labels.csv"]) == "labels"
    assert suggest_name([images / "a.png", images / "labels.csv"]) == "cats-and-dogs"
    assert suggest_name([]) == ""


def test_prefilled_from_the_target_artifact(
    qtbot: QtBot, store: tuple[Mirror, Workspace], weights: Path
) -> None:
    mirror, ws = store
    dialog = make_dialog(qtbot, mirror, [weights], PROJECT, "resnet50", "model")

    assert dialog.findChild(QComboBox, "newVersionProject").currentText() == PROJECT
    assert dialog.findChild(QLineEdit, "newVersionName").text() == "resnet50"
    assert dialog.findChild(QComboBox, "newVersionType").currentText() == "model"
    assert dialog.existing_type() == "model"
    assert base_items(dialog) == [
        ("None: only the dropped files", None),
        ("v2 (latest) · 2 files", ws.versions["resnet50:v2"].id),
        ("v1 (best) · 2 files", ws.versions["resnet50:v1"].id),
        ("v0 · 2 files", ws.versions["resnet50:v0"].id),
    ]
    assert dialog.base.isEnabled()
    assert problem(dialog) == ""
    assert upload_enabled(dialog)


def test_target_type_is_kept_even_when_the_files_look_otherwise(
    qtbot: QtBot, mirror: Mirror, images: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, "resnet50", "model")
    assert dialog.type.currentText() == "model"


def test_dropped_on_a_type_makes_a_new_artifact_named_after_the_folder(
    qtbot: QtBot, mirror: Mirror, weights: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [weights], PROJECT, None, "evaluation")

    assert dialog.name.text() == "run-7"
    assert dialog.type.currentText() == "evaluation"  # the drop target beats the guess
    assert dialog.existing_type() is None
    assert base_items(dialog) == [("None: only the dropped files", None)]
    assert not dialog.base.isEnabled()
    assert upload_enabled(dialog)


def test_dropped_anywhere_guesses_the_type_and_offers_the_mirrors_projects(
    qtbot: QtBot, mirror: Mirror, weights: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [weights])

    combo = dialog.project
    assert [combo.itemText(i) for i in range(combo.count())] == ["nlp", PROJECT]
    assert combo.currentText() == "nlp"
    assert dialog.type.currentText() == "model"
    types = [dialog.type.itemText(i) for i in range(dialog.type.count())]
    assert types == ["dataset", "evaluation", "model"]


def test_type_follows_an_existing_artifact_until_the_user_sets_it(
    qtbot: QtBot, mirror: Mirror, weights: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [weights], PROJECT, None, None)
    dialog.show()
    assert dialog.type.currentText() == "model"
    dialog.name.setText("raw-images")
    assert dialog.type.currentText() == "dataset"
    assert dialog.base.isEnabled()
    assert len(base_items(dialog)) == 7
    dialog.name.setText("brand-new")
    assert dialog.type.currentText() == "model"
    assert not dialog.base.isEnabled()

    dialog.type.setEditText("evaluation")  # the user's choice sticks from now on
    dialog.name.setText("raw-images")
    assert dialog.type.currentText() == "evaluation"
    assert "is a 'dataset' artifact" in problem(dialog)
    assert not upload_enabled(dialog)


# -- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("name", "my/data", "artifact name 'my/data' may only contain letters"),
        ("name", "", "artifact name '' is empty"),
        ("project", "a/b/c", "project 'a/b/c' has 2 '/'"),
        ("type", "wandb-history", "starts with 'wandb-', which is reserved"),
        ("type", "my type", "artifact type 'my type' may only contain letters"),
        ("aliases", "best, latest", "alias 'latest' cannot be set by hand"),
        ("aliases", "v3", "looks like a version number"),
        ("aliases", "a:b", "contains ':'"),
    ],
)
def test_bad_fields_show_the_reason_and_disable_upload(
    qtbot: QtBot, mirror: Mirror, images: Path, field: str, text: str, expected: str
) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    assert upload_enabled(dialog)
    widget = getattr(dialog, field)
    if isinstance(widget, QComboBox):
        widget.setEditText(text)
    else:
        widget.setText(text)

    assert expected in problem(dialog)
    assert not upload_enabled(dialog)
    with pytest.raises(ValidationError, match=re.escape(expected)):
        dialog.spec()


def test_typing_a_bad_name_and_fixing_it(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "cats/")
    assert "may only contain letters" in problem(dialog)
    assert not upload_enabled(dialog)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Backspace)
    assert problem(dialog) == ""
    assert upload_enabled(dialog)


def test_type_must_match_the_existing_artifact(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, "resnet50", "model")
    dialog.type.setEditText("dataset")

    assert problem(dialog) == (
        "vision/resnet50 is a 'model' artifact, and a name has one type per project; "
        "choose type 'model' or another name"
    )
    assert not upload_enabled(dialog)
    dialog.type.setEditText("model")
    assert upload_enabled(dialog)


def test_metadata_rows_are_checked(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    rows = dialog.metadata_rows
    rows.add_row("", "orphan")
    assert problem(dialog) == "metadata row 1 has a value but no key; add a key or remove it"
    assert not upload_enabled(dialog)
    rows.setData(rows.index(0, 0), "lr")
    assert upload_enabled(dialog)
    rows.add_row("lr", "2")
    assert problem(dialog) == "metadata key 'lr' is in rows 1 and 2; keep one"
    rows.remove_row(1)
    rows.add_row("", "")  # an empty row is simply ignored
    assert problem(dialog) == ""
    assert dialog.metadata() == {"lr": "orphan"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1', "cannot be parsed: Expecting"),
        ("[1, 2]", "is a list, not an object; metadata must be a JSON object"),
        ('{"x": Infinity}', "infinity cannot be stored in JSON"),
    ],
)
def test_bad_metadata_json_shows_the_reason(
    qtbot: QtBot, mirror: Mirror, images: Path, text: str, expected: str
) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.json_toggle.setChecked(True)
    dialog.metadata_json.setPlainText(text)

    assert expected in problem(dialog)
    assert not upload_enabled(dialog)
    dialog.metadata_json.setPlainText('{"a": 1}')
    assert upload_enabled(dialog)


def test_switching_between_rows_and_json_carries_the_metadata(
    qtbot: QtBot, mirror: Mirror, images: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    toggle = dialog.findChild(type(dialog.json_toggle), "metadataJsonToggle")
    qtbot.mouseClick(dialog.add_row_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.add_row_button, Qt.MouseButton.LeftButton)
    rows = dialog.metadata_rows
    rows.setData(rows.index(0, 0), "epochs")
    rows.setData(rows.index(0, 1), "10")
    rows.setData(rows.index(1, 0), "note")
    rows.setData(rows.index(1, 1), "first try")

    toggle.setChecked(True)
    assert dialog.metadata_pages.currentWidget() is dialog.metadata_json
    assert json.loads(dialog.metadata_json.toPlainText()) == {"epochs": 10, "note": "first try"}

    dialog.metadata_json.setPlainText('{"split": {"train": 0.8}, "id": "7", "ok": true}')
    toggle.setChecked(False)
    assert dialog.metadata_pages.currentIndex() == 0
    assert rows.pairs() == [("split", '{"train": 0.8}'), ("id", '"7"'), ("ok", "true")]
    assert dialog.metadata() == {"split": {"train": 0.8}, "id": "7", "ok": True}

    toggle.setChecked(True)
    dialog.metadata_json.setPlainText("{oops")
    toggle.setChecked(False)  # refused: what is there does not parse
    assert toggle.isChecked()
    assert dialog.metadata_pages.currentWidget() is dialog.metadata_json
    assert "cannot be parsed" in problem(dialog)


def test_remove_button_removes_the_current_row(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    rows = dialog.metadata_rows
    for key in ("a", "b", "c"):
        rows.add_row(key, "1")
    dialog.metadata_table.selectRow(1)
    qtbot.mouseClick(dialog.remove_row_button, Qt.MouseButton.LeftButton)
    assert [key for key, _ in rows.pairs()] == ["a", "c"]


def test_cell_values_read_as_json_when_they_are_json() -> None:
    assert parse_value("0.9") == 0.9
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value('"0.9"') == "0.9"
    assert parse_value("cat") == "cat"
    assert parse_value("NaN") == "NaN"  # not a float: JSON has no NaN
    assert parse_value("") == ""
    for value in ("cat", "0.9", 0.9, True, None, {"a": [1]}, "", "null"):
        assert parse_value(value_text(value)) == value


def test_metadata_rows_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = MetadataRowsModel()
    qtmodeltester.check(model)
    model.add_row("epochs", "10")
    model.add_row("lr", "0.01")
    qtmodeltester.check(model)
    assert model.flags(model.index(0, 1)) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(model.index(1, 1), "0.02")
    assert model.index(1, 1).data() == "0.02"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Key"
    model.remove_row(0)
    model.set_pairs([("x", "1")])
    qtmodeltester.check(model)
    assert model.metadata() == {"x": 1}


# -- the spec ----------------------------------------------------------------------------
def test_spec_holds_everything_entered(
    qtbot: QtBot, store: tuple[Mirror, Workspace], images: Path
) -> None:
    mirror, ws = store
    dialog = make_dialog(
        qtbot, mirror, [images / "a.png", images / "labels.csv"], PROJECT, "raw-images", "dataset"
    )
    base_id = ws.versions["raw-images:v3"].id
    dialog.base.setCurrentIndex(dialog.base.findData(base_id))
    dialog.description.setPlainText("More cats")
    dialog.aliases.setText(" best, candidate,, best ")
    dialog.metadata_rows.add_row("count", "12")
    dialog.metadata_rows.add_row("source", "camera-b")

    spec = dialog.spec()

    assert spec == UploadSpec(
        sources=(str(images / "a.png"), str(images / "labels.csv")),
        project=PROJECT,
        name="raw-images",
        type="dataset",
        description="More cats",
        metadata={"count": 12, "source": "camera-b"},
        aliases=("best", "candidate"),
        base_version_id=base_id,
    )
    assert all(Path(source).is_absolute() for source in spec.sources)

    dialog.json_toggle.setChecked(True)
    dialog.metadata_json.setPlainText('{"count": 13, "nested": {"k": [1, 2]}}')
    dialog.description.setPlainText("   ")
    spec = dialog.spec()
    assert spec.metadata == {"count": 13, "nested": {"k": [1, 2]}}
    assert spec.description is None


def test_relative_sources_become_absolute(
    qtbot: QtBot, mirror: Mirror, images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(images.parent)
    dialog = make_dialog(qtbot, mirror, [Path(images.name)], PROJECT, None, None)
    assert dialog.spec().sources == (str(images),)
    assert dialog.spec().base_version_id is None


def test_upload_accepts_only_without_a_problem(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    dialog.name.setText("bad name")
    dialog.accept()  # e.g. Enter pressed: refused while there is a problem
    assert dialog.isVisible()
    dialog.name.setText("good-name")
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.mouseClick(dialog.upload_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == NewVersionDialog.DialogCode.Accepted


def test_no_sources_is_a_problem(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.set_sources([])
    assert problem(dialog) == "Nothing to upload: drop files or folders on the window"
    assert not upload_enabled(dialog)


# -- the plan ----------------------------------------------------------------------------
def test_plan_is_requested_on_open_and_debounced_after_changes(
    qtbot: QtBot, store: tuple[Mirror, Workspace], images: Path
) -> None:
    mirror, ws = store
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, "raw-images", "dataset")
    requested: list[UploadSpec] = []
    dialog.plan_requested.connect(requested.append)
    assert dialog.plan_timer.interval() == PLAN_DELAY_MS

    dialog.show()
    assert [spec.name for spec in requested] == ["raw-images"]  # at once, no waiting
    assert requested[0].sources == (str(images),)
    assert dialog.findChild(QLabel, "uploadSummary").text() == "Checking the files…"

    qtbot.keyClicks(dialog.name, "-v2")
    assert len(requested) == 1  # not per keystroke
    assert dialog.plan_timer.isActive()
    qtbot.waitUntil(lambda: len(requested) == 2, timeout=2000)
    assert requested[1].name == "raw-images-v2"

    dialog.description.setPlainText("does not change the files")
    dialog.metadata_rows.add_row("a", "1")
    assert not dialog.plan_timer.isActive()

    dialog.name.setText("raw-images")
    base_id = ws.versions["raw-images:v5"].id
    with qtbot.waitSignal(dialog.plan_requested, timeout=2000) as blocker:
        dialog.base.setCurrentIndex(dialog.base.findData(base_id))
    spec = blocker.args[0]
    assert (spec.name, spec.base_version_id) == ("raw-images", base_id)
    assert len(requested) == 3  # the name and base changes made one request

    dialog.name.setText("raw-images-x")
    dialog.name.setText("raw-images")
    dialog.base.setCurrentIndex(dialog.base.findData(base_id))  # what was asked last
    qtbot.wait(PLAN_DELAY_MS + 100)
    assert len(requested) == 3


def test_new_sources_ask_for_a_new_plan(
    qtbot: QtBot, mirror: Mirror, images: Path, weights: Path
) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    assert dialog.type.currentText() == "dataset"
    with qtbot.waitSignal(dialog.plan_requested, timeout=2000) as blocker:
        dialog.set_sources([weights])
    assert blocker.args[0].sources == (str(weights),)
    assert dialog.type.currentText() == "model"
    assert dialog.sources == [weights]


def test_progress_and_summary_from_the_worker(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    bar = dialog.findChild(QProgressBar, "hashProgress")
    summary_label = dialog.findChild(QLabel, "uploadSummary")
    assert bar.isVisible()
    assert upload_enabled(dialog)  # the plan informs; it never blocks

    dialog.on_plan_progress(300, 1000)
    assert (bar.value(), bar.maximum()) == (300, 1000)

    summary = UploadSummary(
        file_count=12, total_bytes=3_565_158, new_bytes=1_258_291, stored_bytes=2_306_867
    )
    dialog.on_plan_ready(summary)
    assert summary_label.text() == summary.describe()
    assert summary_label.text() == "12 files, 3.4 MiB: 1.2 MiB new, 2.2 MiB already stored"
    assert not bar.isVisible()
    assert upload_enabled(dialog)

    same = UploadSummary(2, 204, 0, 204, identical_to="v3")
    dialog.on_plan_ready(same)
    assert summary_label.text() == "identical to v3: nothing to upload"

    dialog.on_plan_failed("images holds no files; a version needs one file")
    assert summary_label.text() == (
        "Could not check the files: images holds no files; a version needs one file"
    )
    assert not bar.isVisible()


def test_closing_stops_the_pending_request(qtbot: QtBot, mirror: Mirror, images: Path) -> None:
    dialog = make_dialog(qtbot, mirror, [images], PROJECT, None, None)
    dialog.show()
    dialog.name.setText("other")
    assert dialog.plan_timer.isActive()
    dialog.reject()
    assert not dialog.plan_timer.isActive()
