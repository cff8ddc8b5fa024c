"""The Data panel: which dataset (built in, downloaded, or a local file or folder: IDX files, an image folder of
one subfolder per class, an .npz or a .csv), how it is split (validation
and train-dev), subset, normalised and augmented, whether dev and test are drawn from a shifted distribution
(data mismatch, and the share of shifted training images that remedies it), and a preview of its samples.

Local files and folders once loaded are remembered across launches (:func:`ui.common.settings.
recent_data_sources`): they follow "Local file or folder…" in the source list, the newest is offered when that
is chosen, and one click loads one again.

Loading runs in the background (:class:`ui.data.loader.DatasetLoader`) with a progress bar and Cancel. A
file or folder that cannot be loaded (damaged, foreign, missing) is told in a dialog as the engine's sentence,
and under the Load button; a bug goes to :func:`ui.common.dialogs.report_internal_error`.
When a dataset arrives the network follows it: its input shape and the units of its last Dense layer change
to fit, as one undo step (:func:`ui.commands.fit_network_to_dataset`).
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QWidget,
)

from dllab.data import DATASET_NAMES, IMAGE_COLORS, SHIFTS, Dataset, dataset_info
from dllab.data.download import DownloadError
from ui.commands import fit_network_to_dataset
from ui.common import dialogs, settings
from ui.common.formatting import bytes_text, shape_text
from ui.common.icons import action_icon
from ui.common.scroll_panel import scroll_body
from ui.common.widgets import (
    ProgressBar,
    add_section_form,
    add_section_title,
    form_host,
    hint_label,
    section_title,
)
from ui.data.loader import DatasetLoader, LoadRequest
from ui.data.sample_preview import SamplePreview
from ui.state import AppState

LOCAL_SOURCE = "__local__"
IMAGE_FOLDER_SOURCE = "__image_folder__"
#: How an image folder's images are converted, as the Data panel names it.
IMAGE_COLOR_TITLES = {"auto": "As the images are", "grayscale": "Grayscale", "rgb": "RGB"}
#: The dev shifts as the Data panel names them.
SHIFT_TITLES = {"none": "Same as training", "noise": "Noisy", "rotation": "Rotated", "invert": "Inverted"}
NORMALIZATION_TITLES = {
    "scale": "Scale to [0, 1]",
    "standardize": "Standardise (mean 0, std 1)",
    "none": "None (raw values)",
}
NORMALIZATION_HELP = {
    "scale": "Divide by 255 for images, or map each feature's training range to [0, 1].",
    "standardize": "Subtract the training mean and divide by the training standard deviation, per channel.",
    "none": "Feed the raw values; large inputs make training unstable.",
}
#: The tooltips of the shares of the training set that the data settings hold (edited in whole percentages).
FRACTION_HELP = {
    "val_fraction": "Share of the training set held out to validate on: it shows overfitting while you train. "
    "The test set stays untouched until the end.",
    "train_dev_fraction": "Share of the training set held out as the train-dev set: the training distribution, "
    "never trained on. Its error beside the validation (dev) error tells variance from data mismatch.",
    "shift_mix": "The remedy for data mismatch: give this share of the training images the dev shift, so the "
    "training data looks more like the dev data.",
}
LOCAL_FILTERS = "Datasets (*.npz *.csv);;NumPy archives (*.npz);;CSV tables (*.csv);;All files (*)"


def dataset_summary(dataset: Dataset) -> str:
    """One line about a loaded dataset: sizes, shape, classes, and what its loader noted (files skipped)."""
    parts = [
        f"{len(dataset.x_train):,} training and {len(dataset.x_test):,} test samples",
        f"each {shape_text(dataset.input_shape)}",
    ]
    if dataset.task == "classification":
        parts.append(f"{dataset.num_classes} classes")
    else:
        parts.append(f"regression with {dataset.num_outputs} target{'s' if dataset.num_outputs != 1 else ''}")
    notes = [note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".") for note in dataset.notes]
    return " ".join([", ".join(parts) + ".", *notes])


class DataPanel(QScrollArea):
    """The Data dock's content."""

    load_finished = Signal(bool)
    """A load ended: True when a dataset arrived, False when it failed or was cancelled."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.loader = DatasetLoader(self)
        body, layout = scroll_body(self)

        # Source.
        layout.addWidget(section_title("Dataset", body))
        self.source_combo = QComboBox(body)
        self._fill_sources()
        self.source_combo.activated.connect(self._on_source_combo_activated)
        layout.addWidget(self.source_combo)
        self.description = hint_label("", body)
        layout.addWidget(self.description)

        self.local_row = QWidget(body)
        local = QHBoxLayout(self.local_row)
        local.setContentsMargins(0, 0, 0, 0)
        local.setSpacing(6)
        self.path_edit = QLineEdit(self.local_row)
        self.path_edit.setPlaceholderText("An .npz or .csv file, a folder of IDX files, or an image folder")
        self.path_edit.returnPressed.connect(self._on_load_button_clicked)
        self.file_button = QToolButton(self.local_row)
        self.file_button.setIcon(action_icon("open"))
        self.file_button.setToolTip("Choose an .npz or .csv file")
        self.file_button.clicked.connect(self._on_file_button_clicked)
        self.folder_button = QToolButton(self.local_row)
        self.folder_button.setIcon(action_icon("folder"))
        self.folder_button.setToolTip(
            "Choose a folder: IDX files (MNIST layout), or images in one subfolder per class"
        )
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        local.addWidget(self.path_edit, 1)
        local.addWidget(self.file_button)
        local.addWidget(self.folder_button)
        layout.addWidget(self.local_row)

        self.image_host, image_form = form_host(body)
        self.image_color_combo = QComboBox(self.image_host)
        for color in IMAGE_COLORS:
            self.image_color_combo.addItem(IMAGE_COLOR_TITLES[color], color)
        self.image_color_combo.setToolTip(
            "An image folder's images as one grey channel or three colour channels; 'As the images are' "
            "takes grayscale when every image is grey."
        )
        self.image_color_combo.activated.connect(self._on_image_option_changed)
        self.image_size_spin = QSpinBox(self.image_host)
        self.image_size_spin.setRange(0, 512)
        self.image_size_spin.setSpecialValueText("Most common")
        self.image_size_spin.setSuffix(" px")
        self.image_size_spin.setKeyboardTracking(False)
        self.image_size_spin.setToolTip(
            "The side every image of an image folder is resized to; 'Most common' keeps the size most images "
            "have (28×28 for MNIST digits)."
        )
        self.image_size_spin.valueChanged.connect(self._on_image_option_changed)
        image_form.addRow("Image colour", self.image_color_combo)
        image_form.addRow("Image size", self.image_size_spin)
        layout.addWidget(self.image_host)

        self.generated_host, generated = form_host(body)
        self.samples_spin = QSpinBox(self.generated_host)
        self.samples_spin.setRange(20, 100_000)
        self.samples_spin.setSingleStep(100)
        self.samples_spin.setKeyboardTracking(False)
        self.samples_spin.setToolTip("Points (or images) to generate, training and test together.")
        self.noise_spin = QDoubleSpinBox(self.generated_host)
        self.noise_spin.setRange(0.0, 1.0)
        self.noise_spin.setSingleStep(0.01)
        self.noise_spin.setDecimals(3)
        self.noise_spin.setKeyboardTracking(False)
        self.noise_spin.setToolTip("Standard deviation of the noise added to every sample.")
        self.classes_spin = QSpinBox(self.generated_host)
        self.classes_spin.setRange(2, 10)
        self.classes_spin.setKeyboardTracking(False)
        self.classes_spin.setToolTip("Spiral arms or blobs: one class each.")
        self.classes_label = QLabel("Classes", self.generated_host)
        generated.addRow("Samples", self.samples_spin)
        generated.addRow("Noise", self.noise_spin)
        generated.addRow(self.classes_label, self.classes_spin)
        for spin in (self.samples_spin, self.noise_spin, self.classes_spin):
            spin.valueChanged.connect(self._on_generated_option_changed)
        layout.addWidget(self.generated_host)

        load_row = QHBoxLayout()
        load_row.setSpacing(6)
        self.load_button = QPushButton("Load", body)
        self.load_button.setObjectName("loadButton")
        self.load_button.clicked.connect(self._on_load_button_clicked)
        self.progress = ProgressBar(body)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", body)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.cancel_button.hide()
        load_row.addWidget(self.load_button)
        load_row.addWidget(self.progress, 1)
        load_row.addWidget(self.cancel_button)
        layout.addLayout(load_row)
        self.status = QLabel(body)
        self.status.setObjectName("dataStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        # Preparation.
        prep = add_section_form(layout, "Preparation", body)
        self.val_spin = self._fraction_spin(body, "val_fraction", 90)
        self.subset_spin = QSpinBox(body)
        self.subset_spin.setRange(0, 10_000_000)
        self.subset_spin.setSingleStep(1000)
        self.subset_spin.setSpecialValueText("All")
        self.subset_spin.setKeyboardTracking(False)
        self.subset_spin.setToolTip(
            "Train on only this many samples (the book's overfitting experiment uses 300)."
        )
        self.subset_mode = QComboBox(body)
        self.subset_mode.addItem("First", "first")
        self.subset_mode.addItem("Random", "random")
        self.subset_mode.setToolTip("Take the first samples, or a random (seeded) choice of them.")
        subset_row = QHBoxLayout()
        subset_row.setSpacing(6)
        subset_row.addWidget(self.subset_spin, 1)
        subset_row.addWidget(self.subset_mode, 1)
        self.normalization_combo = QComboBox(body)
        for key, title in NORMALIZATION_TITLES.items():
            self.normalization_combo.addItem(title, key)
            self.normalization_combo.setItemData(
                self.normalization_combo.count() - 1, NORMALIZATION_HELP[key], Qt.ItemDataRole.ToolTipRole
            )
        self.train_dev_spin = self._fraction_spin(body, "train_dev_fraction", 50, none="None")
        prep.addRow("Validation", self.val_spin)
        prep.addRow("Train-dev", self.train_dev_spin)
        prep.addRow("Subset", subset_row)
        prep.addRow("Normalise", self.normalization_combo)
        self.subset_spin.valueChanged.connect(lambda v: state.set_data_settings(subset=v or None))
        self.subset_mode.activated.connect(
            lambda i: state.set_data_settings(subset_mode=self.subset_mode.itemData(i))
        )
        self.normalization_combo.activated.connect(
            lambda i: state.set_data_settings(normalization=self.normalization_combo.itemData(i))
        )

        # Augmentation.
        add_section_title(layout, "Augmentation", body)
        self.augment_host, augment = form_host(body)
        self.shift_spin = QSpinBox(self.augment_host)
        self.shift_spin.setRange(0, 8)
        self.shift_spin.setSuffix(" px")
        self.shift_spin.setToolTip("Move each image by up to this many pixels in every direction.")
        self.rotation_spin = QDoubleSpinBox(self.augment_host)
        self.rotation_spin.setRange(0.0, 180.0)
        self.rotation_spin.setDecimals(0)
        self.rotation_spin.setSingleStep(5.0)
        self.rotation_spin.setSuffix("°")
        self.rotation_spin.setToolTip("Turn each image by a random angle up to this.")
        self.flip_check = QCheckBox("Mirror left-right", self.augment_host)
        self.flip_check.setToolTip("Leave off for digits and letters: a mirrored 7 is not a 7.")
        self.augment_noise_spin = QDoubleSpinBox(self.augment_host)
        self.augment_noise_spin.setRange(0.0, 100.0)
        self.augment_noise_spin.setDecimals(2)
        self.augment_noise_spin.setSingleStep(5.0)
        self.augment_noise_spin.setToolTip(
            "Standard deviation of the noise added to every pixel (0-255 scale)."
        )
        for spin in (self.shift_spin, self.rotation_spin, self.augment_noise_spin):
            spin.setKeyboardTracking(False)
        augment.addRow("Shift", self.shift_spin)
        augment.addRow("Rotation", self.rotation_spin)
        augment.addRow("Flip", self.flip_check)
        augment.addRow("Noise", self.augment_noise_spin)
        layout.addWidget(self.augment_host)
        self.augment_hint = hint_label(
            "Random changes to every training batch: more varied data, less overfitting.", body
        )
        layout.addWidget(self.augment_hint)
        self.shift_spin.valueChanged.connect(lambda v: state.set_data_settings(shift=int(v)))
        self.rotation_spin.valueChanged.connect(lambda v: state.set_data_settings(rotation=float(v)))
        self.flip_check.toggled.connect(lambda v: state.set_data_settings(flip=bool(v)))
        self.augment_noise_spin.valueChanged.connect(
            lambda v: state.set_data_settings(augment_noise=float(v))
        )

        # Distribution shift.
        add_section_title(layout, "Data mismatch", body)
        self.mismatch_host, mismatch = form_host(body)
        self.dev_shift_combo = QComboBox(self.mismatch_host)
        for key, what in SHIFTS.items():
            self.dev_shift_combo.addItem(SHIFT_TITLES[key], key)
            self.dev_shift_combo.setItemData(
                self.dev_shift_combo.count() - 1, what, Qt.ItemDataRole.ToolTipRole
            )
        self.dev_shift_combo.setToolTip(
            "Draw the validation (dev) and test images from another distribution than the training images."
        )
        self.shift_mix_spin = self._fraction_spin(self.mismatch_host, "shift_mix", 100, none="None")
        mismatch.addRow("Dev and test", self.dev_shift_combo)
        mismatch.addRow("Shifted in training", self.shift_mix_spin)
        layout.addWidget(self.mismatch_host)
        self.mismatch_hint = hint_label("", body)
        layout.addWidget(self.mismatch_hint)
        self.dev_shift_combo.activated.connect(
            lambda i: state.set_data_settings(dev_shift=self.dev_shift_combo.itemData(i))
        )

        # Preview.
        add_section_title(layout, "Preview", body)
        self.preview = SamplePreview(columns=8, rows=4, parent=body)
        layout.addWidget(self.preview)
        layout.addStretch(1)

        self.loader.load_started.connect(self._on_loader_load_started)
        self.loader.progressed.connect(self._on_loader_progressed)
        self.loader.loaded.connect(self._on_loader_loaded)
        self.loader.failed.connect(self._on_loader_failed)
        self.loader.cancelled.connect(self._on_loader_cancelled)
        state.data_settings_changed.connect(self._on_state_data_settings_changed)
        state.dataset_changed.connect(self._on_state_dataset_changed)
        state.data_reload_requested.connect(self._on_state_data_reload_requested)
        self._show_settings()
        self._show_source_controls()

    # --- public -----------------------------------------------------------------------------------------------

    def select_source(self, source: str) -> None:
        """Choose a built-in name or a path (as if picked in the combo box) and load it when that is cheap
        (generated sets); a download or a local file waits for Load."""
        if source in DATASET_NAMES:
            self._set_source(source)
            if dataset_info(source).kind != "download":
                self.load()
        else:
            self._set_source(source)
            self.path_edit.setText(source)

    def load(self, *, fit_network: bool = True) -> None:
        """Load the chosen source with its settings (2D sets at once, everything else in the background)."""
        settings = self._state.data_settings
        source = settings.source
        if self._is_local():
            text = self.path_edit.text().strip()
            if not text:
                self.status.setText("Choose a file or a folder first.")
                return
            source = text
            self._state.set_data_settings(source=text)
        generated = source in DATASET_NAMES and dataset_info(source).kind != "download"
        loading = dataclasses.replace(
            settings,
            dataset=source,
            n_samples=settings.n_samples if generated else None,
            noise=settings.noise if generated else None,
            n_classes=settings.n_classes if generated and dataset_info(source).variable_classes else None,
        )
        request = LoadRequest(loading, fit_network=fit_network)
        if source in DATASET_NAMES and dataset_info(source).kind == "2d":
            self.loader.load_now(request)
        else:
            self.loader.load(request)

    def load_from_settings(self) -> None:
        """Show the state's data source as it stands (an opened run or design set it, with how a generated set
        is made) and load it, keeping the network as it is."""
        source = self._state.data_settings.source
        with QSignalBlocker(self.source_combo):
            self.source_combo.setCurrentIndex(
                self.source_combo.findData(source if source in DATASET_NAMES else LOCAL_SOURCE)
            )
        if source not in DATASET_NAMES:
            self.path_edit.setText(source)
        self._show_settings()
        self._show_source_controls()
        self.load(fit_network=False)

    def _on_state_data_reload_requested(self) -> None:
        self.load_from_settings()

    def shutdown(self) -> None:
        """Stop any load in progress (the window is closing)."""
        self.loader.shutdown()

    # --- sources --------------------------------------------------------------------------------------------

    def _fill_sources(self) -> None:
        groups = {"2d": [], "generated-images": [], "download": []}
        for name in DATASET_NAMES:
            groups.setdefault(dataset_info(name).kind, []).append(name)
        first = True
        for kind in ("2d", "generated-images", "download"):
            if not groups.get(kind):
                continue
            if not first:
                self.source_combo.insertSeparator(self.source_combo.count())
            first = False
            for name in groups[kind]:
                info = dataset_info(name)
                suffix = " (download)" if kind == "download" else ""
                self.source_combo.addItem(info.title + suffix, name)
                self.source_combo.setItemData(
                    self.source_combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole
                )
        self.source_combo.insertSeparator(self.source_combo.count())
        self.source_combo.addItem("Local file or folder…", LOCAL_SOURCE)
        self.source_combo.addItem("Image folder…", IMAGE_FOLDER_SOURCE)
        self.source_combo.setItemData(
            self.source_combo.count() - 1,
            "A folder of images, one subfolder per class (PNG, JPEG, BMP or GIF)",
            Qt.ItemDataRole.ToolTipRole,
        )
        self._local_rows = self.source_combo.count()
        self._show_recent_sources()

    def _show_recent_sources(self) -> None:
        """The local data files and folders loaded lately, after "Local file or folder…"."""
        combo = self.source_combo
        with QSignalBlocker(combo):
            current = combo.currentIndex()
            while combo.count() > self._local_rows:
                combo.removeItem(combo.count() - 1)
            for path in settings.recent_data_sources():
                combo.addItem(f"    {path.name} ({path.parent})", str(path))
                combo.setItemData(combo.count() - 1, f"Load {path} again", Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(min(current, combo.count() - 1))

    def _is_local(self) -> bool:
        return self.source_combo.currentData() == LOCAL_SOURCE

    def _set_source(self, source: str) -> None:
        with QSignalBlocker(self.source_combo):
            row = self.source_combo.findData(source if source in DATASET_NAMES else LOCAL_SOURCE)
            self.source_combo.setCurrentIndex(row)
        if source in DATASET_NAMES:
            info = dataset_info(source)
            self._state.set_data_settings(
                source=source,
                n_samples=info.default_samples,
                noise=info.default_noise,
                n_classes=info.num_classes if info.variable_classes else None,
            )
        else:
            self._state.set_data_settings(source=source, n_samples=None, noise=None, n_classes=None)
        self._show_settings()
        self._show_source_controls()

    def _on_source_combo_activated(self, row: int) -> None:
        source = self.source_combo.itemData(row)
        if source == IMAGE_FOLDER_SOURCE:
            with QSignalBlocker(self.source_combo):
                self.source_combo.setCurrentIndex(self.source_combo.findData(LOCAL_SOURCE))
            self._show_source_controls()
            self.choose_image_folder()
            return
        if source == LOCAL_SOURCE:
            recent = settings.recent_data_sources()
            if not self.path_edit.text().strip() and recent:
                self.path_edit.setText(str(recent[0]))  # the folder chosen last time, at any launch
            self._show_source_controls()
            self.path_edit.setFocus()
            return
        self.select_source(source)
        if source not in DATASET_NAMES:  # a recent local source: load it again at once
            self.load()

    def _show_source_controls(self) -> None:
        local = self._is_local()
        source = self._state.data_settings.source
        info = dataset_info(source) if not local and source in DATASET_NAMES else None
        self.local_row.setVisible(local)
        self.image_host.setVisible(local)
        self.generated_host.setVisible(info is not None and info.default_samples is not None)
        variable = info is not None and info.variable_classes
        self.classes_spin.setVisible(variable)
        self.classes_label.setVisible(variable)
        if local:
            self.description.setText(
                "A folder of MNIST-style IDX files, an image folder (one subfolder of PNG, JPEG, BMP or GIF "
                "files per class, optionally inside train/ and test/), an .npz archive with x_train, y_train "
                "(and x_test, y_test), or a .csv table with a label column."
            )
            self.load_button.setText("Load")
        elif info is not None:
            self.description.setText(info.description[:1].upper() + info.description[1:] + ".")
            self.load_button.setText("Download and load" if info.kind == "download" else "Reload")
        busy = self.loader.busy
        self.load_button.setEnabled(not busy)

    def _on_generated_option_changed(self) -> None:
        settings = self._state.data_settings
        info = dataset_info(settings.source) if settings.source in DATASET_NAMES else None
        if info is None or info.default_samples is None:
            return
        self._state.set_data_settings(
            n_samples=self.samples_spin.value(),
            noise=round(self.noise_spin.value(), 6),
            n_classes=self.classes_spin.value() if info.variable_classes else None,
        )
        self.load()

    def choose_local(self, start: Path) -> None:
        """Switch to "Local file or folder…" and ask for a folder, starting in ``start``; load what is chosen."""
        with QSignalBlocker(self.source_combo):
            self.source_combo.setCurrentIndex(self.source_combo.findData(LOCAL_SOURCE))
        self._show_source_controls()
        path = dialogs.get_directory(self, "Open a folder of IDX files", str(start))
        if path is not None:
            self.path_edit.setText(str(path))
            self.load()

    def _on_file_button_clicked(self) -> None:
        path = dialogs.get_open_path(self, "Open a dataset file", self._start_dir(), LOCAL_FILTERS)
        if path is not None:
            self.path_edit.setText(str(path))
            self.load()

    def _on_folder_button_clicked(self) -> None:
        path = dialogs.get_directory(self, "Open a folder of IDX files or of images", self._start_dir())
        if path is not None:
            self.path_edit.setText(str(path))
            self.load()

    def choose_image_folder(self) -> None:
        """Ask for an image folder (one subfolder per class) and load it."""
        path = dialogs.get_directory(
            self, "Open an image folder (one subfolder per class)", self._start_dir()
        )
        if path is not None:
            self.path_edit.setText(str(path))
            self.load()

    def _on_image_option_changed(self) -> None:
        side = self.image_size_spin.value()
        self._state.set_data_settings(
            image_color=self.image_color_combo.currentData(), image_size=(side, side) if side else None
        )

    def _start_dir(self) -> str:
        text = self.path_edit.text().strip()
        if text:
            return str(Path(text).parent)
        recent = settings.recent_data_sources()
        return str(recent[0].parent) if recent else str(Path.home())

    # --- loading --------------------------------------------------------------------------------------------

    def _on_load_button_clicked(self) -> None:
        self.load()

    def _on_cancel_button_clicked(self) -> None:
        self.loader.cancel()
        self.status.setText("Cancelling…")

    def _on_loader_load_started(self, request: LoadRequest) -> None:
        self._state.set_dataset_loading(True)
        self.load_button.setEnabled(False)
        background = request.source not in DATASET_NAMES or dataset_info(request.source).kind != "2d"
        if background:
            self.progress.setRange(0, 0)
            self.progress.setFormat("Loading…")
            self.progress.show()
            self.cancel_button.show()
            self.status.setText(f"Loading {_source_title(request.source)}…")

    def _on_loader_progressed(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{bytes_text(done)} of {bytes_text(total)}")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(bytes_text(done))
        if message:
            self.status.setText(message)

    def _end_loading(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.load_button.setEnabled(True)
        self._state.set_dataset_loading(False)

    def _on_loader_loaded(self, request: LoadRequest, dataset: Dataset) -> None:
        self._end_loading()
        if request.source not in DATASET_NAMES:
            settings.add_recent_data_source(Path(request.source))
            self._show_recent_sources()
        self._state.set_dataset(dataset)
        if request.fit_network:
            fit_network_to_dataset(self._state)
        self.load_finished.emit(True)

    def _on_loader_failed(self, request: LoadRequest, error: Exception) -> None:
        self._end_loading()
        title = _source_title(request.source)
        if isinstance(error, DownloadError) and error.missing and error.folder is not None:
            message = dialogs.error_sentence(error)
            if dialogs.ask_download_failed(self, title, error.missing, error.folder):
                self.choose_local(error.folder)
        elif isinstance(error, dialogs.USER_ERRORS):
            message = dialogs.error_sentence(error)
            dialogs.show_error(self, f"Cannot load {title}", message)
        else:
            message = "dllab hit an internal error; nothing was loaded."
            dialogs.report_internal_error(error)
        self.status.setText(
            f"<span style='color:#cf222e'>Could not load: {html.escape(message, quote=False)}</span>"
        )
        self._state.post_message(f"Could not load {title}: {message}")
        self.load_finished.emit(False)

    def _on_loader_cancelled(self, request: LoadRequest) -> None:
        self._end_loading()
        self.status.setText("Loading cancelled; nothing was kept.")
        self._state.post_message(f"Loading {_source_title(request.source)} was cancelled.")
        self.load_finished.emit(False)

    def _fraction_spin(self, parent: QWidget, field: str, maximum: int, *, none: str = "") -> QSpinBox:
        """A spin box of whole percentages from 0 to ``maximum`` (0 reads ``none`` when given) that sets the
        data settings' share ``field`` (:data:`FRACTION_HELP`)."""
        spin = QSpinBox(parent)
        spin.setRange(0, maximum)
        spin.setSuffix(" %")
        spin.setSpecialValueText(none)
        spin.setKeyboardTracking(False)
        spin.setToolTip(FRACTION_HELP[field])
        spin.valueChanged.connect(lambda v: self._state.set_data_settings(**{field: v / 100}))
        return spin

    # --- showing the state ------------------------------------------------------------------------------------

    def _show_settings(self) -> None:
        s = self._state.data_settings
        pairs = (
            (self.samples_spin, s.n_samples or 0),
            (self.noise_spin, s.noise or 0.0),
            (self.classes_spin, s.n_classes or 3),
            (self.val_spin, round(s.val_fraction * 100)),
            (self.train_dev_spin, round(s.train_dev_fraction * 100)),
            (self.shift_mix_spin, round(s.shift_mix * 100)),
            (self.subset_spin, s.subset or 0),
            (self.shift_spin, s.shift),
            (self.rotation_spin, s.rotation),
            (self.augment_noise_spin, s.augment_noise),
        )
        for spin, value in pairs:
            with QSignalBlocker(spin):
                # Validation and train-dev together leave at least 5 % of the samples to train on.
                if spin is self.val_spin:
                    spin.setMaximum(min(90, 95 - round(s.train_dev_fraction * 100)))
                elif spin is self.train_dev_spin:
                    spin.setMaximum(min(50, 95 - round(s.val_fraction * 100)))
                spin.setValue(value)
        with QSignalBlocker(self.flip_check):
            self.flip_check.setChecked(s.flip)
        with QSignalBlocker(self.image_size_spin):
            self.image_size_spin.setValue(s.image_size[0] if s.image_size else 0)
        self.shift_mix_spin.setEnabled(s.dev_shift != "none")
        for combo, value in (
            (self.subset_mode, s.subset_mode),
            (self.normalization_combo, s.normalization),
            (self.dev_shift_combo, s.dev_shift),
            (self.image_color_combo, s.image_color),
        ):
            with QSignalBlocker(combo):
                combo.setCurrentIndex(max(0, combo.findData(value)))

    def _on_state_data_settings_changed(self) -> None:
        self._show_settings()
        self._show_preview()

    def _on_state_dataset_changed(self) -> None:
        dataset = self._state.dataset
        if dataset is not None:
            self.status.setText(dataset_summary(dataset))
        self._show_source_controls()
        self._show_preview()

    def _show_preview(self) -> None:
        dataset = self._state.dataset
        image = dataset is not None and dataset.is_image
        self.augment_host.setEnabled(image)
        self.augment_hint.setText(
            "Random changes to every training batch: more varied data, less overfitting."
            if image
            else "Augmentation applies to image datasets."
        )
        self.mismatch_host.setEnabled(image)
        self.mismatch_hint.setText(
            "Train on one distribution, validate and test on another; a train-dev split tells the mismatch "
            "from variance."
            if image
            else "Data mismatch is made on image datasets."
        )
        try:
            augmenter = self._state.make_augmenter()
        except ValueError:
            augmenter = None
        self.preview.show_dataset(dataset, augmenter, dev_shift=self._state.data_settings.dev_shift)


def _source_title(source: str) -> str:
    return dataset_info(source).title if source in DATASET_NAMES else Path(source).name or source
