"""One experiment: the network, the data settings, the training settings and the seed, in one description.

An :class:`Experiment` is what a run repeats and what the desktop app saves: the network spec, the
:class:`DataSettings` (which data, generated how, subset, validation split, normalisation, augmentation), the
:class:`~dllab.trainer.TrainingConfig` (optimizer and hyperparameters, schedule, batch size, epochs or steps,
seed of the batch order, weight decay, clipping, ...) and the seed of the initial weights. As a plain dict::

    {"format": "dllab.experiment/1",
     "network": {"format": "dllab.network/1", ...},
     "data": {"dataset": "mnist", "val_fraction": 0.1, "subset": null, "normalization": "standardize", ...},
     "training": {"optimizer": "adam", "lr": 0.001, "batch_size": 100, "epochs": 10, ...},
     "seed": 0}

The same description is what the app's File ▸ Save writes (:func:`design_document`: format
``"dllab.design/1"``, so that every reader of a network file reads its network, with what only the app remembers
beside it, such as the values of the optimizers not chosen), what File ▸ Open reads back, and what the command
line's flags make. :meth:`Experiment.from_dict` also reads a run folder's ``config.json``
(``"dllab.run/1"``: the same sections beside the run's record) and the app's older design files
(``"dllab.design/1"``), so ``dllab train --config RUN/config.json`` repeats a run and old files still open.

How the network meets the data is the fit rule of :mod:`dllab.fit`; :meth:`Experiment.prepare` applies it and
prepares the data in one call:

>>> experiment = Experiment.from_dict(json.load(open("runs/x/config.json")))   # doctest: +SKIP
>>> experiment, prepared, note = experiment.prepare()                           # doctest: +SKIP
>>> model = dllab.build(experiment.network, seed=experiment.seed)              # doctest: +SKIP
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from dllab import optimizers
from dllab.data import (
    DATASET_NAMES,
    IMAGE_COLORS,
    NORMALIZATIONS,
    SHIFTS,
    Dataset,
    DatasetError,
    PreparedData,
    load_dataset,
    prepare,
)
from dllab.data.download import ProgressCallback
from dllab.data.image_folder import image_size as checked_image_size
from dllab.errors import SettingsError, quote
from dllab.fit import fit_network
from dllab.option_strings import MAX_SHIFT
from dllab.settings import check_number, check_whole_number
from dllab.spec import DESIGN_FORMAT, JSON_DEPTH_LIMIT, SpecError, json_too_deep, read_design
from dllab.trainer import TrainingConfig

#: The format of an experiment document (:meth:`Experiment.to_dict`).
EXPERIMENT_FORMAT = "dllab.experiment/1"
_EXPERIMENT_PREFIX = "dllab.experiment/"
#: The format of a run folder's ``config.json``: an experiment beside the run's record.
RUN_FORMAT = "dllab.run/1"
#: The file of a run folder that holds its experiment.
RUN_CONFIG_FILE = "config.json"
#: What a run's ``config.json`` keeps in its data section besides the settings: a record of the run.
RUN_RECORD_KEYS = (
    "train_samples",
    "val_samples",
    "train_dev_samples",
    "test_samples",
    "class_names",
    "input_shape",
)
#: The keys of an experiment document.
EXPERIMENT_KEYS = ("format", "network", "data", "training", "seed")
#: Data settings added after the format's first version, with the value that means "off": :meth:`DataSettings.to_dict`
#: leaves them out at that value, so a document without them reads the same in every dllab.
LATER_DATA_KEYS = {
    "train_dev_fraction": 0.0,
    "dev_shift": "none",
    "shift_mix": 0.0,
    "excluded_test": (),
    "image_color": "auto",
    "image_size": None,
}
#: The augmentation settings (``Augmenter.to_dict()``).
AUGMENT_KEYS = ("shift", "rotation", "flip", "noise", "image_shape", "fill")
#: The most samples a generated set may be asked for (the app's editor offers as many), so a file cannot ask
#: for more memory than a machine has.
MAX_GENERATED_SAMPLES = 100_000
#: What the data section of the app's older design files (``"dllab.design/1"``) may hold besides the source.
_DESIGN_DATA_KEYS = (
    "val_fraction",
    "subset",
    "subset_mode",
    "normalization",
    "shift",
    "rotation",
    "flip",
    "augment_noise",
)


# --- data settings -----------------------------------------------------------------------------------------


def _whole(name: str, value: Any, minimum: int, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    return check_whole_number(name, value, minimum=minimum)


def _excluded(value: Any) -> tuple[int, ...]:
    """Excluded test rows checked: a list of whole numbers from 0, made sorted and unique."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | range):
        raise SettingsError(f"the excluded test samples must be a list of indices, got {quote(value)}")
    return tuple(sorted({int(_whole("an excluded test sample", v, 0)) for v in value}))


def checked_augment(value: Any) -> dict[str, Any] | None:
    """Augmentation settings (``Augmenter.to_dict()``) checked and written out, or None when none is on.

    Raises
    ------
    SettingsError
        For something that is not such settings, in one sentence.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SettingsError(f"the augmentation must be an object of settings, not {type(value).__name__}")
    unknown = [key for key in value if key not in AUGMENT_KEYS]
    if unknown:
        raise SettingsError(
            f"unknown augmentation setting {quote(unknown[0])} (known: {', '.join(AUGMENT_KEYS)})"
        )
    shift = check_whole_number("the augmentation shift", value.get("shift", 0), minimum=0, maximum=MAX_SHIFT)
    rotation = check_number("augmentation", "rotation", value.get("rotation", 0.0), minimum=0, maximum=180)
    noise = check_number("augmentation", "noise", value.get("noise", 0.0), minimum=0)
    flip = value.get("flip", False)
    if not isinstance(flip, bool):
        raise SettingsError(f"the augmentation flip must be true or false, got {quote(flip)}")
    image_shape = value.get("image_shape")
    if image_shape is not None:
        if not isinstance(image_shape, list | tuple) or len(image_shape) != 3:
            raise SettingsError(
                f"the augmentation's image_shape must be [channels, height, width], got {quote(image_shape)}"
            )
        image_shape = [check_whole_number("an image_shape size", d, minimum=1) for d in image_shape]
    fill = check_number("augmentation", "fill", value.get("fill"), allow_none=True)
    if not (shift or rotation or flip or noise):
        return None
    return {
        "shift": shift,
        "rotation": rotation,
        "flip": flip,
        "noise": noise,
        "image_shape": image_shape,
        "fill": fill,
    }


@dataclass(frozen=True)
class DataSettings:
    """What data an experiment trains on, enough to load and prepare it again.

    Attributes
    ----------
    dataset : str
        A built-in name (``"mnist"``, ``"spiral"``, ...) or the path of an IDX folder, ``.npz`` or ``.csv``
        (an existing path is kept absolute, so the experiment repeats from anywhere).
    val_fraction : float
        Share of the training set held out for validation, in [0, 1).
    subset : int or None
        Use only this many training samples (taken before the validation split).
    subset_mode : str
        ``"first"`` or ``"random"``.
    normalization : str
        ``"none"``, ``"scale"`` or ``"standardize"``.
    generator_seed : int
        Seed of generated data sets (the 2D sets and shapes), so the same name always means the same data.
    split_seed : int or None
        Seed of the random subset and the validation split; None: the experiment's seed.
    n_samples, noise, n_classes : int, float, int or None
        Size, noise and classes of a generated set (None: the set's default; ignored for real data).
    augment : dict or None
        Augmentation of the training batches (``Augmenter.to_dict()``), None for none.
    excluded_test : tuple of int
        Rows of the test set left out of the test evaluation: the samples marked mislabelled in a run's error
        analysis (:mod:`dllab.error_analysis`), so a retrain is scored without the test labels known to be
        wrong (the course's cleaning of the dev and test labels; the training set is left as it is). The
        data set's files are never changed. A run trained with them keeps them in its ``config.json``; its own
        test set, and so its own error analysis, is the test set without them (indices renumbered). Empty
        (the default, left out of :meth:`to_dict`): the whole test set.
    train_dev_fraction : float
        Share of the training set held out as the train-dev set (the training distribution, never trained
        on), besides the validation split; 0 for none.
    dev_shift : str
        A distribution shift of the dev (validation) and test images (:data:`dllab.data.SHIFTS`): the
        course's data mismatch.
    shift_mix : float
        Share of the training (and train-dev) images given the dev shift: the remedy for data mismatch.
    image_color : str
        How the images of an image folder are converted (:data:`dllab.data.IMAGE_COLORS`): ``"auto"``
        (grayscale when every image is grey), ``"grayscale"`` or ``"rgb"``; ignored for other data.
    image_size : tuple of (int, int) or None
        The ``(height, width)`` an image folder's images are resized to; None: their most common size.
    """

    dataset: str
    val_fraction: float = 0.1
    subset: int | None = None
    subset_mode: str = "first"
    normalization: str = "standardize"
    generator_seed: int = 0
    split_seed: int | None = None
    n_samples: int | None = None
    noise: float | None = None
    n_classes: int | None = None
    augment: dict[str, Any] | None = None
    excluded_test: tuple[int, ...] = ()
    train_dev_fraction: float = 0.0
    dev_shift: str = "none"
    shift_mix: float = 0.0
    image_color: str = "auto"
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise SettingsError(f"the data set must be a name or a path, got {quote(self.dataset)}")
        check = check_number(
            "the data settings", "val_fraction", self.val_fraction, minimum=0, maximum=1, max_inclusive=False
        )
        set_ = object.__setattr__
        set_(self, "val_fraction", check)
        set_(self, "subset", _whole("the subset", self.subset, 1, allow_none=True))
        if self.subset_mode not in ("first", "random"):
            raise SettingsError(f"the subset mode must be 'first' or 'random', got {quote(self.subset_mode)}")
        if self.normalization not in NORMALIZATIONS:
            raise SettingsError(
                f"the normalization must be one of {', '.join(NORMALIZATIONS)}, got {quote(self.normalization)}"
            )
        set_(self, "generator_seed", _whole("the generator seed", self.generator_seed, 0))
        set_(self, "split_seed", _whole("the split seed", self.split_seed, 0, allow_none=True))
        if self.n_samples is not None:
            n_samples = check_whole_number(
                "the number of samples", self.n_samples, minimum=1, maximum=MAX_GENERATED_SAMPLES
            )
            set_(self, "n_samples", n_samples)
        set_(
            self, "noise", check_number("the data settings", "noise", self.noise, minimum=0, allow_none=True)
        )
        set_(self, "n_classes", _whole("the number of classes", self.n_classes, 1, allow_none=True))
        set_(self, "augment", checked_augment(self.augment))
        set_(self, "excluded_test", _excluded(self.excluded_test))
        train_dev = check_number(
            "the data settings", "train_dev_fraction", self.train_dev_fraction, minimum=0, maximum=1
        )
        if train_dev + self.val_fraction >= 1:
            raise SettingsError(
                f"the train-dev and validation fractions ({train_dev:g} and {self.val_fraction:g}) leave no "
                "training samples; together they must stay below 1"
            )
        set_(self, "train_dev_fraction", train_dev)
        if self.dev_shift not in SHIFTS:
            raise SettingsError(
                f"the dev shift must be one of {', '.join(SHIFTS)}, got {quote(self.dev_shift)}"
            )
        set_(
            self,
            "shift_mix",
            check_number("the data settings", "shift_mix", self.shift_mix, minimum=0, maximum=1),
        )
        if self.image_color not in IMAGE_COLORS:
            raise SettingsError(
                f"the image colour must be one of {', '.join(IMAGE_COLORS)}, got {quote(self.image_color)}"
            )
        try:
            set_(self, "image_size", checked_image_size(self.image_size))
        except DatasetError as exc:
            raise SettingsError(str(exc)) from None
        key = self.dataset.strip().lower().replace("_", "-")
        if key not in DATASET_NAMES and "\0" not in self.dataset:
            path = Path(self.dataset).expanduser()
            try:
                if path.exists():
                    set_(self, "dataset", str(path.resolve()))
            except (OSError, RuntimeError):
                pass

    # --- the desktop app's names --------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The data set's name or path (the app's word for :attr:`dataset`)."""
        return self.dataset

    @property
    def seed(self) -> int:
        """The app's data seed: the split seed when set, else the generator seed (the app sets both to it)."""
        return self.split_seed if self.split_seed is not None else self.generator_seed

    @property
    def shift(self) -> int:
        return int(self.augment["shift"]) if self.augment else 0

    @property
    def rotation(self) -> float:
        return float(self.augment["rotation"]) if self.augment else 0.0

    @property
    def flip(self) -> bool:
        return bool(self.augment["flip"]) if self.augment else False

    @property
    def augment_noise(self) -> float:
        return float(self.augment["noise"]) if self.augment else 0.0

    @property
    def augmentation_enabled(self) -> bool:
        """Whether any augmentation is switched on."""
        return self.augment is not None

    # --- loading and preparing ------------------------------------------------------------------------------

    def load(self, progress: ProgressCallback | None = None, cancel: Any = None) -> Dataset:
        """Load the raw data set (see :func:`dllab.data.load_dataset`; may download)."""
        return load_dataset(
            self.dataset,
            progress=progress,
            cancel=cancel,
            seed=self.generator_seed,
            n_samples=self.n_samples,
            noise=self.noise,
            n_classes=self.n_classes,
            image_color=self.image_color,
            image_size=self.image_size,
        )

    def prepare(
        self,
        input_shape: tuple[int, ...] | list[int] | None = None,
        seed: int | None = None,
        *,
        dataset: Dataset | None = None,
        progress: ProgressCallback | None = None,
    ) -> PreparedData:
        """Load (unless ``dataset`` is given), subset, split and normalise the data for a network: the one
        data preparation of the command line, the app, comparisons and searches.

        Parameters
        ----------
        input_shape
            The network's per-sample input shape (see :func:`dllab.fit.fit_network`); the data's own when None.
        seed
            Seeds the random subset and the validation split; None: :attr:`split_seed` (0 when unset).
        dataset
            The already loaded data set, to skip loading.
        progress
            Download progress callback, ``progress(done, total, message)``.

        Returns
        -------
        PreparedData
        """
        raw = dataset if dataset is not None else self.load(progress)
        if seed is None:
            seed = self.split_seed if self.split_seed is not None else 0
        prepared = prepare(
            raw,
            input_shape=None if input_shape is None else tuple(input_shape),
            val_fraction=self.val_fraction,
            subset=self.subset,
            subset_mode=self.subset_mode,
            normalization=self.normalization,
            seed=seed,
            train_dev_fraction=self.train_dev_fraction,
            dev_shift=self.dev_shift,
            shift_mix=self.shift_mix,
        )
        if not self.excluded_test:
            return prepared
        kept = self.kept_test(len(prepared.x_test))
        return replace(prepared, x_test=prepared.x_test[kept], y_test=prepared.y_test[kept])

    def kept_test(self, test_samples: int) -> np.ndarray:
        """The rows of a test set of ``test_samples`` samples that the test evaluation keeps (all but
        :attr:`excluded_test`), in order.

        Raises
        ------
        SettingsError
            When an excluded row is not one of the test set's.
        """
        if self.excluded_test and self.excluded_test[-1] >= test_samples:
            raise SettingsError(
                f"the excluded test sample {self.excluded_test[-1]} is not one of the {test_samples:,} of the "
                "test set"
            )
        keep = np.ones(test_samples, dtype=bool)
        keep[list(self.excluded_test)] = False
        return np.flatnonzero(keep)

    # --- plain dicts --------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable settings; those of :data:`LATER_DATA_KEYS` only when switched on."""
        values = asdict(self)
        for key, off in LATER_DATA_KEYS.items():
            if values[key] == off:
                del values[key]
        if "excluded_test" in values:
            values["excluded_test"] = list(self.excluded_test)
        if "image_size" in values:
            values["image_size"] = list(self.image_size)
        return values

    @classmethod
    def from_dict(cls, values: Any) -> DataSettings:
        """Rebuild from :meth:`to_dict` output (a run's ``config.json`` may hold its record beside it).

        Raises
        ------
        SettingsError
            For something that is not an object, an unknown key, a missing data set or an invalid value.
        """
        if not isinstance(values, Mapping):
            raise SettingsError(f"the data settings must be an object, not {type(values).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = [key for key in values if key not in names and key not in RUN_RECORD_KEYS]
        if unknown:
            raise SettingsError(f"unknown data setting {quote(unknown[0])}")
        if "dataset" not in values:
            raise SettingsError("the data settings do not say which data set to use ('dataset')")
        return cls(**{key: values[key] for key in names if key in values})

    @classmethod
    def from_app_settings(cls, values: Mapping[str, Any], base: DataSettings | None = None) -> DataSettings:
        """``base`` with changes given in the desktop app's words as well as the engine's: ``source`` for
        :attr:`dataset`, ``seed`` for both seeds, ``shift``, ``rotation``, ``flip`` and ``augment_noise`` for
        :attr:`augment`.

        Raises
        ------
        KeyError
            For a name that is neither.
        SettingsError
            For an invalid value.
        """
        base = base if base is not None else cls("spiral")
        names = {f.name for f in fields(cls)}
        changes: dict[str, Any] = {}
        augment = dict(base.augment or {"shift": 0, "rotation": 0.0, "flip": False, "noise": 0.0})
        augmented = False
        unknown = []
        for key, value in values.items():
            if key == "source":
                changes["dataset"] = value
            elif key == "seed":
                changes["generator_seed"] = changes["split_seed"] = value
            elif key in ("shift", "rotation", "flip"):
                augment[key], augmented = value, True
            elif key == "augment_noise":
                augment["noise"], augmented = value, True
            elif key in names:
                changes[key] = value
            else:
                unknown.append(key)
        if unknown:
            raise KeyError(f"unknown data settings: {', '.join(sorted(unknown))}")
        if augmented and "augment" not in changes:
            changes["augment"] = augment
        return replace(base, **changes)


# --- the app's older design files ------------------------------------------------------------------------


def older_design_data(values: Any) -> dict[str, Any]:
    """The data settings an older design file holds (``"dllab.design/1"``), as app names; what is invalid is
    left out (as the app always read them)."""
    if not isinstance(values, Mapping):
        return {}
    valid: dict[str, Any] = {}
    probe = DataSettings("spiral")
    for key in _DESIGN_DATA_KEYS:
        if key not in values:
            continue
        try:
            DataSettings.from_app_settings({key: values[key]}, probe)
        except (SettingsError, KeyError):
            continue
        valid[key] = values[key]
    source = values.get("source")
    if isinstance(source, str) and source.strip() and "\0" not in source:
        valid["source"] = source
    return valid


def training_config_from_choices(
    optimizer: str,
    hyperparameters: Mapping[str, Any],
    schedule: str = "constant",
    schedule_parameters: Mapping[str, Any] | None = None,
    **settings: Any,
) -> TrainingConfig:
    """A :class:`~dllab.trainer.TrainingConfig` from an optimizer's hyperparameters as one dict (``lr``,
    ``weight_decay`` and ``clip_norm`` among them, None meaning the default) and a schedule's, as the app
    keeps them.

    Parameters
    ----------
    optimizer, schedule
        Registry names.
    hyperparameters, schedule_parameters
        Their values by name; None values are left out.
    **settings
        The other :class:`~dllab.trainer.TrainingConfig` fields (batch size, epochs, seed, ...).

    Raises
    ------
    SettingsError
        For an invalid name or value.
    """
    options = {k: v for k, v in hyperparameters.items() if v is not None}
    if "lr" in options:
        settings["lr"] = options.pop("lr")
    else:
        settings["lr"] = optimizers.get(optimizer).lr
    settings["weight_decay"] = options.pop("weight_decay", 0.0)
    settings["clip_norm"] = options.pop("clip_norm", None)
    return TrainingConfig(
        optimizer=optimizer,
        optimizer_options=options,
        schedule=schedule,
        schedule_options={k: v for k, v in (schedule_parameters or {}).items() if v is not None},
        **settings,
    )


def _design_training(values: Any, where: str) -> tuple[TrainingConfig, int]:
    """The training settings of an older design file: the chosen optimizer with the values remembered for
    it, the schedule, batch size, epochs and seed (missing ones take the defaults)."""
    if not isinstance(values, Mapping):
        return TrainingConfig(), 0
    optimizer = values.get("optimizer", "sgd")
    schedule = values.get("schedule", "constant")
    if not isinstance(optimizer, str) or not isinstance(schedule, str):
        raise SettingsError(f"{where}: the optimizer and the schedule must be names")

    def chosen(key: str, name: str) -> dict[str, Any]:
        remembered = values.get(key)
        params = remembered.get(name) if isinstance(remembered, Mapping) else None
        return dict(params) if isinstance(params, Mapping) else {}

    others = {}
    for key in ("batch_size", "epochs", "seed"):
        if key in values:
            others[key] = values[key]
    seed = others.get("seed", 0)
    try:
        config = training_config_from_choices(
            optimizer,
            chosen("optimizer_params", optimizer),
            schedule,
            chosen("schedule_params", schedule),
            **others,
        )
    except (SettingsError, TypeError) as exc:
        raise SettingsError(f"{where}: invalid training settings ({_sentence(exc)})") from None
    return config, seed


def _sentence(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".")


# --- the experiment ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """The network spec, the data settings, the training settings and the seed of the initial weights.

    The augmentation is a data setting; the training config carries the same (the trainer applies it), so
    ``training.augment`` always equals ``data.augment`` (taken from the training config when the data
    settings have none).

    Attributes
    ----------
    network : dict
        The network spec (:mod:`dllab.spec`).
    data : DataSettings
    training : TrainingConfig
    seed : int
        Seeds the initial weights (and the data split when ``data.split_seed`` is None).
    """

    network: dict[str, Any]
    data: DataSettings
    training: TrainingConfig = field(default_factory=TrainingConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.network, dict):
            raise SpecError(f"the experiment's network must be an object, not {type(self.network).__name__}")
        if json_too_deep(self.network):
            raise SpecError(f"the experiment's network is nested deeper than {JSON_DEPTH_LIMIT} levels")
        if not isinstance(self.data, DataSettings):
            raise SettingsError(
                f"the experiment's data settings must be DataSettings, not {type(self.data).__name__}"
            )
        if not isinstance(self.training, TrainingConfig):
            raise SettingsError(
                f"the experiment's training settings must be a TrainingConfig, not {type(self.training).__name__}"
            )
        object.__setattr__(self, "seed", check_whole_number("the seed", self.seed, minimum=0))
        object.__setattr__(self, "network", copy.deepcopy(self.network))
        data, training = self.data, self.training
        if data.augment is None and training.augment is not None:
            data = replace(data, augment=training.augment)
        if training.augment != data.augment:
            training = replace(training, augment=copy.deepcopy(data.augment))
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "training", training)

    @property
    def split_seed(self) -> int:
        """The seed of the subset and the validation split: the data's own, else the experiment's."""
        return self.data.split_seed if self.data.split_seed is not None else self.seed

    # --- the data ---------------------------------------------------------------------------------------------

    def fit(self, data: Dataset | PreparedData) -> tuple[Experiment, str | None]:
        """The experiment with its network fitted to ``data`` (:func:`dllab.fit.fit_network`) and the note of
        what changed (None: nothing). Raises SpecError when the network cannot take the data."""
        network, note = fit_network(self.network, data)
        return (replace(self, network=network) if note else self), note

    def prepare(
        self, dataset: Dataset | None = None, progress: ProgressCallback | None = None
    ) -> tuple[Experiment, PreparedData, str | None]:
        """Load the data (unless ``dataset`` is given), fit the network to it and prepare it: everything a run
        needs before building the model.

        Returns
        -------
        experiment : Experiment
            With the fitted network (``self`` when nothing changed).
        prepared : PreparedData
        note : str or None
            What the fit rule changed, in one line.

        Raises
        ------
        DatasetError, SpecError, SettingsError
            When the data cannot be loaded or prepared, or the network cannot take it.
        """
        raw = dataset if dataset is not None else self.data.load(progress)
        fitted, note = self.fit(raw)
        input_shape = fitted.network["input_shape"]
        prepared = self.data.prepare(input_shape, self.split_seed, dataset=raw)
        if self.training.augment is not None and prepared.image_shape is None:
            raise SettingsError(
                f"augmentation works on images, and the data set {prepared.name!r} holds none"
            )
        return fitted, prepared, note

    # --- plain dicts --------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The experiment document (format :data:`EXPERIMENT_FORMAT`), plain and JSON-serialisable."""
        return {
            "format": EXPERIMENT_FORMAT,
            "network": copy.deepcopy(self.network),
            "data": self.data.to_dict(),
            "training": self.training.to_dict(),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, document: Any, *, where: str = "the experiment") -> Experiment:
        """Read an experiment document, a run folder's ``config.json`` or an older design file of the app.

        Parameters
        ----------
        document
            The parsed JSON.
        where
            What to call it in messages, e.g. the file's name.

        Raises
        ------
        SettingsError
            When it is not an object, is of another kind or a newer version, or its data or training
            settings or its seed are invalid (one sentence, naming ``where``).
        SpecError
            When it holds no network.
        """
        if not isinstance(document, Mapping):
            raise SettingsError(f"{where} must hold a JSON object, not {type(document).__name__}")
        kind = document.get("format")
        if kind not in (EXPERIMENT_FORMAT, RUN_FORMAT, DESIGN_FORMAT):
            if isinstance(kind, str) and kind.startswith(_EXPERIMENT_PREFIX):
                raise SettingsError(
                    f"{where} is a newer experiment ({quote(kind)}) than this dllab reads; update dllab"
                )
            if "layers" in document:
                raise SettingsError(
                    f"{where} is a network, not an experiment (it has no data or training settings)"
                )
            raise SettingsError(
                f"{where} is not a dllab experiment, run config or design (its format is {quote(kind)})"
            )
        network = document.get("network")
        if not isinstance(network, dict):
            raise SpecError(f"{where} holds no network (a JSON object under 'network')")
        if kind == DESIGN_FORMAT:
            return cls._from_design(document, network, where)
        if kind == EXPERIMENT_FORMAT:
            unknown = [key for key in document if key not in EXPERIMENT_KEYS]
            if unknown:
                raise SettingsError(
                    f"{where}: unknown key {quote(unknown[0])} (allowed: {', '.join(EXPERIMENT_KEYS)})"
                )
        data_values = document.get("data")
        if kind == RUN_FORMAT and isinstance(data_values, Mapping):
            # Runs of the app before the data settings held them recorded a generated set's options apart.
            options = document.get("data_options")
            if isinstance(options, Mapping):
                data_values = {
                    **{k: options[k] for k in ("n_samples", "noise", "n_classes") if k in options},
                    **data_values,
                }
        try:
            data = DataSettings.from_dict(data_values)
            training_values = document.get("training", {})
            if not isinstance(training_values, Mapping):
                raise SettingsError(
                    f"the training settings must be an object, not {type(training_values).__name__}"
                )
            training = TrainingConfig.from_dict(dict(training_values))
            seed = document.get("seed", 0)
            return cls(network, data, training, 0 if seed is None and kind == RUN_FORMAT else seed)
        except (SettingsError, DatasetError) as exc:
            raise SettingsError(f"{where}: {_sentence(exc)}") from None

    @classmethod
    def _from_design(cls, document: Mapping[str, Any], network: dict[str, Any], where: str) -> Experiment:
        if is_design_of_experiment(document):
            values = document.get("data") or {}
            if not isinstance(values, Mapping):
                raise SettingsError(
                    f"{where}: the data settings must be an object, not {type(values).__name__}"
                )
            data = dict(values)
            data["dataset"] = data.pop("source", None)
            training = {k: v for k, v in document["training"].items() if k not in DESIGN_APP_KEYS}
            experiment = {"format": EXPERIMENT_FORMAT, "network": network, "data": data, "training": training}
            return cls.from_dict({**experiment, "seed": document.get("seed", 0)}, where=where)
        data = DataSettings.from_app_settings(
            {"source": "spiral", "normalization": "scale", **older_design_data(document.get("data"))},
            DataSettings("spiral"),
        )
        training, seed = _design_training(document.get("training"), where)
        return cls(network, data, training, seed)


#: What a design file's training section holds besides the training config: the values the app remembers for
#: every optimizer and schedule (the ones not chosen included).
DESIGN_APP_KEYS = ("optimizer_params", "schedule_params")


def is_design_of_experiment(document: Mapping[str, Any]) -> bool:
    """Whether a design file (``"dllab.design/1"``) holds a whole experiment (as :func:`design_document` writes
    it: a training config with its learning rate) rather than the older layout of the app's settings."""
    training = document.get("training")
    return isinstance(training, Mapping) and "lr" in training


def design_document(experiment: Experiment, remembered: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The experiment as the desktop app's design file holds it (format ``"dllab.design/1"``, so every reader
    of a network file reads its network).

    The sections are the experiment's (:meth:`Experiment.to_dict`), with the data set under ``"source"`` (the
    app's word) and, beside the training config, the values the app remembers for every optimizer and
    schedule (``remembered``: ``optimizer_params`` and ``schedule_params``), which
    :meth:`Experiment.from_dict` reads past::

        {"format": "dllab.design/1", "network": {...}, "data": {"source": "mnist", "val_fraction": 0.1, ...},
         "training": {"optimizer": "adam", "lr": 0.001, ..., "optimizer_params": {...}}, "seed": 0}
    """
    document = experiment.to_dict()
    data = document["data"]
    document["data"] = {"source": data.pop("dataset"), **data}
    for key in DESIGN_APP_KEYS:
        if remembered is not None and key in remembered:
            document["training"][key] = copy.deepcopy(remembered[key])
    document["format"] = DESIGN_FORMAT
    return document


def read_network_document(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The network in a network file, a design, an experiment or a run's ``config.json``, and the whole
    document (None for a plain network file). The file is read once, within the engine's limits (see
    :func:`dllab.spec.read_design`).

    Raises
    ------
    SpecError
        When the file cannot be read, is not JSON, holds no object, or is a document without a network.
    """
    network, document = read_design(path)
    if document is None and network.get("format") in (EXPERIMENT_FORMAT, RUN_FORMAT):
        document = network
        inner = document.get("network")
        if not isinstance(inner, dict):
            raise SpecError(
                f"{Path(path).name} is a dllab experiment without a network (a JSON object under 'network')"
            )
        network = inner
    return network, document


def read_experiment(path: str | os.PathLike[str]) -> Experiment:
    """The experiment in a file: an experiment document, a run's ``config.json`` (or its run folder) or a
    design of the app.

    Raises
    ------
    SpecError, SettingsError
        One sentence naming the file: it cannot be read, is a plain network, or holds invalid settings.
    """
    path = Path(path)
    if path.is_dir():  # a run folder
        path = path / RUN_CONFIG_FILE
    name = path.name if path.name != RUN_CONFIG_FILE else f"{path.parent.name}/{path.name}"
    network, document = read_network_document(path)
    return Experiment.from_dict(network if document is None else document, where=name)
