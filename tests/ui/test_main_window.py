"""The window: docks and View menu, every menu action, files, unsaved changes, layout, autosave and
recovery, models, and the command-line hand-over of ``ui.app.main``."""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget

import dllab
from dllab.book_weights import import_book_weights
from dllab.spec import read_design
from ui.commands import InsertLayerCommand, RemoveLayerCommand
from ui.common import settings
from ui.common.paths import EXPERIMENTS_DIR, autosave_path, example_networks
from ui.design import autosave
from ui.main_window import MainWindow, _menu_actions

DOCKS = [
    "dock_palette",
    "dock_network",
    "dock_inspector",
    "dock_data",
    "dock_training",
    "dock_runs",
    "dock_draw",
]


def make_dirty(window) -> None:
    window.state.undo_stack.push(InsertLayerCommand(window.state, 0, {"type": "Flatten"}))


def test_docks_have_stable_names_and_view_menu_toggles(window):
    docks = window.findChildren(QDockWidget)
    assert sorted(d.objectName() for d in docks) == sorted(DOCKS)
    titles = {d.objectName(): d.windowTitle() for d in docks}
    assert titles == {
        "dock_palette": "Layers",
        "dock_network": "Network",
        "dock_inspector": "Inspector",
        "dock_data": "Data",
        "dock_training": "Training",
        "dock_runs": "Runs",
        "dock_draw": "Draw",
    }
    view_actions = window.view_menu.actions()
    for dock in docks:
        toggle = dock.toggleViewAction()
        assert toggle in view_actions
        toggle.trigger()
        assert dock.isHidden()
        toggle.trigger()
        assert not dock.isHidden()
    tabs = [window.views.tabText(i) for i in range(window.views.count())]
    assert tabs == [
        "Architecture",
        "Dataset",
        "Curves",
        "Activations",
        "Weights",
        "Filters",
        "Boundary",
        "Evaluation",
        "Compare",
        "Search",
        "Init",
        "Precision",
        "Runs",
        "Playground",
    ]
    assert window.views.tabToolTip(tabs.index("Weights")) == "Weights & gradients"
    assert window.views.tabToolTip(tabs.index("Search")) == "Hyperparameter search"
    assert window.views.tabToolTip(tabs.index("Init")) == "Activation distributions by initial weights"


def test_focus_on_the_views_hides_the_design_panels_and_brings_them_back(window, qtbot):
    window.resize(1400, 900)
    window.dock_inspector.hide()  # closed before: stays closed after
    narrow = window.views.width()
    window.focus_action.trigger()
    qtbot.waitUntil(lambda: window.views.width() > narrow + 400)
    assert window.dock_palette.isHidden() and window.dock_network.isHidden()
    assert not window.dock_training.isHidden()
    assert window.view_switcher.line_count() <= 2  # the views' buttons on one or two lines: wide
    window.focus_action.trigger()
    assert not window.focus_action.isChecked()
    assert not window.dock_palette.isHidden() and not window.dock_network.isHidden()
    assert window.dock_inspector.isHidden()
    window.focus_action.trigger()
    window.dock_network.toggleViewAction().trigger()  # showing a design panel ends the focus
    assert not window.focus_action.isChecked() and not window.dock_network.isHidden()


def test_menus_and_standard_shortcuts(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "E&xamples", "&Help"]
    assert window.save_action.shortcut().matches(settings_key("Ctrl+S"))
    assert window.undo_action.shortcut().matches(settings_key("Ctrl+Z"))
    assert window.open_action.shortcut().matches(settings_key("Ctrl+O"))
    assert len(window.example_actions) == len(example_networks())


def settings_key(text: str):
    from PySide6.QtGui import QKeySequence

    return QKeySequence(text)


def test_every_menu_action_runs_without_error(window, qtbot, fake_dialogs, tmp_path):
    menus = [window.file_menu, window.edit_menu, window.view_menu, window.examples_menu, window.help_menu]
    window.state.set_current_layer(1)
    book = {*window.book_actions.values(), *window.course_actions}  # they load MNIST: their own tests below
    actions = [a for menu in menus for a in _menu_actions(menu) if a not in book]
    assert window.quit_action in actions
    for action in actions:
        if action is window.quit_action:
            continue
        if action.isEnabled():
            action.trigger()
        qtbot.wait(1)
    assert fake_dialogs.errors() == []
    assert {"show_about", "show_document", "get_open_path", "get_save_path", "show_info"} <= set(
        fake_dialogs.names()
    )
    assert "Ctrl+S" in window.shortcuts_html()
    app = QApplication.instance()
    palette, sheet = app.palette(), app.styleSheet()
    for key in ("system", "light", "dark"):
        window.set_theme(key)
        assert window.theme_actions[key].isChecked()
    app.setPalette(palette)  # leave the application as the other tests expect it
    app.setStyleSheet(sheet)
    window.quit_action.trigger()
    assert not window.isVisible()


def test_save_then_open_gives_the_same_network(window, fake_dialogs, tmp_path):
    window.documents.open_example(next(p for p in example_networks() if p.name == "simple_conv_net.json"))
    window.state.undo_stack.push(RemoveLayerCommand(window.state, 5))
    spec = window.state.spec_copy()
    target = tmp_path / "my net"
    fake_dialogs.save_paths.append(target)
    assert window.documents.save()  # never saved: asks where, adds .json
    saved = tmp_path / "my net.json"
    assert json.loads(saved.read_text())["network"] == spec
    assert not window.state.is_dirty and window.state.file_path == saved
    assert "my net.json" in window.windowTitle()
    assert settings.recent_files()[0] == saved.resolve()
    window.documents.new_network()
    assert window.state.layers == []
    fake_dialogs.open_paths.append(saved)
    assert window.documents.open_network()
    assert window.state.spec == spec and window.state.file_path == saved
    assert window.state.analysis.ok
    # Save again writes to the same file without asking.
    window.inspector.name_edit.setText("Renamed")
    window.inspector.name_edit.editingFinished.emit()
    asked = fake_dialogs.names().count("get_save_path")
    assert window.documents.save() and fake_dialogs.names().count("get_save_path") == asked
    assert json.loads(saved.read_text())["network"]["name"] == "Renamed"


def test_opening_a_broken_file_says_why_and_keeps_the_design(window, fake_dialogs, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    before = window.state.spec_copy()
    assert not window.documents.open_network_file(bad)
    assert window.state.spec == before
    (title, message) = fake_dialogs.errors()[0]
    assert title == "Cannot open network" and "not valid JSON" in message
    other = tmp_path / "list.json"
    other.write_text(json.dumps({"layers": "Dense"}))
    assert not window.documents.open_network_file(other)
    assert "not a dllab network" in fake_dialogs.errors()[1][1]


def test_recent_menu_opens_and_clears(window, tmp_path):
    path = tmp_path / "net.json"
    path.write_text(window.state.network_json())
    settings.add_recent_file(path)
    window._rebuild_recent_menu()
    entries = [a for a in window.recent_menu.actions() if a.text() == "net.json"]
    assert entries
    entries[0].trigger()
    assert window.state.file_path == path
    window.clear_recent_action.trigger()
    assert settings.recent_files() == []


@pytest.mark.parametrize("trigger", ["new", "open", "example", "quit"])
def test_unsaved_changes_are_asked_about(window, fake_dialogs, trigger, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(window.state.network_json())
    run = {
        "new": window.documents.new_network,
        "open": window.documents.open_network,
        "example": lambda: window.documents.open_example(example_networks()[0]),
        "quit": window.close,
    }[trigger]
    fake_dialogs.open_paths.extend([other, other])
    make_dirty(window)
    # Cancel keeps everything as it was.
    fake_dialogs.save_answer = "cancel"
    run()
    assert fake_dialogs.names().count("ask_save_changes") == 1
    assert window.state.is_dirty and window.state.layers[0]["type"] == "Flatten" and window.isVisible()
    # Discard goes on without saving.
    fake_dialogs.save_answer = "discard"
    run()
    assert fake_dialogs.names().count("ask_save_changes") == 2
    if trigger == "quit":
        assert not window.isVisible()
    else:
        assert not window.state.is_dirty


def test_save_from_the_prompt_saves_first(window, fake_dialogs, tmp_path):
    make_dirty(window)
    fake_dialogs.save_answer = "save"
    fake_dialogs.save_paths.append(tmp_path / "kept.json")
    assert window.documents.new_network()
    assert json.loads((tmp_path / "kept.json").read_text())["network"]["layers"][0] == {"type": "Flatten"}
    # Cancelling the file dialog cancels the New.
    make_dirty(window)
    assert not window.documents.new_network()
    assert window.state.layers == [{"type": "Flatten"}]


def test_layout_is_saved_on_exit_and_restored(qtbot, fake_dialogs):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.dock_runs.hide()
    first.dock_palette.setFloating(True)
    first.resize(760, 580)  # within the offscreen screen (800x600), so restoreGeometry keeps it
    qtbot.wait(20)
    size = first.size()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.dock_runs.isHidden()
    assert second.dock_palette.isFloating()
    assert second.size() == size and size.height() == 580
    second.reset_layout_action.trigger()
    assert not second.dock_runs.isHidden() and not second.dock_palette.isFloating()
    assert second.dockWidgetArea(second.dock_palette) == Qt.DockWidgetArea.LeftDockWidgetArea
    second.close()


def test_an_old_layout_version_is_not_restored(qtbot):
    store = settings.open_settings()
    store.setValue(settings.KEY_LAYOUT_VERSION, 0)
    store.setValue(settings.KEY_STATE, b"garbage")
    window = MainWindow()
    qtbot.addWidget(window)
    assert not window.dock_training.isHidden()
    window.close()


def test_autosave_and_recovery_after_a_crash(qtbot, fake_dialogs):
    first = MainWindow()
    qtbot.addWidget(first)
    make_dirty(first)
    first.documents.autosave_now()
    assert autosave_path().is_file()
    spec = first.state.spec_copy()
    # A crash: the window is never closed. The next start offers the design back.
    fake_dialogs.recover = True
    second = MainWindow()
    qtbot.addWidget(second)
    qtbot.waitUntil(lambda: "ask_recover" in fake_dialogs.names())
    assert second.state.spec == spec and second.state.is_dirty
    assert "Recovered" in second.statusBar().currentMessage()
    second.close()  # discards (the fake answers "discard"); a clean exit removes the autosave
    assert not autosave_path().exists()
    third = MainWindow()
    qtbot.addWidget(third)
    qtbot.wait(10)
    assert fake_dialogs.names().count("ask_recover") == 1
    third.close()
    first.state.undo_stack.setClean()
    first.documents.autosave_now()


def test_declining_recovery_removes_the_autosave(qtbot, fake_dialogs):
    autosave.write_autosave({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}, None)
    fake_dialogs.recover = False
    window = MainWindow()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "ask_recover" in fake_dialogs.names())
    assert not autosave_path().exists() and window.state.spec["name"] == "SpiralMLP"
    window.close()


def test_autosave_runs_after_edits_and_is_removed_when_clean(window, qtbot):
    window.documents.autosave_timer.setInterval(10)
    make_dirty(window)
    qtbot.waitUntil(autosave_path().is_file)
    assert autosave.read_autosave().spec == window.state.spec
    window.state.undo_stack.undo()
    qtbot.waitUntil(lambda: not autosave_path().exists())


def test_title_shows_name_and_unsaved_marker(window):
    assert window.windowTitle() == "SpiralMLP[*] — dllab" and not window.isWindowModified()
    make_dirty(window)
    assert window.isWindowModified()


def test_train_starts_a_run_that_stop_ends_and_the_design_is_locked_meanwhile(window, qtbot):
    window.state.set_training_settings(epochs=10_000)
    with qtbot.waitSignal(window.training.run_started, timeout=10_000):
        window.training_panel.train_button.click()
    assert window.training_panel.train_button.text() == "Stop" and window.readiness_label.text().endswith(
        "Training"
    )
    assert not window.network_panel.view.isEnabled() and not window.delete_action.isEnabled()
    assert not window.undo_action.isEnabled() and not window.open_action.isEnabled()
    with qtbot.waitSignal(window.training.run_ended, timeout=10_000) as ended:
        window.train_action.trigger()  # reads Stop now
    assert ended.args[0] == "stopped"
    assert window.training_panel.train_button.text() == "Train" and window.network_panel.view.isEnabled()
    assert window.readiness_label.text().endswith("Ready to train")


class FakeModel:
    name = "SpiralMLP"
    param_count = 1251

    def __init__(self, spec):
        self.spec = spec


def test_export_without_a_model_explains(window, fake_dialogs):
    assert not window.documents.export_model_npz()
    assert fake_dialogs.calls[-1][0] == "show_info"
    assert "train the network or open a model" in fake_dialogs.calls[-1][1][2]


def test_export_and_open_model_call_the_engine(window, fake_dialogs, monkeypatch, tmp_path):
    written = []
    monkeypatch.setattr(
        dllab, "save", lambda model, path: written.append(("npz", path)) or path, raising=False
    )
    monkeypatch.setattr(
        dllab, "export_onnx", lambda model, path: written.append(("onnx", path)) or path, raising=False
    )
    window.state.set_model(FakeModel(window.state.spec_copy()))
    fake_dialogs.save_paths.extend([tmp_path / "m", tmp_path / "m.onnx"])
    assert window.documents.export_model_npz() and window.documents.export_model_onnx()
    assert written == [("npz", tmp_path / "m.dllab.npz"), ("onnx", tmp_path / "m.onnx")]
    model = FakeModel({**window.state.spec_copy(), "name": "Loaded"})
    monkeypatch.setattr(dllab, "load", lambda path: model, raising=False)
    fake_dialogs.open_paths.append(tmp_path / "m.dllab.npz")
    assert window.documents.open_model()
    assert window.state.model is model and window.state.spec["name"] == "Loaded"
    assert "1,251 trained parameters" in window.statusBar().currentMessage()


def test_a_failing_engine_gives_one_clear_error_and_loses_nothing(
    window, fake_dialogs, monkeypatch, tmp_path
):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(dllab, "save", fail, raising=False)
    monkeypatch.setattr(dllab, "load", fail, raising=False)
    window.state.set_model(FakeModel(window.state.spec_copy()))
    before = window.state.spec_copy()
    fake_dialogs.save_paths.append(tmp_path / "m.dllab.npz")
    assert not window.documents.export_model_npz()
    assert fake_dialogs.errors()[-1] == (
        "Export failed",
        "Could not export the model to m.dllab.npz. Disk full.",
    )
    fake_dialogs.open_paths.append(tmp_path / "x.dllab.npz")
    assert not window.documents.open_model()
    assert "Disk full" in fake_dialogs.errors()[-1][1]
    assert window.state.spec == before and window.state.model is not None


def test_a_real_model_round_trip(window, fake_dialogs, tmp_path):
    if not hasattr(dllab, "save") and not (dllab.__path__ and (tmp_path / "x").parent):
        pytest.skip("dllab.save is not available")
    try:
        from dllab import io
    except ImportError:
        pytest.skip("dllab.io is not available yet")
    model = dllab.build(window.state.spec_copy(), seed=0)
    window.state.set_model(model)
    fake_dialogs.save_paths.append(tmp_path / "spiral.dllab.npz")
    assert window.documents.export_model_npz(), fake_dialogs.errors()
    fake_dialogs.open_paths.append(tmp_path / "spiral.dllab.npz")
    assert window.documents.open_model(), fake_dialogs.errors()
    x = np.zeros((4, 2), np.float32)
    np.testing.assert_array_equal(window.state.model.predict(x), model.predict(x))
    assert io is not None


def test_file_import_book_weights_opens_the_books_network_as_the_model(
    window, fake_dialogs, book_weights_dir
):
    assert window.import_book_action in _menu_actions(window.file_menu)
    fake_dialogs.open_paths.append(book_weights_dir / "ch08_deep_convnet_params.pkl")
    window.import_book_action.trigger()
    assert fake_dialogs.errors() == []
    model = window.state.model
    assert model is not None and model.name == "DeepConvNet" and model.param_count == 123_552
    assert window.state.spec["name"] == "DeepConvNet"
    assert [layer["type"] for layer in window.state.layers].count("Conv2D") == 6
    assert "123,552 trained parameters" in window.statusBar().currentMessage()
    caption, filters = fake_dialogs.calls[-1][1][1], fake_dialogs.calls[-1][1][3]
    assert caption == "Import book weights" and "*.pkl" in filters


@pytest.fixture
def cached_mnist(mnist_dir: Path) -> Path:
    """Real MNIST in the private data folder, as a first download would leave it."""
    cache = Path(os.environ["DLLAB_DATA_DIR"]) / "mnist"
    cache.mkdir(parents=True, exist_ok=True)
    for file in mnist_dir.glob("*-ubyte.gz"):
        shutil.copyfile(file, cache / file.name)
    return cache


def test_every_experiment_of_the_book_opens_from_the_examples_menu(
    window, qtbot, fake_dialogs, cached_mnist, book_weights_dir
):
    from dllab.experiments.chapters import BOOK_EXPERIMENTS, CHAPTERS
    from ui.design.gradient_check import GradientCheckDialog

    titles = [a.text() for a in window.examples_menu.actions() if a.menu() is not None]
    assert titles == [
        *(f"Chapter {n}: {title}" for n, title in CHAPTERS.items()),
        "The Course: Structuring Projects",
    ]
    assert set(window.book_actions) == {e.title for e in BOOK_EXPERIMENTS}
    for entry in BOOK_EXPERIMENTS:
        if entry.opens == "book_weights":
            fake_dialogs.open_paths.append(book_weights_dir / entry.target)
        window.book_actions[entry.title].trigger()
        assert fake_dialogs.errors() == [], entry.title
        assert window.statusBar().currentMessage() == f"The book's {entry.figure}: {entry.book}.", entry.title
        current = window.views.currentWidget()
        if entry.opens == "experiment":
            assert window.state.spec["name"] == read_design(EXPERIMENTS_DIR / entry.target)[0]["name"]
            assert window.state.data_settings.dataset == "mnist" and window.state.file_path is None
            qtbot.waitUntil(lambda: window.state.dataset is not None and window.state.dataset.name == "mnist")
            window.state.undo_stack.setClean()
        elif entry.opens == "comparison":
            assert current is window.compare_view and window.compare_view.preset_name == entry.target
        elif entry.opens == "search":
            view = window.search_view
            assert current is view and view.trials_spin.value() == 100 and view.epochs_spin.value() == 50
            assert view.rank_combo.currentData() == "last" and window.state.data_settings.subset == 500
            assert window.state.training_config().optimizer == "sgd"
            assert [layer["type"] for layer in window.state.layers].count("Dense") == 7
            qtbot.waitUntil(lambda v=view: v.run_blocker() is None)
            window.state.undo_stack.setClean()
        elif entry.opens == "playground":
            playground = window.playground_view
            assert current is playground
            if entry.target == "derivative":
                assert playground.derivative_button.isChecked()
            elif entry.target == "gradient_field":
                assert playground.overlay_button.isChecked() and playground.gradient_field
                assert playground.function.name == "sphere" and playground.start == (3.0, 4.0)
            else:
                assert playground.settings.preset_combo.currentData() == entry.target
        elif entry.opens == "gradcheck":
            dialog = window.findChild(GradientCheckDialog)
            qtbot.waitUntil(lambda d=dialog: d.result is not None, timeout=30_000)
            assert dialog.result.passed() and dialog.isVisible()
            dialog.close()
        elif entry.opens == "book_weights":
            expected = import_book_weights(book_weights_dir / entry.target).model
            assert window.state.model.name == expected.name
            assert window.state.model.param_count == expected.param_count
        else:
            assert current is getattr(window, f"{entry.opens}_view")


def test_the_courses_data_mismatch_opens_with_its_shift_and_its_remedy(
    window, qtbot, fake_dialogs, cached_mnist
):
    titles = [a.text() for a in window.course_actions]
    assert titles == [
        "Data mismatch: clean training, noisy dev and test",
        "Data mismatch remedied: 30 % noisy training images",
    ]
    for action, mix in zip(window.course_actions, (0.0, 0.3), strict=True):
        action.trigger()
        data = window.state.data_settings
        assert (data.dataset, data.dev_shift, data.shift_mix, data.train_dev_fraction) == (
            "mnist",
            "noise",
            mix,
            0.2,
        )
        assert window.state.file_path is None and fake_dialogs.errors() == []
        qtbot.waitUntil(lambda: window.state.dataset is not None and window.state.dataset.name == "mnist")


def test_the_transfer_experiment_opens_on_the_apps_digits_or_on_mnist(window, mnist_dir):
    dialog = window.show_transfer_experiment()
    assert dialog.isVisible() and dialog.dataset is None  # the spiral set is not ten digit-sized classes
    dialog.close()
    window.state.set_dataset(dllab.data.load_dataset(str(mnist_dir)))
    dialog = window.show_transfer_experiment()
    assert dialog.dataset is window.state.dataset and not dialog.running
    dialog.close()


def test_a_pickle_that_runs_code_is_refused_in_one_sentence_and_changes_nothing(
    window, fake_dialogs, tmp_path
):
    import os
    import pickle
    import shlex

    marker = tmp_path / "ran"

    class System:
        def __reduce__(self):
            return os.system, (f"touch {shlex.quote(str(marker))}",)

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": System()}))
    before = window.state.spec_copy()
    fake_dialogs.open_paths.append(path)
    window.import_book_action.trigger()
    ((title, message),) = fake_dialogs.errors()
    assert title == "Cannot import book weights"
    assert message.startswith("Book weights file ") and f"names '{os.system.__module__}.system'" in message
    assert message.endswith(".") and "\n" not in message
    assert not marker.exists()
    assert window.state.spec == before and window.state.model is None


def test_runs_panel_lists_runs_or_says_there_are_none(window):
    from dllab.runs import DataSettings, RunRecorder, new_run_folder
    from dllab.trainer import Trainer, TrainingConfig

    panel = window.runs_panel
    assert panel.stack.currentWidget() is panel.empty and "No training runs yet" in panel.empty.text()
    model = dllab.build(window.state.spec_copy(), seed=0)
    data = DataSettings("spiral")
    prepared = data.prepare(model.input_shape)
    config = TrainingConfig(optimizer="adam", lr=0.01, batch_size=32, epochs=2)
    recorder = RunRecorder(
        new_run_folder(model.name), model, data=prepared, config=config, data_settings=data
    )
    for event in Trainer(model, prepared, config).run():
        recorder.handle(event)
    panel.refresh()
    assert panel.stack.currentWidget() is panel.list and len(panel.runs) == 1
    text = panel.list.item(0).text()
    assert "SpiralMLP on spiral · finished · 2 epochs · val" in text and "test" in text
    with pytest.MonkeyPatch.context() as mp:
        opened = []
        mp.setattr(window.documents, "open_model_file", lambda path, ask=True: opened.append(path))
        panel.model_open_requested.disconnect()
        panel.model_open_requested.connect(window.documents.open_model_file)
        panel.list.setCurrentRow(0)
        panel.open_model_action.trigger()  # the run's context menu
        assert opened == [recorder.folder / "model_final.dllab.npz"]
    panel.list.itemActivated.emit(panel.list.item(0))  # double-click: the run in the Runs view
    assert window.views.currentWidget() is window.run_browser
    assert [e.path for e in window.run_browser.selected_entries()] == [recorder.folder]


def test_main_hands_arguments_to_the_cli_before_any_qt_import(monkeypatch, capsys):
    from ui import app

    calls = []
    fake_cli = types.ModuleType("dllab.cli.main")
    fake_cli.main = lambda argv: calls.append(argv) or 0
    monkeypatch.setitem(sys.modules, "dllab.cli.main", fake_cli)
    monkeypatch.setattr(dllab, "cli", fake_cli, raising=False)
    assert app.main(["train", "net.json"]) == 0 and calls == [["train", "net.json"]]
    monkeypatch.setitem(sys.modules, "dllab.cli.main", None)  # makes the import fail
    monkeypatch.delattr(dllab, "cli", raising=False)
    assert app.main(["info", "x"]) == 2
    assert "command line is not available" in capsys.readouterr().err


def test_the_app_module_imports_no_qt_at_module_level():
    import subprocess

    code = "import sys, ui.app; print(any(m.startswith('PySide6') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_actions_have_icons_where_the_tool_bar_shows_them(window):
    for action in window.tool_bar.actions():
        if isinstance(action, QAction) and not action.isSeparator() and action.text():
            assert not action.icon().isNull(), action.text()


def test_file_new_a_convolution_stack_and_mnist_from_a_folder_just_train(
    window, qtbot, fake_dialogs, mnist_dir
):
    """A newcomer's case: File ▸ New, drag Conv2D, ReLU, MaxPool2D, Flatten, Dense, ReLU, Dense, load MNIST from
    a local folder: the input becomes 1×28×28 (not 784, which Conv2D cannot take) and it trains."""
    from dllab.runs import open_run
    from tests.ui.design.test_network_panel import drag_and_drop
    from ui.data.panel import LOCAL_SOURCE

    window.new_action.trigger()
    view = window.network_panel.view
    stack = ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU", "Dense"]
    for gap, name in enumerate(stack):
        drag_and_drop(view, window.palette_panel.mime_data(name), view.gap_position(gap))
    assert [layer["type"] for layer in window.state.layers] == stack
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    fake_dialogs.directories.append(mnist_dir)
    with qtbot.waitSignal(panel.load_finished, timeout=30_000) as finished:
        panel.folder_button.click()
    assert finished.args == [True] and not fake_dialogs.errors()
    state = window.state
    assert state.spec["input_shape"] == [1, 28, 28] and state.layers[-1]["units"] == 10
    assert state.analysis.ok and state.training_blocker() is None
    assert "input shape set to 1×28×28 from the data" in window.statusBar().currentMessage()
    assert window.training_panel.train_button.isEnabled()
    panel.subset_spin.setValue(300)
    state.set_training_settings(epochs=1, batch_size=50)
    with qtbot.waitSignal(window.training.run_ended, timeout=120_000) as ended:
        window.training_panel.train_button.click()
    assert ended.args[0] == "finished", ended.args
    run = open_run(window.training.started.folder)
    assert run.config["network"]["input_shape"] == [1, 28, 28] and run.config["data"]["subset"] == 300
    assert run.config["data"]["dataset"] == str(mnist_dir.resolve()) and len(run.metrics["epoch"]) == 1


def test_a_run_config_opens_as_the_whole_experiment(window, qtbot, fake_dialogs, tmp_path):
    """File ▸ Open of a run folder's config.json: the network, the data settings (the source with how the
    generated set is made) and the training settings come back; the run's file is never the design's."""
    from dllab.experiment import DataSettings, Experiment
    from dllab.runs import RunRecorder
    from dllab.trainer import Trainer, TrainingConfig

    spec = {**window.state.spec_copy(), "name": "MoonsMLP"}
    spec["layers"][-1]["units"] = 2
    experiment = Experiment(
        spec,
        DataSettings("moons", val_fraction=0.2, n_samples=200, noise=0.3, normalization="standardize"),
        TrainingConfig(optimizer="rmsprop", lr=0.003, batch_size=20, epochs=2, max_steps=15, seed=4),
        seed=4,
    )
    experiment, prepared, _ = experiment.prepare()
    model = dllab.build(experiment.network, seed=4)
    recorder = RunRecorder(
        tmp_path / "run",
        model,
        data=prepared,
        config=experiment.training,
        data_settings=experiment.data,
        seed=4,
    )
    for event in Trainer(model, prepared, experiment.training).run():
        recorder.handle(event)
    fake_dialogs.open_paths.append(tmp_path / "run" / "config.json")
    with qtbot.waitSignal(window.data_panel.load_finished, timeout=20_000):
        window.open_action.trigger()
    state = window.state
    assert not fake_dialogs.errors()
    assert state.spec == model.spec and state.file_path is None  # Save asks where: the run keeps its file
    assert state.dataset.name == "moons" and len(state.dataset.x_train) + len(state.dataset.x_test) == 200
    assert (
        window.data_panel.source_combo.currentData() == "moons"
        and window.data_panel.noise_spin.value() == 0.3
    )
    t = state.training
    assert (t.optimizer, t.lr, t.batch_size, t.epochs, t.seed) == ("rmsprop", 0.003, 20, 2, 4)
    assert window.training_panel.epochs_spin.value() == 2
    restored = state.experiment()
    assert restored.data == experiment.data.__class__(**{**experiment.data.to_dict(), "split_seed": 4})
    assert restored.seed == 4 and restored.training.max_steps == 15
    # The same optimizer (the app writes its defaults out) and the same everything else.
    assert (
        restored.training.make_optimizer().get_config() == experiment.training.make_optimizer().get_config()
    )
    assert {**restored.training.to_dict(), "optimizer_options": {}} == experiment.training.to_dict()


def test_an_exported_onnx_model_opens_with_its_network_and_weights(window, fake_dialogs, tmp_path):
    model = dllab.build(window.state.spec_copy(), seed=3)
    window.state.set_model(model)
    fake_dialogs.save_paths.append(tmp_path / "spiral.onnx")
    assert window.documents.export_model_onnx(), fake_dialogs.errors()
    window.state.set_model(None)
    fake_dialogs.open_paths.append(tmp_path / "spiral.onnx")
    assert window.documents.open_model(), fake_dialogs.errors()
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(window.state.model.predict(x), model.predict(x))
    assert window.state.spec == model.spec
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    fake_dialogs.open_paths.append(tmp_path / "junk.onnx")
    assert not window.documents.open_model()
    title, message = fake_dialogs.errors()[-1]
    assert title == "Cannot open model" and "junk.onnx' is not an ONNX model" in message
