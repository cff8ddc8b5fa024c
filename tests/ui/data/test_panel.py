"""The Data panel: built-in sets, a local MNIST folder, background loading with progress and cancel, the
network following the dataset, preparation settings and the previews."""

from __future__ import annotations

import threading

import pytest

from dllab import experiment as experiment_module  # the loader loads through DataSettings.load here
from dllab.data import DatasetError, DownloadCancelled
from dllab.data import download as download_module
from ui.common.dialogs import DownloadFailedDialog
from ui.common.paths import example_networks
from ui.data.panel import IMAGE_FOLDER_SOURCE, LOCAL_SOURCE


def example(name: str):
    return next(p for p in example_networks() if p.name == name)


def test_the_spiral_is_loaded_at_start_and_ready_to_train(window):
    assert window.state.dataset.name == "spiral"
    assert window.state.undo_stack.count() == 0  # the example already fits: nothing was changed
    assert window.training_panel.train_button.isEnabled()
    preview = window.data_panel.preview
    assert preview.scatter.point_count == 480 and preview.stack.currentWidget() is preview.scatter
    assert "480 training" in window.data_panel.status.text()


def test_choosing_a_2d_set_fits_the_output_layer_in_one_undo_step(window):
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData("moons"))
    combo.activated.emit(combo.currentIndex())
    assert window.state.dataset.name == "moons"
    assert window.state.spec["input_shape"] == [2] and window.state.layers[-1]["units"] == 2
    assert window.state.undo_stack.count() == 1
    assert "Fitted the network to Moons" in window.statusBar().currentMessage()
    assert window.training_panel.train_button.isEnabled()
    window.state.undo_stack.undo()
    assert window.state.layers[-1]["units"] == 3 and not window.training_panel.train_button.isEnabled()


def test_generated_set_options_reload_and_refit(window):
    panel = window.data_panel
    assert panel.classes_spin.isVisibleTo(panel) and panel.classes_spin.value() == 3
    panel.classes_spin.setValue(5)
    assert window.state.dataset.num_classes == 5 and window.state.layers[-1]["units"] == 5
    panel.samples_spin.setValue(300)
    assert len(window.state.dataset.x_train) + len(window.state.dataset.x_test) == 300
    assert window.state.data_settings.n_samples == 300


def test_the_shapes_set_loads_in_the_background_and_flattens_for_an_mlp(window, qtbot):
    panel = window.data_panel
    with qtbot.waitSignal(panel.load_finished, timeout=20_000) as finished:
        panel.select_source("shapes")
        assert window.state.dataset_loading
        assert not window.training_panel.train_button.isEnabled()
    assert finished.args == [True]
    assert window.state.spec["input_shape"] == [784] and window.state.layers[-1]["units"] == 10
    assert window.training_panel.train_button.isEnabled()
    grid = panel.preview.grid
    assert panel.preview.stack.currentWidget() is grid and grid.count == 32
    assert grid.captions[0] in window.state.dataset.class_names
    assert panel.augment_host.isEnabled() and not panel.preview.augmented.isVisibleTo(panel)
    panel.shift_spin.setValue(2)
    panel.rotation_spin.setValue(15)
    assert window.state.data_settings.shift == 2 and window.state.data_settings.rotation == 15
    assert panel.preview.augmented.isVisibleTo(panel) and panel.preview.augmented.count == 16
    assert window.dataset_view.preview.augmented.count == 20
    assert window.state.make_augmenter() is not None


def test_mnist_from_a_local_folder(window, qtbot, mnist_dir, fake_dialogs):
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    assert panel.local_row.isVisibleTo(panel) and not panel.generated_host.isVisibleTo(panel)
    fake_dialogs.directories.append(mnist_dir)
    with qtbot.waitSignal(panel.load_finished, timeout=30_000) as finished:
        panel.folder_button.click()
    assert finished.args == [True]
    dataset = window.state.dataset
    assert dataset.input_shape == (1, 28, 28) and len(dataset.x_train) == 60_000
    assert window.state.spec["input_shape"] == [784] and window.state.layers[-1]["units"] == 10
    assert window.state.data_settings.source == str(mnist_dir.resolve())
    assert "60,000 training" in panel.status.text()
    assert window.training_panel.train_button.isEnabled()
    # A CNN keeps its image input on the same data.
    window.documents.open_example(example("simple_conv_net.json"))
    assert window.state.spec["input_shape"] == [1, 28, 28]
    assert window.training_panel.train_button.isEnabled()


def test_a_download_shows_progress_and_can_be_cancelled(window, qtbot, monkeypatch):
    started = threading.Event()

    def slow_download(source, *, progress=None, cancel=None, **kwargs):
        assert source == "mnist"
        total = 11_000_000
        for step in range(1, 2000):
            progress(step * 50_000, total, "Downloading train-images-idx3-ubyte.gz")
            started.set()
            if cancel():
                raise DownloadCancelled("download cancelled")
            threading.Event().wait(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(experiment_module, "load_dataset", slow_download)
    panel = window.data_panel
    panel.select_source("mnist")
    assert window.state.dataset.name == "spiral"  # nothing loads until asked
    assert panel.load_button.text() == "Download and load"
    panel.load_button.click()
    assert panel.progress.isVisibleTo(panel) and panel.cancel_button.isVisibleTo(panel)
    qtbot.waitUntil(lambda: panel.progress.maximum() == 1000 and panel.progress.value() > 0, timeout=5000)
    assert "of 10.5 MB" in panel.progress.format()
    assert "train-images" in panel.status.text()
    assert window.training_panel.reason.text() == "The dataset is still loading."
    with qtbot.waitSignal(panel.load_finished, timeout=5000) as finished:
        panel.cancel_button.click()
    assert finished.args == [False]
    assert "cancelled" in panel.status.text() and not panel.progress.isVisibleTo(panel)
    assert window.state.dataset.name == "spiral" and not window.state.dataset_loading
    assert window.training_panel.train_button.isEnabled()


def test_a_failed_load_says_why(window, qtbot, monkeypatch, fake_dialogs):
    def broken(source, **kwargs):
        raise DatasetError("no mirror answered; place the files in /somewhere")

    monkeypatch.setattr(experiment_module, "load_dataset", broken)
    panel = window.data_panel
    panel.select_source("fashion-mnist")
    with qtbot.waitSignal(panel.load_finished, timeout=5000) as finished:
        panel.load_button.click()
    assert finished.args == [False]
    sentence = "No mirror answered; place the files in /somewhere."
    assert fake_dialogs.errors() == [("Cannot load Fashion-MNIST", sentence)]
    assert sentence in panel.status.text()
    assert "Fashion-MNIST" in window.statusBar().currentMessage()
    assert window.state.dataset.name == "spiral"


def test_offline_mnist_names_its_files_and_folder_and_offers_a_local_folder(
    window, qtbot, monkeypatch, fake_dialogs, mnist_dir
):
    monkeypatch.setitem(download_module.MIRRORS, "mnist", ["http://127.0.0.1:9/"])  # nothing listens: offline
    fake_dialogs.choose_local_after_failed_download = True
    fake_dialogs.directories.append(mnist_dir)
    panel = window.data_panel
    panel.select_source("mnist")
    with qtbot.waitSignal(panel.load_finished, timeout=20_000) as finished:
        panel.load_button.click()
    assert finished.args == [False]
    (_, title, files, folder) = next(
        args for name, args in fake_dialogs.calls if name == "ask_download_failed"
    )
    assert title == "MNIST" and folder == download_module.dataset_dir("mnist")
    assert set(files) == set(download_module.CHECKSUMS["mnist"]) and not fake_dialogs.errors()
    # "Local file or folder…" starts in that folder; the folder chosen loads at once.
    assert ("get_directory", (panel, "Open a folder of IDX files", str(folder))) in fake_dialogs.calls
    qtbot.waitUntil(lambda: window.state.dataset.name == "mnist", timeout=30_000)
    assert panel.source_combo.currentData() == LOCAL_SOURCE and panel.path_edit.text() == str(mnist_dir)


def test_the_failed_download_dialog_shows_the_folder_to_copy(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    dialog = DownloadFailedDialog(None, "MNIST", ["train-images-idx3-ubyte.gz"], tmp_path / "mnist")
    qtbot.addWidget(dialog)
    assert dialog.folder_edit.text() == str(tmp_path / "mnist") and dialog.folder_edit.isReadOnly()
    assert "train-images-idx3-ubyte.gz" in dialog.files_label.text()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == str(tmp_path / "mnist")
    dialog.local_button.click()
    assert dialog.result() == DownloadFailedDialog.DialogCode.Accepted


def test_a_missing_local_path_is_reported(window, qtbot, tmp_path):
    panel = window.data_panel
    combo = panel.source_combo
    combo.setCurrentIndex(combo.findData(LOCAL_SOURCE))
    combo.activated.emit(combo.currentIndex())
    panel.load()
    assert "Choose a file" in panel.status.text()
    panel.path_edit.setText(str(tmp_path / "nothing.npz"))
    with qtbot.waitSignal(panel.load_finished, timeout=5000) as finished:
        panel.load_button.click()
    assert finished.args == [False] and "no such file" in panel.status.text()


@pytest.mark.parametrize(
    ("widget", "value", "field", "expected"),
    [
        ("val_spin", 20, "val_fraction", 0.2),
        ("subset_spin", 300, "subset", 300),
        ("subset_spin", 0, "subset", None),
        ("train_dev_spin", 15, "train_dev_fraction", 0.15),
    ],
)
def test_preparation_settings_reach_the_state(window, widget, value, field, expected):
    panel = window.data_panel
    if value == 0:
        getattr(panel, widget).setValue(5)
    getattr(panel, widget).setValue(value)
    assert getattr(window.state.data_settings, field) == expected


def test_normalisation_and_subset_mode_reach_the_state(window):
    panel = window.data_panel
    combo = panel.normalization_combo
    combo.setCurrentIndex(combo.findData("standardize"))
    combo.activated.emit(combo.currentIndex())
    panel.subset_mode.setCurrentIndex(1)
    panel.subset_mode.activated.emit(1)
    assert window.state.data_settings.normalization == "standardize"
    assert window.state.data_settings.subset_mode == "random"
    assert window.state.prepare_data().normalizer.kind == "standardize"


def test_data_mismatch_is_made_on_images_and_the_splits_leave_data_to_train_on(window, qtbot, mnist_dir):
    panel = window.data_panel
    assert not panel.mismatch_host.isEnabled()  # the spiral holds no images
    assert "image datasets" in panel.mismatch_hint.text()
    panel.val_spin.setValue(60)
    assert panel.train_dev_spin.maximum() == 35  # validation and train-dev leave 5 % at least
    panel.train_dev_spin.setValue(35)
    assert panel.val_spin.maximum() == 60
    window.state.set_data_settings(dev_shift="noise")
    assert "holds no images to shift" in window.state.training_blocker()
    panel.select_source(str(mnist_dir))
    with qtbot.waitSignal(panel.load_finished, timeout=30_000):
        panel.load_button.click()
    assert panel.mismatch_host.isEnabled() and window.state.training_blocker() is None
    combo = panel.dev_shift_combo
    assert combo.currentData() == "noise" and panel.shift_mix_spin.isEnabled()
    preview = panel.preview  # the first test digits as the dev and test sets hold them
    assert preview.shifted.isVisibleTo(panel) and preview.shifted.count == 8
    assert preview.shifted_title.text() == "Dev and test samples (noise)"
    assert preview.shifted.captions[:3] == ["7", "2", "1"]
    combo.setCurrentIndex(combo.findData("none"))
    combo.activated.emit(combo.currentIndex())
    assert window.state.data_settings.dev_shift == "none" and not panel.shift_mix_spin.isEnabled()
    assert not preview.shifted.isVisibleTo(panel)


def _digit_folder(root, mnist_dir, per_class: int = 20):
    """A folder of real MNIST digits as PNG files, one subfolder per digit, and a file that is no image."""
    import numpy as np
    from PIL import Image

    from dllab.data.idx import load_idx_folder

    mnist = load_idx_folder(mnist_dir)
    for digit in range(10):
        folder = root / str(digit)
        folder.mkdir(parents=True)
        for i, row in enumerate(np.flatnonzero(mnist.y_test == digit)[:per_class]):
            Image.fromarray(mnist.x_test[row, 0]).save(folder / f"{i:03d}.png")
    (root / "7" / "notes.txt").write_text("not an image")
    return root


def test_an_image_folder_from_the_source_list(window, qtbot, mnist_dir, fake_dialogs, tmp_path):
    panel = window.data_panel
    root = _digit_folder(tmp_path / "my-digits", mnist_dir)
    combo = panel.source_combo
    fake_dialogs.directories.append(root)
    with qtbot.waitSignal(panel.load_finished, timeout=30_000) as finished:
        combo.setCurrentIndex(combo.findData(IMAGE_FOLDER_SOURCE))
        combo.activated.emit(combo.currentIndex())
    assert finished.args == [True]
    assert combo.currentData() == LOCAL_SOURCE and panel.image_host.isVisibleTo(panel)
    dataset = window.state.dataset
    assert dataset.input_shape == (1, 28, 28) and dataset.class_names == [str(d) for d in range(10)]
    assert len(dataset.x_train) + len(dataset.x_test) == 200
    assert window.state.layers[-1]["units"] == 10
    status = panel.status.text()
    assert "160 training and 40 test samples" in status
    assert "Skipped 1 of 201 files that are not readable images: 7/notes.txt" in status
    # A chosen size and colour are data settings, and the next load uses them.
    panel.image_size_spin.setValue(14)
    panel.image_color_combo.setCurrentIndex(panel.image_color_combo.findData("rgb"))
    panel.image_color_combo.activated.emit(panel.image_color_combo.currentIndex())
    assert window.state.data_settings.image_size == (14, 14)
    assert window.state.data_settings.image_color == "rgb"
    with qtbot.waitSignal(panel.load_finished, timeout=30_000):
        panel.load_button.click()
    assert window.state.dataset.input_shape == (3, 14, 14)


def test_reading_an_image_folder_shows_progress_and_can_be_cancelled(
    window, qtbot, monkeypatch, mnist_dir, tmp_path
):
    from dllab.data import data_root, image_cache, image_folder

    root = _digit_folder(tmp_path / "slow-digits", mnist_dir)
    real_open = image_folder._open_image

    def slow_open(file):
        threading.Event().wait(0.02)
        return real_open(file)

    monkeypatch.setattr(image_folder, "_open_image", slow_open)
    panel = window.data_panel
    panel.select_source(str(root))
    panel.load_button.click()
    qtbot.waitUntil(lambda: panel.progress.maximum() == 1000 and panel.progress.value() > 0, timeout=10_000)
    assert "Reading images (201 files)" in panel.status.text()
    with qtbot.waitSignal(panel.load_finished, timeout=10_000) as finished:
        panel.cancel_button.click()
    assert finished.args == [False]
    assert panel.status.text() == "Loading cancelled; nothing was kept."
    assert window.state.dataset.name == "spiral"
    assert not (data_root() / image_cache.CACHE_FOLDER).exists()
