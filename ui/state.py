"""The app state: the network being designed, the data and training settings, the current model.

One :class:`AppState` per window. Panels read it and subscribe to its signals; they never change it
directly but push undo commands (:mod:`ui.commands`) onto :attr:`AppState.undo_stack`, and the commands call
the edit methods here (``insert_layer``, ``remove_layer``, ``move_layer``, ...). Every edit re-analyses the
spec with the engine (:func:`dllab.analyze`), so shapes, parameter counts and the reason a network cannot be
built always come from the engine and never from the UI.

The network is a plain dict in the engine's spec format (``dllab.network/1``). With the data settings (the
engine's :class:`dllab.experiment.DataSettings`, the same object a run records) and the training settings it
makes the engine's :class:`dllab.experiment.Experiment` (:meth:`AppState.experiment`), which is what a design
file holds; a run folder's ``config.json`` restores all of it (:meth:`AppState.apply_document`). How the network
meets the loaded data is the engine's one fit rule (:func:`dllab.fit.fit_network`): when a data set is loaded
(:func:`ui.commands.fit_network_to_dataset`) and when layers change, the input takes the data's shape if the first
layer can use it, and the status bar says so in one line.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

import dllab
from dllab import first_run, optimizers, schedules
from dllab.data import Augmenter, Dataset, DatasetError, PreparedData
from dllab.experiment import (
    DataSettings,
    Experiment,
    is_design_of_experiment,
    older_design_data,
    training_config_from_choices,
)
from dllab.experiment import design_document as experiment_design_document
from dllab.fit import DataFacts, fit_input, output_problem
from dllab.spec import DESIGN_FORMAT, FORMAT, LAYER_TYPES, Analysis
from dllab.trainer import TrainingConfig
from ui.common.formatting import shape_text, spec_error_text

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


#: The data settings the app starts with: the spiral, scaled to [0, 1], split with the data seed 0.
DEFAULT_DATA = DataSettings("spiral", normalization="scale", split_seed=0)


def _default_optimizer_params() -> dict[str, dict[str, float | None]]:
    # The learning rates follow the network while they are automatic (AppState._size_training_for_the_cpu).
    return {name: {s.name: s.default for s in cls.SETTINGS} for name, cls in optimizers.OPTIMIZERS.items()}


#: The training settings sized for a CPU (:mod:`dllab.first_run`) until the user sets them: the epochs follow the
#: data's size and the network's cost, the learning rates the network.
AUTOMATIC_SETTINGS = frozenset({"epochs", "lr"})


def _default_schedule_params() -> dict[str, dict[str, float | None]]:
    return {name: {s.name: s.default for s in cls.SETTINGS} for name, cls in schedules.SCHEDULES.items()}


@dataclass(frozen=True)
class TrainingSettings:
    """The optimizer, its hyperparameters (remembered per optimizer), the schedule, batch size, epochs, seed, and
    the model file a run starts from."""

    optimizer: str = "adam"
    optimizer_params: dict[str, dict[str, float | None]] = field(default_factory=_default_optimizer_params)
    schedule: str = "constant"
    schedule_params: dict[str, dict[str, float | None]] = field(default_factory=_default_schedule_params)
    batch_size: int = 32
    epochs: int = 50
    seed: int = 0
    #: The model file whose matching layers give a run its starting weights (None: fresh weights); see
    #: :func:`dllab.transfer.build_started`.
    init_from: str | None = None
    #: The human-level (Bayes) error estimate the fit is read against, a share (0.01 is 1 %).
    human_error: float = 0.0
    #: The training config's settings the app has no editor for (``max_steps``, ``early_stopping``, ...), as an
    #: opened experiment gives them; only those that differ from the engine's defaults.
    engine_settings: dict[str, Any] = field(default_factory=dict)
    #: Which of :data:`AUTOMATIC_SETTINGS` still follow the network and the data (sized for a CPU): those that
    #: neither the user nor an opened file has set.
    automatic: frozenset[str] = AUTOMATIC_SETTINGS

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
            "init_from": self.init_from,
            "human_error": self.human_error,
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
        init_from = values.get("init_from")
        if isinstance(init_from, str) and init_from:
            changes["init_from"] = init_from
        human_error = values.get("human_error")
        if _is_number(human_error) and 0 <= human_error < 1:
            changes["human_error"] = float(human_error)
        return replace(base, **changes, automatic=frozenset())

    def with_config(self, config: TrainingConfig, seed: int) -> TrainingSettings:
        """These settings with an experiment's training config in place (File ▸ Open of a run or a design).

        The config's optimizer takes its learning rate, weight decay, clipping and options (the values
        remembered for the other optimizers stay), and its schedule its options; the batch size, epochs and
        ``seed`` (the experiment's) and the model file it starts from follow, and what the app has no editor for goes to :attr:`engine_settings`.
        """
        optimizer, schedule = config.optimizer.lower(), config.schedule.lower()
        optimizer_params = copy.deepcopy(self.optimizer_params)
        optimizer_params[optimizer] = {
            **optimizer_params.get(optimizer, {}),
            "lr": config.lr,
            "weight_decay": config.weight_decay,
            "clip_norm": config.clip_norm,
            **config.optimizer_options,
        }
        schedule_params = copy.deepcopy(self.schedule_params)
        schedule_params[schedule] = {**schedule_params.get(schedule, {}), **config.schedule_options}
        defaults = TrainingConfig().to_dict()
        engine = {
            key: value
            for key, value in config.to_dict().items()
            if key not in APP_TRAINING_FIELDS and value != defaults[key]
        }
        return replace(
            self,
            optimizer=optimizer,
            optimizer_params=optimizer_params,
            schedule=schedule,
            schedule_params=schedule_params,
            batch_size=config.batch_size,
            epochs=config.epochs,
            seed=seed,
            init_from=config.init_from,
            human_error=config.human_error,
            engine_settings=engine,
            automatic=frozenset(),
        )


#: The :class:`~dllab.trainer.TrainingConfig` fields the app edits (or derives, as the augmentation from the
#: data settings); the others are kept as :attr:`TrainingSettings.engine_settings`.
APP_TRAINING_FIELDS = (
    "optimizer",
    "lr",
    "optimizer_options",
    "weight_decay",
    "clip_norm",
    "schedule",
    "schedule_options",
    "batch_size",
    "epochs",
    "seed",
    "augment",
    "init_from",
    "human_error",
)


def _edited_settings(old: TrainingSettings, new: TrainingSettings) -> set[str]:
    """Which of :data:`AUTOMATIC_SETTINGS` differ between ``old`` and ``new``."""
    edited = set()
    if old.epochs != new.epochs:
        edited.add("epochs")
    names = set(old.optimizer_params) | set(new.optimizer_params)
    if any(
        old.optimizer_params.get(n, {}).get("lr") != new.optimizer_params.get(n, {}).get("lr") for n in names
    ):
        edited.add("lr")
    return edited


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: Why the network cannot be edited while it trains.
LOCKED_REASON = "The network is locked while it trains: stop training to change it."


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
    #: An opened experiment changed the data source (or how a generated set is made): load it (the Data panel).
    data_reload_requested = Signal()

    def __init__(self, spec: dict[str, Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack: QUndoStack = GuardedUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)
        self._spec: dict[str, Any] = copy.deepcopy(spec if spec is not None else DEFAULT_SPEC)
        self._analysis: Analysis = dllab.analyze(self._spec)
        self._current_layer = -1
        self._file_path: Path | None = None
        self._unsaved_outside_undo = False
        self._data = DEFAULT_DATA
        self._dataset: Dataset | None = None
        self._dataset_loading = False
        self._training = TrainingSettings()
        self._training_active = False
        self._model: Any = None
        self._size_training_for_the_cpu()
        for signal in (self.network_changed, self.dataset_changed, self.data_settings_changed):
            signal.connect(self._size_training_for_the_cpu)

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

    def experiment(self) -> Experiment:
        """The design as the engine's one description of an experiment: the network, the data settings, the
        training settings and the seed (raises a ``SettingsError`` for an invalid setting)."""
        return Experiment(
            self.spec_copy(), self.run_data_settings(), self.training_config(), self._training.seed
        )

    def design_document(self) -> dict[str, Any]:
        """The design as a file holds it: the experiment (:meth:`experiment`) as
        :func:`dllab.experiment.design_document` writes it, with the values remembered for every optimizer.

        Format ``dllab.design/1`` (:data:`dllab.spec.DESIGN_FORMAT`); the engine reads its ``"network"`` wherever
        it reads a network file, so ``dllab train design.json --data ...`` works on it, and the whole experiment
        with ``dllab train --config design.json``.
        """
        return experiment_design_document(self.experiment(), self._training.to_design())

    def design_json(self) -> str:
        """The text of a design file."""
        return json.dumps(self.design_document(), indent=2) + "\n"

    def apply_document(self, document: dict[str, Any], where: str = "the file") -> None:
        """Take the data and training settings of an opened document (the network is the caller's to load).

        A run folder's ``config.json`` or a design holding an experiment restores all of it, the data source
        included (:attr:`data_reload_requested` asks for the data to be loaded when it changed); an older design
        file gives its training settings and how the data are prepared, not where they come from, ignoring
        invalid values.

        Raises
        ------
        DllabError
            When the document's settings are invalid (one sentence naming ``where``); nothing is changed then.
        """
        if document.get("format") == DESIGN_FORMAT and not is_design_of_experiment(document):
            self.apply_design_settings(document)
            return
        experiment = Experiment.from_dict(document, where=where)
        remembered = self._training
        if document.get("format") == DESIGN_FORMAT:
            remembered = TrainingSettings.from_design(document.get("training"))
        self._training = remembered.with_config(experiment.training, experiment.seed)
        self.training_settings_changed.emit()
        old = self._data
        self._data = replace(experiment.data, split_seed=experiment.split_seed)
        self.data_settings_changed.emit()
        generated = ("dataset", "generator_seed", "n_samples", "noise", "n_classes")
        if self._dataset is None or any(getattr(old, k) != getattr(self._data, k) for k in generated):
            self.data_reload_requested.emit()

    def apply_design_settings(self, document: dict[str, Any]) -> None:
        """Take the training settings and the data preparation settings of an older design file's document
        (``dllab.design/1`` of the app's own layout).

        The data source is not changed (loading is the Data panel's job); invalid values are ignored.
        """
        self._training = TrainingSettings.from_design(document.get("training"))
        self.training_settings_changed.emit()
        changes = older_design_data(document.get("data"))
        changes.pop("source", None)
        self.set_data_settings(**changes)

    def mark_unchanged(self) -> None:
        """The design's settings as they stand are where it starts (the window's first data set): not unsaved
        changes. Edits in the undo history stay."""
        if self._unsaved_outside_undo:
            self._unsaved_outside_undo = False
            self.dirty_changed.emit(self.is_dirty)

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
        self._layers_edited()

    def remove_layer(self, index: int) -> dict[str, Any]:
        """Remove the layer at ``index`` and return its entry."""
        removed = self._ensure_layers().pop(index)
        self._layers_edited()
        return removed

    def move_layer(self, source: int, target: int) -> None:
        """Move the layer at ``source`` so that it ends up at index ``target``."""
        layers = self._ensure_layers()
        if not (0 <= source < len(layers) and 0 <= target < len(layers)):
            raise IndexError(f"cannot move layer {source} to {target} among {len(layers)} layers")
        layers.insert(target, layers.pop(source))
        self._layers_edited()

    def replace_layer(self, index: int, layer: dict[str, Any]) -> dict[str, Any]:
        """Put ``layer`` in place of the entry at ``index`` and return the old entry."""
        layers = self._ensure_layers()
        old = layers[index]
        layers[index] = copy.deepcopy(layer)
        self._layers_edited()
        return old

    def set_layer_option(self, index: int, key: str, value: Any) -> None:
        """Set one setting of a layer (``value`` None removes it, so the default applies)."""
        layer = self._ensure_layers()[index]
        if value is None:
            layer.pop(key, None)
        else:
            layer[key] = copy.deepcopy(value)
        self._layers_edited()

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

    def _layers_edited(self) -> None:
        """After a change of the layers: the input takes the loaded data's shape when the first layer can use it
        (the engine's fit rule, :func:`dllab.fit.fit_input`), said in the status bar; then as every edit."""
        dataset = self._dataset
        note = None
        if dataset is not None and not self._training_active:
            shape, _ = fit_input(self._spec, DataFacts.of(dataset))
            if shape is not None:
                self._spec["input_shape"] = list(shape)
                note = f"Input shape set to {shape_text(shape)} from the {self.dataset_title()} data."
        self._network_edited()
        if note is not None:
            self.message_posted.emit(note)

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
        """Change some data settings: fields of :class:`dllab.experiment.DataSettings`, or the app's names for
        them (``source``, ``seed`` for the generator and the split, ``shift``, ``rotation``, ``flip`` and
        ``augment_noise`` for the augmentation); ``KeyError`` for anything else. They are saved with the
        design, so a change makes the design unsaved."""
        new = DataSettings.from_app_settings(changes, self._data)
        if new != self._data:
            self._data = new
            self.data_settings_changed.emit()
            self._mark_unsaved()  # design files hold the data settings

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

    def dataset_title(self) -> str:
        """Display name of the loaded dataset (or of the chosen source)."""
        from dllab.data import DATASET_NAMES, dataset_info

        name = self._dataset.name if self._dataset is not None else self._data.source
        if name in DATASET_NAMES:
            return dataset_info(name).title
        return Path(name).name or name

    def prepare_data(self) -> PreparedData:
        """The loaded dataset subset, split, normalised and shaped for the network (for the trainer): the
        engine's one data preparation, :meth:`dllab.experiment.DataSettings.prepare`."""
        if self._dataset is None:
            raise DatasetError("no dataset is loaded")
        return self._data.prepare(self._spec["input_shape"], self._data.seed, dataset=self._dataset)

    def make_augmenter(self) -> Augmenter | None:
        """The augmentation to apply to training batches, or None (off, or not image data)."""
        augment = self._data.augment
        if self._dataset is None or not self._dataset.is_image or augment is None:
            return None
        return Augmenter.from_dict({**augment, "image_shape": self._dataset.input_shape})

    # --- training -------------------------------------------------------------------------------------------

    @property
    def training(self) -> TrainingSettings:
        """Optimizer, schedule, batch size, epochs, seed."""
        return self._training

    def set_training_settings(self, **changes: Any) -> None:
        """Change some training settings (names of :class:`TrainingSettings` fields).

        They are saved with the design, so a change makes the design unsaved. The epochs or a learning rate set
        here no longer follow the data and the network (:attr:`TrainingSettings.automatic`).
        """
        new = replace(self._training, **changes)
        if "automatic" not in changes:
            new = replace(new, automatic=new.automatic - _edited_settings(self._training, new))
        if new != self._training:
            self._training = new
            self.training_settings_changed.emit()
            self._mark_unsaved()

    def _mark_unsaved(self) -> None:
        """A setting that design files hold changed outside the undo history: the design is unsaved."""
        was_dirty = self.is_dirty
        self._unsaved_outside_undo = True
        if not was_dirty:
            self.dirty_changed.emit(True)

    def training_sample_count(self) -> int:
        """The training samples of the loaded data after the subset and the validation and train-dev splits (0
        when none is loaded)."""
        if self._dataset is None:
            return 0
        count = len(self._dataset.x_train)
        if self._data.subset:
            count = min(count, self._data.subset)
        return int(count * (1.0 - self._data.val_fraction - self._data.train_dev_fraction))

    def _size_training_for_the_cpu(self) -> None:
        """Give the automatic training settings the values :mod:`dllab.first_run` sizes for a CPU: the epochs of a
        first run of about a minute on this data and network, the learning rates for this network."""
        t = self._training
        changes: dict[str, Any] = {}
        if "epochs" in t.automatic and self._dataset is not None and self._analysis.ok:
            changes["epochs"] = first_run.first_run_epochs(self._analysis, self.training_sample_count())
        if "lr" in t.automatic:
            params = copy.deepcopy(t.optimizer_params)
            for name, values in params.items():
                values["lr"] = first_run.first_run_learning_rate(name, self._spec)
            changes["optimizer_params"] = params
        new = replace(t, **changes)
        if new != t:  # follows the data and the network: no unsaved change of its own
            self._training = new
            self.training_settings_changed.emit()

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
        """The engine's training config for these settings (raises ``ValueError`` for invalid values): the
        chosen optimizer's and schedule's values (:func:`dllab.experiment.training_config_from_choices`), the
        augmentation of image data, and the settings the app has no editor for."""
        t = self._training
        augmenter = self.make_augmenter()
        return training_config_from_choices(
            t.optimizer,
            t.hyperparameters,
            t.schedule,
            t.schedule_params.get(t.schedule, {}),
            batch_size=t.batch_size,
            epochs=t.epochs,
            seed=t.seed,
            human_error=t.human_error,
            augment=augmenter.to_dict() if augmenter is not None else None,
            init_from=t.init_from,
            **t.engine_settings,
        )

    def run_data_settings(self) -> DataSettings:
        """The data settings as a run folder records them: the engine's :class:`dllab.experiment.DataSettings`,
        the same object the state keeps (its split seed written out)."""
        return replace(self._data, split_seed=self._data.seed)

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
        if self._data.dev_shift != "none" and not dataset.is_image:
            return (
                f"{title} holds no images to shift: set Dev and test to Same as training under Data mismatch "
                "in the Data panel."
            )
        facts = DataFacts.of(dataset)
        if math.prod(self._spec["input_shape"]) != math.prod(facts.sample_shape):
            return (
                f"The network takes inputs of {shape_text(self._spec['input_shape'])} but {title} samples are "
                f"{shape_text(dataset.input_shape)}; change the input shape or the dataset."
            )
        loss = self._spec.get("loss", "softmax_cross_entropy")
        if dataset.task == "regression" and loss != "mse":
            return f"{title} is a regression dataset: choose the mean squared error loss."
        outputs = math.prod(self._analysis.layers[-1].output_shape or ()) if self._analysis.layers else 0
        needed = facts.outputs
        if output_problem(outputs, loss, facts) is not None:  # the engine's rule, in the app's words
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
