"""The data settings belong to the design: a change marks it unsaved, a reopened design loads its data again,
local data folders are remembered across launches, and quitting while a network trains asks first."""

from __future__ import annotations

from pathlib import Path

from ui.data.panel import LOCAL_SOURCE


def open_window(qtbot):
    from ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state.dataset is not None)
    return window


def test_changing_the_data_set_or_subset_marks_the_design_unsaved(window, qtbot):
    assert not window.state.is_dirty and not window.isWindowModified()  # the first data set is no change
    window.state.set_data_settings(subset=300)
    assert window.state.is_dirty and window.isWindowModified()
    window.state.mark_saved(Path(window.state.document_name))
    panel = window.data_panel
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("moons"))
    panel.source_combo.activated.emit(panel.source_combo.currentIndex())
    qtbot.waitUntil(lambda: window.state.dataset.name == "moons")
    assert window.state.is_dirty and window.isWindowModified()


def test_a_reopened_design_loads_its_data_again(window, qtbot, fake_dialogs, tmp_path):
    panel = window.data_panel
    panel.select_source("moons")
    qtbot.waitUntil(lambda: window.state.dataset.name == "moons")
    window.state.set_data_settings(subset=200)
    fake_dialogs.save_paths.append(tmp_path / "moons.json")
    assert window.documents.save_as() and not window.state.is_dirty
    window.data_panel.select_source("spiral")  # the user moves on, then discards it
    qtbot.waitUntil(lambda: window.state.dataset.name == "spiral")
    assert window.documents.open_network_file(tmp_path / "moons.json")
    qtbot.waitUntil(lambda: window.state.dataset.name == "moons")
    assert window.state.data_settings.subset == 200 and window.state.training_blocker() is None
    assert panel.source_combo.currentData() == "moons" and not window.state.is_dirty
    assert "Ready to train" in window.readiness_label.text()


def test_a_local_data_folder_is_remembered_across_launches(qtbot, mnist_dir, fake_dialogs):
    first = open_window(qtbot)
    first.data_panel.source_combo.setCurrentIndex(first.data_panel.source_combo.findData(LOCAL_SOURCE))
    first.data_panel.path_edit.setText(str(mnist_dir))
    first.data_panel.load()
    qtbot.waitUntil(lambda: first.state.dataset.name == "mnist", timeout=30_000)
    first.state.undo_stack.setClean()
    first.state.mark_unchanged()
    first.close()

    second = open_window(qtbot)
    combo = second.data_panel.source_combo
    recent = combo.findData(str(mnist_dir.resolve()))
    assert recent > combo.findData(LOCAL_SOURCE) and mnist_dir.name in combo.itemText(recent)
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    assert second.data_panel.path_edit.text() == str(mnist_dir.resolve())  # offered again
    combo.setCurrentIndex(recent)
    combo.activated.emit(recent)  # one click loads it again
    qtbot.waitUntil(lambda: second.state.dataset.name == "mnist", timeout=30_000)
    second.state.undo_stack.setClean()
    second.state.mark_unchanged()
    second.close()


def test_quitting_while_a_network_trains_asks_first(window, qtbot, fake_dialogs):
    window.state.set_training_settings(epochs=10_000)
    window.state.mark_unchanged()
    window.training_panel.train_button.click()
    qtbot.waitUntil(lambda: window.training.progress.step >= 3, timeout=20_000)
    fake_dialogs.quit_while_training = False
    window.quit_action.trigger()
    assert fake_dialogs.names().count("ask_quit_while_training") == 1
    assert window.isVisible() and window.training.running  # Cancel: it goes on training
    fake_dialogs.quit_while_training = True
    window.quit_action.trigger()
    assert not window.isVisible() and not window.training.running
