"""The app state: the network being designed, the data and training settings, the current model.

One :class:`AppState` per window. Panels read it and subscribe to its signals; they never change it
directly but push undo commands (:mod:`ui.commands`) onto :attr:`AppState.undo_stack`, and the commands call
the edit methods here (``insert_layer``, ``remove_layer``, ``move_layer``, ...). Every edit re-analyses the
spec with the engine (:func:`dllab.analyze`), so shapes, parameter counts and the reason a network cannot be
built always come from the engine and never from the UI.

The network is a plain dict in the engine's spec format (``dllab.network/1``); it is what gets saved.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

import dllab
from dllab import optimizers, runs, schedules
from dllab.data import Augmenter, Dataset, DatasetError, PreparedData, prepare, reshape_for
from dllab.spec import DESIGN_FORMAT, FORMAT, LAYER_TYPES, Analysis
from dllab.trainer import TrainingConfig
from ui.formatting import shape_text, spec_error_text

#: The network the app starts with when the example file is missing: a small MLP for the 2D spiral.
DEFAULT_SPEC: dict[str, Any] = {
    "format": FORMAT,
    "name": "SpiralMLP",
    "description": "A small MLP for the 2D sets: two hidden layers of 32 ReLU units.",
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 32, "init": "he"},
        {"type": "ReLU"},
        {"type": "Dense", "units": 32, "init": "he"},
        {"type": "ReLU"},
        {"type": "Dense", "units": 3, "init": "xavier"},
    ],
    "loss": "softmax_cross_entropy",
}

NETWORK_KEYS = ("name", "description", "input_shape", "loss")


def default_layer(type_name: str) -> dict[str, Any]:
    """A new layer of ``type_name`` with every setting at its default, written out (as a saved file shows)."""
    cls = LAYER_TYPES[type_name]
    return {"type": type_name, **{s.name: copy.deepcopy(s.default) for s in cls.SETTINGS}}


@dataclass(frozen=True)
class DataSettings:
    """What to load and how to prepare it (see :func:`dllab.data.load_dataset` and :func:`dllab.data.prepare`).

    ``source`` is a built-in name (``"spiral"``, ``"mnist"``, ...) or the path of a local file or folder.
    """

    source: str = "spiral"
    n_samples: int | None = None
    noise: float | None = None
    n_classes: int | None = None
    seed: int = 0
    val_fraction: float = 0.1
    subset: int | None = None
    subset_mode: str = "first"
    normalization: str = "scale"
    shift: int = 0
    rotation: float = 0.0
    flip: bool = False
    augment_noise: float = 0.0

    @property
    def augmentation_enabled(self) -> bool:
        """Whether any augmentation is switched on."""
        return bool(self.shift or self.rotation or self.flip or self.augment_noise)


def _default_optimizer_params() -> dict[str, dict[str, float | None]]:
    params = {name: {s.name: s.default for s in cls.SETTINGS} for name, cls in optimizers.OPTIMIZERS.items()}
    params["adam"]["lr"] = 0.01  # the spiral example learns in seconds with this
    return params


def _default_schedule_params() -> dict[str, dict[str, float | None]]:
    return {name: {s.name: s.default for s in cls.SETTINGS} for name, cls in schedules.SCHEDULES.items()}


@dataclass(frozen=True)
class TrainingSettings:
    """The optimizer, its hyperparameters (remembered per optimizer), the schedule, batch size, epochs, seed."""

    optimizer: str = "adam"
    optimizer_params: dict[str, dict[str, float | None]] = field(default_factory=_default_optimizer_params)
    schedule: str = "constant"
    schedule_params: dict[str, dict[str, float | None]] = field(default_factory=_default_schedule_params)
    batch_size: int = 32
    epochs: int = 50
    seed: int = 0

    @property
    def hyperparameters(self) -> dict[str, float | None]:
        """The chosen optimizer's hyperparameters (``lr`` included)."""
        return dict(self.optimizer_params.get(self.optimizer, {}))

    @property
    def lr(self) -> float:
        """The base learning rate."""
        return float(self.hyperparameters.get("lr") or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable settings (what a run records)."""
        return {
            "optimizer": {"type": self.optimizer, **self.hyperparameters},
            "schedule": {"type": self.schedule, **self.schedule_params.get(self.schedule, {})},
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "seed": self.seed,
        }

    def to_design(self) -> dict[str, Any]:
        """Everything, for a design file: the chosen optimizer and schedule and the values remembered for
        every optimizer and schedule."""
        return {
            "optimizer": self.optimizer,
            "optimizer_params": copy.deepcopy(self.optimizer_params),
            "schedule": self.schedule,
            "schedule_params": copy.deepcopy(self.schedule_params),
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "seed": self.seed,
        }

    @classmethod
    def from_design(cls, values: Any) -> TrainingSettings:
        """Settings from :meth:`to_design`'s output; unknown names and invalid values fall back to defaults."""
        base = cls()
        if not isinstance(values, dict):
            return base
        changes: dict[str, Any] = {}
        for key, registry in (("optimizer", optimizers.OPTIMIZERS), ("schedule", schedules.SCHEDULES)):
            name = values.get(key)
            if isinstance(name, str) and name in registry:
                changes[key] = name
        for key, registry, defaults in (
            ("optimizer_params", optimizers.OPTIMIZERS, base.optimizer_params),
            ("schedule_params", schedules.SCHEDULES, base.schedule_params),
        ):
            given = values.get(key)
            merged = copy.deepcopy(defaults)
            if isinstance(given, dict):
                for name, params in given.items():
                    if name not in registry or not isinstance(params, dict):
                        continue
                    known = {s.name for s in registry[name].SETTINGS}
                    for hyper, value in params.items():
                        if hyper in known and (value is None or _is_number(value)):
                            merged[name][hyper] = value
            changes[key] = merged
        for key, minimum in (("batch_size", 1), ("epochs", 1), ("seed", 0)):
            value = values.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
                changes[key] = value
        return replace(base, **changes)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _valid_data_value(key: str, value: Any) -> bool:
    """Whether ``value`` is acceptable for the data setting ``key`` (of :data:`DESIGN_DATA_KEYS`)."""
    if key == "val_fraction":
        return _is_number(value) and 0 <= value < 1
    if key == "subset":
        return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)
    if key == "subset_mode":
        return value in ("first", "random")
    if key == "normalization":
        return value in ("none", "scale", "standardize")
    if key == "shift":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if key == "flip":
        return isinstance(value, bool)
    return _is_number(value) and value >= 0  # rotation, augment_noise


#: The data settings a design file keeps: how the data are prepared, not where they come from.
DESIGN_DATA_KEYS = (
    "val_fraction",
    "subset",
    "subset_mode",
    "normalization",
    "shift",
    "rotation",
    "flip",
    "augment_noise",
)

#: Why the network cannot be edited while it trains.
LOCKED_REASON = "The network is locked while it trains: stop training to change it."


def fit_spec_to_dataset(spec: dict[str, Any], dataset: Dataset) -> tuple[dict[str, Any], list[str]]:
    """The spec changed so that it takes ``dataset``'s samples and ends in as many outputs as it needs.

    The input keeps its kind: a flat input (an MLP) becomes the flattened sample size, an image input (a CNN)
    takes the image shape when the data are images. The last Dense layer gets one unit per class (or per
    regression target; one unit for two classes under the sigmoid loss), and a regression dataset gets the
    mean-squared-error loss. Returns the new spec and a list of what changed (empty: it already fits).
    """
    new = copy.deepcopy(spec)
    changes: list[str] = []
    data_shape = tuple(int(d) for d in dataset.input_shape)
    current = tuple(spec.get("input_shape") or ())
    want = data_shape if len(current) == 3 and len(data_shape) == 3 else (math.prod(data_shape),)
    if current != want:
        new["input_shape"] = list(want)
        changes.append(f"input shape {shape_text(want)}")
    loss = new.get("loss", "softmax_cross_entropy")
    if dataset.task == "regression" and loss != "mse":
        new["loss"] = loss = "mse"
        changes.append("mean squared error loss")
    outputs = dataset.num_outputs
    if loss == "sigmoid_binary_cross_entropy" and dataset.num_classes == 2:
        outputs = 1
    layers = new.get("layers") or []
    last_dense = next((i for i in range(len(layers) - 1, -1, -1) if layers[i].get("type") == "Dense"), None)
    if outputs > 0 and last_dense is not None and layers[last_dense].get("units") != outputs:
        layers[last_dense]["units"] = outputs
        changes.append(f"last Dense layer {outputs} units")
    return new, changes


class GuardedUndoStack(QUndoStack):
    """The design's undo stack; while a run trains, new edits are refused and the reason is posted."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self._state = state

    def push(self, command: Any) -> None:
        reason = self._state.edit_blocker()
        if reason is not None:
            self._state.post_message(reason)
            return
        super().push(command)


class AppState(QObject):
    """Everything one window works on; emits a signal after each change.

    Parameters
    ----------
    spec : dict, optional
        The starting network (default :data:`DEFAULT_SPEC`).
    """

    network_changed = Signal()
    current_layer_changed = Signal(int)
    document_changed = Signal()
    dirty_changed = Signal(bool)
    data_settings_changed = Signal()
    dataset_changed = Signal()
    dataset_loading_changed = Signal(bool)
    training_settings_changed = Signal()
    model_changed = Signal()
    readiness_changed = Signal()
    training_active_changed = Signal(bool)
    train_requested = Signal()
    stop_requested = Signal()
    message_posted = Signal(str)

    def __init__(self, spec: dict[str, Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack: QUndoStack = GuardedUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)
        self._spec: dict[str, Any] = copy.deepcopy(spec if spec is not None else DEFAULT_SPEC)
        self._analysis: Analysis = dllab.analyze(self._spec)
        self._current_layer = -1
        self._file_path: Path | None = None
        self._unsaved_outside_undo = False
        self._data = DataSettings()
        self._dataset: Dataset | None = None
        self._dataset_loading = False
        self._training = TrainingSettings()
        self._training_active = False
        self._model: Any = None

    # --- the document --------------------------------------------------------------------------------------

    @property
    def spec(self) -> dict[str, Any]:
        """The current network spec. Read it; change it only through undo commands."""
        return self._spec

    def spec_copy(self) -> dict[str, Any]:
        """A deep copy of the spec, safe to keep or change."""
        return copy.deepcopy(self._spec)

    @property
    def analysis(self) -> Analysis:
        """The engine's analysis of the spec: per-layer shapes and counts, and the first error."""
        return self._analysis

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The spec's layer entries (read only)."""
        layers = self._spec.get("layers")
        return layers if isinstance(layers, list) else []

    def layer(self, index: int) -> dict[str, Any]:
        """A copy of the layer entry at ``index``."""
        return copy.deepcopy(self.layers[index])

    @property
    def file_path(self) -> Path | None:
        """The network file the design was opened from or saved to (None: never saved)."""
        return self._file_path

    @property
    def document_name(self) -> str:
        """The file name, or the network's name for a design never saved."""
        if self._file_path is not None:
            return self._file_path.name
        return str(self._spec.get("name") or "Untitled")

    @property
    def is_dirty(self) -> bool:
        """Whether the design has changes that are not saved."""
        return self._unsaved_outside_undo or not self.undo_stack.isClean()

    def edit_blocker(self) -> str | None:
        """Why the design cannot be changed now (a run is training), or None."""
        return LOCKED_REASON if self._training_active else None

    def load_network(self, spec: dict[str, Any], path: Path | None = None, *, dirty: bool = False) -> None:
        """Replace the design (New, Open, an example, a recovered autosave); clears undo history.

        ``dirty`` marks it as unsaved (a recovered autosave is).
        """
        self._spec = copy.deepcopy(spec)
        self._file_path = Path(path) if path is not None else None
        self._unsaved_outside_undo = dirty
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._network_edited()
        self.set_current_layer(-1)
        self.document_changed.emit()
        self.dirty_changed.emit(self.is_dirty)

    def network_json(self) -> str:
        """The spec as the text of a network file."""
        return json.dumps(self._spec, indent=2) + "\n"

    def design_document(self) -> dict[str, Any]:
        """The design as a file holds it: the network, how the data are prepared and the training settings.

        Format ``dllab.design/1`` (:data:`dllab.spec.DESIGN_FORMAT`); the engine reads its ``"network"`` wherever
        it reads a network file, so ``dllab train design.json --data ...`` works on it.
        """
        data = {key: getattr(self._data, key) for key in DESIGN_DATA_KEYS}
        data["source"] = self._data.source
        return {
            "format": DESIGN_FORMAT,
            "network": copy.deepcopy(self._spec),
            "data": data,
            "training": self._training.to_design(),
        }

    def design_json(self) -> str:
        """The text of a design file."""
        return json.dumps(self.design_document(), indent=2) + "\n"

    def apply_design_settings(self, document: dict[str, Any]) -> None:
        """Take the training settings and the data preparation settings of a design file's document.

        The data source is not changed (loading is the Data panel's job); invalid values are ignored.
        """
        self._training = TrainingSettings.from_design(document.get("training"))
        self.training_settings_changed.emit()
        data = document.get("data")
        if isinstance(data, dict):
            self.set_data_settings(
                **{
                    key: data[key]
                    for key in DESIGN_DATA_KEYS
                    if key in data and _valid_data_value(key, data[key])
                }
            )

    def mark_saved(self, path: Path) -> None:
        """Record that the design was written to ``path``."""
        self._file_path = Path(path)
        self._unsaved_outside_undo = False
        self.undo_stack.setClean()
        self.document_changed.emit()
        self.dirty_changed.emit(self.is_dirty)

    # --- edits (called by undo commands) ------------------------------------------------------------------

    def insert_layer(self, index: int, layer: dict[str, Any]) -> None:
        """Insert a layer entry before ``index`` (``index == len(layers)`` appends)."""
        layers = self._ensure_layers()
        if not 0 <= index <= len(layers):
            raise IndexError(f"cannot insert at {index} into {len(layers)} layers")
        layers.insert(index, copy.deepcopy(layer))
        self._network_edited()

    def remove_layer(self, index: int) -> dict[str, Any]:
        """Remove the layer at ``index`` and return its entry."""
        removed = self._ensure_layers().pop(index)
        self._network_edited()
        return removed

    def move_layer(self, source: int, target: int) -> None:
        """Move the layer at ``source`` so that it ends up at index ``target``."""
        layers = self._ensure_layers()
        if not (0 <= source < len(layers) and 0 <= target < len(layers)):
            raise IndexError(f"cannot move layer {source} to {target} among {len(layers)} layers")
        layers.insert(target, layers.pop(source))
        self._network_edited()

    def replace_layer(self, index: int, layer: dict[str, Any]) -> dict[str, Any]:
        """Put ``layer`` in place of the entry at ``index`` and return the old entry."""
        layers = self._ensure_layers()
        old = layers[index]
        layers[index] = copy.deepcopy(layer)
        self._network_edited()
        return old

    def set_layer_option(self, index: int, key: str, value: Any) -> None:
        """Set one setting of a layer (``value`` None removes it, so the default applies)."""
        layer = self._ensure_layers()[index]
        if value is None:
            layer.pop(key, None)
        else:
            layer[key] = copy.deepcopy(value)
        self._network_edited()

    def set_network_option(self, key: str, value: Any) -> None:
        """Set a network-level key: ``name``, ``description``, ``input_shape`` or ``loss`` (None removes)."""
        if key not in NETWORK_KEYS:
            raise KeyError(f"{key!r} is not a network setting ({', '.join(NETWORK_KEYS)})")
        if value is None:
            self._spec.pop(key, None)
        else:
            self._spec[key] = copy.deepcopy(value)
        self._network_edited()
        if key == "name":
            self.document_changed.emit()

    def replace_spec(self, spec: dict[str, Any]) -> None:
        """Replace the whole spec as one edit (fitting the network to a dataset)."""
        self._spec = copy.deepcopy(spec)
        self._network_edited()
        self.document_changed.emit()

    def _ensure_layers(self) -> list[dict[str, Any]]:
        layers = self._spec.get("layers")
        if not isinstance(layers, list):
            layers = self._spec["layers"] = []
        return layers

    def _network_edited(self) -> None:
        self._analysis = dllab.analyze(self._spec)
        if self._current_layer >= len(self.layers):
            self._current_layer = len(self.layers) - 1
            self.current_layer_changed.emit(self._current_layer)
        self.network_changed.emit()
        self.readiness_changed.emit()

    def _on_undo_stack_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(self.is_dirty)

    # --- selection ------------------------------------------------------------------------------------------

    @property
    def current_layer(self) -> int:
        """Index of the selected layer, -1 for none."""
        return self._current_layer

    def set_current_layer(self, index: int) -> None:
        """Select the layer at ``index`` (-1 or out of range: none)."""
        index = index if 0 <= index < len(self.layers) else -1
        if index != self._current_layer:
            self._current_layer = index
            self.current_layer_changed.emit(index)

    # --- data -----------------------------------------------------------------------------------------------

    @property
    def data_settings(self) -> DataSettings:
        """What to load and how to prepare it."""
        return self._data

    def set_data_settings(self, **changes: Any) -> None:
        """Change some data settings (names of :class:`DataSettings` fields)."""
        known = {f.name for f in fields(DataSettings)}
        unknown = set(changes) - known
        if unknown:
            raise KeyError(f"unknown data settings: {', '.join(sorted(unknown))}")
        new = replace(self._data, **changes)
        if new != self._data:
            self._data = new
            self.data_settings_changed.emit()

    @property
    def dataset(self) -> Dataset | None:
        """The loaded dataset (raw, before preparation), or None."""
        return self._dataset

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Make ``dataset`` the current one (loading is done elsewhere, off the GUI thread)."""
        self._dataset = dataset
        self.dataset_changed.emit()
        self.readiness_changed.emit()

    @property
    def dataset_loading(self) -> bool:
        """Whether a dataset is being loaded or downloaded."""
        return self._dataset_loading

    def set_dataset_loading(self, loading: bool) -> None:
        """Record that a load started or ended."""
        if loading != self._dataset_loading:
            self._dataset_loading = loading
            self.dataset_loading_changed.emit(loading)
            self.readiness_changed.emit()

    def fit_network_to_dataset(self) -> list[str]:
        """Change the input shape and output units to fit the dataset, as one undo step; returns the changes.

        Says what changed in a status message.
        """
        from ui.commands import ReplaceSpecCommand  # the commands module imports this one

        if self._dataset is None:
            return []
        new, changes = fit_spec_to_dataset(self._spec, self._dataset)
        if changes:
            title = self.dataset_title()
            self.undo_stack.push(ReplaceSpecCommand(self, new, f"Fit network to {title}"))
            self.message_posted.emit(
                f"Fitted the network to {title}: {', '.join(changes)}. Edit ▸ Undo reverts it."
            )
        return changes

    def dataset_title(self) -> str:
        """Display name of the loaded dataset (or of the chosen source)."""
        from dllab.data import DATASET_NAMES, dataset_info

        name = self._dataset.name if self._dataset is not None else self._data.source
        if name in DATASET_NAMES:
            return dataset_info(name).title
        return Path(name).name or name

    def prepare_data(self) -> PreparedData:
        """The loaded dataset subset, split, normalised and shaped for the network (for the trainer)."""
        if self._dataset is None:
            raise DatasetError("no dataset is loaded")
        d = self._data
        return prepare(
            self._dataset,
            input_shape=tuple(self._spec["input_shape"]),
            val_fraction=d.val_fraction,
            subset=d.subset,
            subset_mode=d.subset_mode,
            normalization=d.normalization,
            seed=d.seed,
        )

    def make_augmenter(self) -> Augmenter | None:
        """The augmentation to apply to training batches, or None (off, or not image data)."""
        d = self._data
        if self._dataset is None or not self._dataset.is_image or not d.augmentation_enabled:
            return None
        return Augmenter(
            shift=d.shift,
            rotation=d.rotation,
            flip=d.flip,
            noise=d.augment_noise,
            image_shape=self._dataset.input_shape,
        )

    # --- training -------------------------------------------------------------------------------------------

    @property
    def training(self) -> TrainingSettings:
        """Optimizer, schedule, batch size, epochs, seed."""
        return self._training

    def set_training_settings(self, **changes: Any) -> None:
        """Change some training settings (names of :class:`TrainingSettings` fields).

        They are saved with the design, so a change makes the design unsaved.
        """
        new = replace(self._training, **changes)
        if new != self._training:
            self._training = new
            was_dirty = self.is_dirty
            self._unsaved_outside_undo = True
            self.training_settings_changed.emit()
            if not was_dirty:
                self.dirty_changed.emit(True)

    def set_hyperparameter(self, name: str, value: float | None) -> None:
        """Set one hyperparameter of the chosen optimizer."""
        params = copy.deepcopy(self._training.optimizer_params)
        params.setdefault(self._training.optimizer, {})[name] = value
        self.set_training_settings(optimizer_params=params)

    def set_schedule_parameter(self, name: str, value: float | None) -> None:
        """Set one parameter of the chosen learning-rate schedule."""
        params = copy.deepcopy(self._training.schedule_params)
        params.setdefault(self._training.schedule, {})[name] = value
        self.set_training_settings(schedule_params=params)

    def make_optimizer(self) -> optimizers.Optimizer:
        """A fresh optimizer with the chosen hyperparameters (raises ``ValueError`` for invalid values)."""
        return optimizers.get(self._training.optimizer, **self._training.hyperparameters)

    def make_schedule(self) -> schedules.Schedule:
        """The chosen learning-rate schedule."""
        t = self._training
        return schedules.get(t.schedule, **t.schedule_params.get(t.schedule, {}))

    def training_config(self) -> TrainingConfig:
        """The engine's training config for these settings (raises ``ValueError`` for invalid values)."""
        t = self._training
        options = {k: v for k, v in t.hyperparameters.items() if v is not None}
        default_lr = next(s.default for s in optimizers.OPTIMIZERS[t.optimizer].SETTINGS if s.name == "lr")
        lr = float(options.pop("lr", default_lr))
        weight_decay = float(options.pop("weight_decay", 0.0))
        clip_norm = options.pop("clip_norm", None)
        augmenter = self.make_augmenter()
        return TrainingConfig(
            optimizer=t.optimizer,
            lr=lr,
            optimizer_options=options,
            weight_decay=weight_decay,
            clip_norm=clip_norm,
            schedule=t.schedule,
            schedule_options={
                k: v for k, v in t.schedule_params.get(t.schedule, {}).items() if v is not None
            },
            batch_size=t.batch_size,
            epochs=t.epochs,
            seed=t.seed,
            augment=augmenter.to_dict() if augmenter is not None else None,
        )

    def run_data_settings(self) -> runs.DataSettings:
        """The data settings as a run folder records them (:class:`dllab.runs.DataSettings`)."""
        d = self._data
        return runs.DataSettings(
            dataset=d.source,
            val_fraction=d.val_fraction,
            subset=d.subset,
            subset_mode=d.subset_mode,
            normalization=d.normalization,
            generator_seed=d.seed,
        )

    def training_blocker(self) -> str | None:
        """Why training cannot start now, in one sentence; None when it can (or is running)."""
        if self._training_active:
            return None
        if not self.layers:
            return "The network has no layers yet: drag some in from the Layers panel."
        error = self._analysis.error
        if error is not None:
            return spec_error_text(error)
        if self._dataset_loading:
            return "The dataset is still loading."
        if self._dataset is None:
            return "Load a dataset in the Data panel first."
        dataset = self._dataset
        title = self.dataset_title()
        try:
            reshape_for(dataset.x_train[:0], self._spec["input_shape"])
        except DatasetError:
            return (
                f"The network takes inputs of {shape_text(self._spec['input_shape'])} but {title} samples are "
                f"{shape_text(dataset.input_shape)}; change the input shape or the dataset."
            )
        loss = self._spec.get("loss", "softmax_cross_entropy")
        if dataset.task == "regression" and loss != "mse":
            return f"{title} is a regression dataset: choose the mean squared error loss."
        outputs = self._analysis.layers[-1].output_shape[-1] if self._analysis.layers else 0
        needed = dataset.num_outputs
        allowed = {needed, 1} if loss == "sigmoid_binary_cross_entropy" and needed == 2 else {needed}
        if outputs not in allowed:
            what = "classes" if dataset.task == "classification" else "targets"
            return (
                f"The network ends in {outputs} outputs but {title} has {needed} {what}; set the last Dense "
                f"layer to {needed} units."
            )
        return None

    @property
    def can_train(self) -> bool:
        """Whether Train would start a run now."""
        return not self._training_active and self.training_blocker() is None

    def request_training(self) -> bool:
        """Emit :attr:`train_requested` when training can start; returns whether it was emitted."""
        if not self.can_train:
            return False
        self.train_requested.emit()
        return True

    def request_stop(self) -> None:
        """Ask a running training to stop (the training worker listens to :attr:`stop_requested`)."""
        if self._training_active:
            self.stop_requested.emit()

    @property
    def training_active(self) -> bool:
        """Whether a training run is in progress (the design is locked meanwhile)."""
        return self._training_active

    def set_training_active(self, active: bool) -> None:
        """Called by the training worker's owner when a run starts and ends."""
        if active != self._training_active:
            self._training_active = active
            self.training_active_changed.emit(active)
            self.readiness_changed.emit()

    # --- the model ------------------------------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The current trained (or opened) model, a :class:`dllab.Sequential`, or None."""
        return self._model

    def set_model(self, model: Any) -> None:
        """Make ``model`` the current one (after training or Open model)."""
        self._model = model
        self.model_changed.emit()

    def post_message(self, text: str) -> None:
        """Show ``text`` in the status bar."""
        self.message_posted.emit(text)
