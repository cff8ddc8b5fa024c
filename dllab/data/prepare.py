"""From a loaded `Dataset` to what a network trains on: subset, validation and train-dev splits, distribution
shift, normalisation, shape.

The order is fixed: take the subset of the training set, split off the validation (dev) part, then the
train-dev part (both stratified, seeded), shift the dev and test images and a share of the training and
train-dev images when a distribution shift is asked for (:mod:`dllab.data.shift`), fit the `Normalizer` on the
training part only, apply it to all parts, reshape the samples to the network's input shape. The test set is
only transformed: it never takes part in fitting or selection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dllab.data.dataset import Dataset, DatasetError
from dllab.data.shift import check_shift, mixed, shift_images
from dllab.data.split import stratified_split, subset_indices

NORMALIZATIONS = ("none", "scale", "standardize")
_EPS = 1e-8


def reshape_for(x: np.ndarray, input_shape: tuple[int, ...] | list[int]) -> np.ndarray:
    """Reshape a batch so each sample has the network's input shape.

    Parameters
    ----------
    x : numpy.ndarray
        Batch with the sample index first, e.g. ``(N, 1, 28, 28)`` or ``(N, 784)``.
    input_shape : tuple of int
        Per-sample shape the network expects, e.g. ``(784,)`` for an MLP or ``(1, 28, 28)`` for a CNN.

    Returns
    -------
    numpy.ndarray
        ``x`` as ``(N, *input_shape)`` (a view when possible).

    Raises
    ------
    DatasetError
        The per-sample sizes differ; the message names both shapes.
    """
    shape = tuple(int(d) for d in input_shape)
    if x.shape[1:] == shape:
        return x
    have, want = math.prod(x.shape[1:]), math.prod(shape)
    if x.ndim < 1 or have != want or min(shape, default=1) < 1:
        raise DatasetError(
            f"samples of shape {tuple(x.shape[1:])} ({have} values) do not fit the network's input shape "
            f"{shape} ({want} values)"
        )
    return x.reshape((len(x), *shape))


def model_inputs(
    x: np.ndarray, preprocessing: dict[str, Any], input_shape: tuple[int, ...] | list[int]
) -> np.ndarray:
    """Raw samples as a trained model takes them: its stored preprocessing applied, float32, in its input shape.

    Parameters
    ----------
    x : numpy.ndarray
        Raw samples as a data set holds them (e.g. uint8 images).
    preprocessing : dict
        What the model file stores: a `Normalizer`'s ``to_dict()``, or empty for none.
    input_shape : tuple of int
        The network's per-sample input shape.

    Returns
    -------
    numpy.ndarray
        ``(N, *input_shape)`` float32 samples.

    Raises
    ------
    DatasetError
        When the preprocessing is invalid or the samples do not fit the input shape.
    """
    if preprocessing:
        x = Normalizer.from_dict(preprocessing).transform(x)
    return reshape_for(np.asarray(x, dtype=np.float32), input_shape)


def _channel_moments(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) standard deviation per index of axis 1, in float64, two passes in chunks."""
    axes = (0, *range(2, x.ndim))
    count = x.size // x.shape[1]
    total = np.zeros(x.shape[1])
    for start in range(0, len(x), chunk):
        total += x[start : start + chunk].sum(axis=axes, dtype=np.float64)
    mean = total / count
    shape = (1, -1) + (1,) * (x.ndim - 2)
    squares = np.zeros(x.shape[1])
    for start in range(0, len(x), chunk):
        centred = x[start : start + chunk].astype(np.float64) - mean.reshape(shape)
        squares += np.square(centred).sum(axis=axes)
    return mean, np.sqrt(squares / count)


class Normalizer:
    """Input normalisation fitted on the training split; part of a saved model.

    Statistics are kept per channel for images ``(N, C, H, W)`` and per feature for vectors ``(N, D)``
    (always per index of the first sample axis), so `transform` also accepts flattened samples of the
    fitted shape.

    Parameters
    ----------
    kind : {"none", "scale", "standardize"}
        ``"scale"`` maps to ``[0, 1]``: uint8 by 255, other data by the training minimum and maximum.
        ``"standardize"`` subtracts the training mean and divides by the training standard deviation.
    """

    def __init__(self, kind: str = "scale") -> None:
        if kind not in NORMALIZATIONS:
            raise DatasetError(f"normalization must be one of {NORMALIZATIONS}, not {kind!r}")
        self.kind = kind
        self.input_shape: tuple[int, ...] | None = None
        self.offset: np.ndarray | None = None  # subtracted, per channel / feature
        self.scale: np.ndarray | None = None  # divided by, per channel / feature

    @property
    def fitted(self) -> bool:
        """True once `fit` (or `from_dict`) has set the statistics (always True for ``"none"``)."""
        return self.kind == "none" or self.offset is not None

    def fit(self, x: np.ndarray) -> Normalizer:
        """Compute the statistics from training samples.

        Parameters
        ----------
        x : numpy.ndarray
            Raw training samples ``(N, C, ...)`` or ``(N, D)``, N at least 1.

        Returns
        -------
        Normalizer
            ``self``.
        """
        if x.ndim < 2 or not len(x):
            raise DatasetError(f"cannot fit a normalisation on samples of shape {x.shape}")
        self.input_shape = tuple(int(d) for d in x.shape[1:])
        if self.kind == "none":
            return self
        axes = (0, *range(2, x.ndim))
        if self.kind == "scale":
            if x.dtype == np.uint8:
                low = np.zeros(x.shape[1])
                high = np.full(x.shape[1], 255.0)
            else:
                low = x.min(axis=axes).astype(np.float64)
                high = x.max(axis=axes).astype(np.float64)
            self.offset, self.scale = low, np.where(high - low > _EPS, high - low, 1.0)
        else:
            mean, std = _channel_moments(x)
            self.offset, self.scale = mean, np.where(std > _EPS, std, 1.0)
        return self

    def transform(self, x: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
        """Normalise raw samples.

        Parameters
        ----------
        x : numpy.ndarray
            Raw samples (uint8 or float), of the fitted per-sample shape or flattened to its size.
        dtype : numpy dtype
            Output dtype (float32 by default).

        Returns
        -------
        numpy.ndarray
            A new float array of the same shape as ``x``.
        """
        if not self.fitted or self.input_shape is None:
            raise DatasetError("the normalisation has not been fitted to training data")
        out = np.asarray(x, dtype=dtype)
        out = out.copy() if out is x else out
        if self.kind == "none":
            return out
        shaped = reshape_for(out, self.input_shape)
        stat_shape = (1, -1) + (1,) * (len(self.input_shape) - 1)
        shaped -= self.offset.astype(dtype).reshape(stat_shape)
        shaped /= self.scale.astype(dtype).reshape(stat_shape)
        return shaped.reshape(out.shape)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """Map normalised samples back to the raw value range (float), e.g. to display them."""
        out = np.array(x, dtype=np.float64)
        if self.kind == "none":
            return out
        shaped = reshape_for(out, self.input_shape)
        stat_shape = (1, -1) + (1,) * (len(self.input_shape) - 1)
        return (shaped * self.scale.reshape(stat_shape) + self.offset.reshape(stat_shape)).reshape(out.shape)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable description: kind, input shape, per-channel statistics.

        ``"scale"`` gives ``low`` and ``high``; ``"standardize"`` gives ``mean`` and ``std``.
        """
        d: dict[str, Any] = {
            "kind": self.kind,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
        }
        if self.kind != "none" and self.offset is not None:
            first, second = ("low", "high") if self.kind == "scale" else ("mean", "std")
            d[first] = [float(v) for v in self.offset]
            d[second] = [float(v) for v in (self.offset + self.scale if self.kind == "scale" else self.scale)]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        """Rebuild a fitted normaliser from `to_dict`'s output."""
        try:
            norm = cls(d["kind"])
            shape = d.get("input_shape")
            norm.input_shape = None if shape is None else tuple(int(v) for v in shape)
            if norm.kind == "scale" and "low" in d:
                low, high = np.asarray(d["low"], np.float64), np.asarray(d["high"], np.float64)
                norm.offset, norm.scale = low, np.where(high - low > _EPS, high - low, 1.0)
            elif norm.kind == "standardize" and "mean" in d:
                std = np.asarray(d["std"], np.float64)
                norm.offset, norm.scale = np.asarray(d["mean"], np.float64), np.where(std > _EPS, std, 1.0)
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"invalid normalisation description {d!r} ({exc})") from None
        if norm.offset is not None and norm.input_shape and len(norm.offset) != norm.input_shape[0]:
            raise DatasetError(
                f"invalid normalisation description: {len(norm.offset)} statistics for input shape "
                f"{norm.input_shape}"
            )
        return norm

    def __repr__(self) -> str:
        return f"Normalizer({self.to_dict()})"


@dataclass(repr=False, eq=False)
class PreparedData:
    """Normalised, reshaped arrays ready for training, plus what a saved model must remember.

    Attributes
    ----------
    x_train, y_train, x_val, y_val, x_test, y_test : numpy.ndarray
        Samples as ``(N, *input_shape)`` in the chosen dtype; labels as in `Dataset`.
    normalizer : Normalizer
        Fitted on ``x_train`` only; store ``normalizer.to_dict()`` with the model.
    class_names : list of str
    task : str
    input_shape : tuple of int
        Per-sample shape of the x arrays.
    image_shape : tuple of int or None
        The data's own per-sample shape when it is an image ``(C, H, W)`` (for augmentation and display).
    name : str
    x_train_dev, y_train_dev : numpy.ndarray
        The train-dev set: held out of the training data (its distribution, never trained on); empty when
        no train-dev split is asked for.
    dev_shift : str
        The distribution shift of the dev and test sets (``"none"``: none), see :mod:`dllab.data.shift`.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    normalizer: Normalizer
    class_names: list[str]
    task: str
    input_shape: tuple[int, ...]
    image_shape: tuple[int, ...] | None
    name: str
    x_train_dev: np.ndarray | None = None
    y_train_dev: np.ndarray | None = None
    dev_shift: str = "none"

    def __post_init__(self) -> None:
        if self.x_train_dev is None:
            self.x_train_dev = self.x_val[:0].copy()
        if self.y_train_dev is None:
            self.y_train_dev = self.y_val[:0].copy()

    @property
    def num_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.task == "classification" else 0

    def __repr__(self) -> str:
        return (
            f"PreparedData({self.name!r}, train={len(self.x_train)}, train_dev={len(self.x_train_dev)}, "
            f"val={len(self.x_val)}, test={len(self.x_test)}, input_shape={self.input_shape}, normalization={self.normalizer.kind!r})"
        )


def prepare(
    dataset: Dataset,
    *,
    input_shape: tuple[int, ...] | list[int] | None = None,
    val_fraction: float = 0.1,
    subset: int | None = None,
    subset_mode: str = "first",
    normalization: str = "scale",
    seed: int | np.random.Generator = 0,
    dtype: npt.DTypeLike = np.float32,
    train_dev_fraction: float = 0.0,
    dev_shift: str = "none",
    shift_mix: float = 0.0,
) -> PreparedData:
    """Subset, split, normalise and reshape a data set for training.

    Parameters
    ----------
    dataset : Dataset
        Raw data as loaded.
    input_shape : tuple of int, optional
        The network's per-sample input shape, e.g. ``(784,)`` or ``(1, 28, 28)``; the data's own shape
        when None. Its size must equal the data's per-sample size.
    val_fraction : float
        Share of the (subset of the) training set held out for validation, stratified by class; 0 gives
        empty validation arrays.
    subset : int, optional
        Use only this many training samples (taken before the validation split).
    subset_mode : {"first", "random"}
        The first ``subset`` samples or a seeded random choice of them.
    normalization : {"scale", "standardize", "none"}
        See `Normalizer`; fitted on the training part only.
    seed : int or numpy.random.Generator
        Seeds the random subset and the validation split.
    dtype : numpy dtype
        dtype of the x arrays (float32 by default, float64 for gradient checks).
    train_dev_fraction : float
        Share of the (subset of the) training set held out as the train-dev set, stratified, besides the
        validation split; ``val_fraction + train_dev_fraction`` must stay below 1.
    dev_shift : str
        A distribution shift of the dev (validation) and test images (:data:`dllab.data.shift.SHIFTS`).
    shift_mix : float
        Share of the training and train-dev images given the same shift (the remedy for data mismatch:
        dev-like synthetic samples in the training data), in [0, 1].

    Returns
    -------
    PreparedData
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    subset_rng, split_rng, train_dev_rng, shift_rng = rng.spawn(4)
    shape = dataset.input_shape if input_shape is None else tuple(int(d) for d in input_shape)
    reshape_for(dataset.x_test[:0], shape)  # fail early, naming both shapes
    check_shift(dev_shift)
    if dev_shift != "none" and not dataset.is_image:
        raise DatasetError(f"a dev shift works on images, and the data set {dataset.name!r} holds none")
    if not (0.0 <= train_dev_fraction < 1.0 - val_fraction):
        raise DatasetError(
            f"the train-dev fraction must be at least 0 and leave training samples beside the validation "
            f"split ({val_fraction:g}), got {train_dev_fraction!r}"
        )
    if not 0.0 <= shift_mix <= 1.0:
        raise DatasetError(f"the shift mix must be a share between 0 and 1, got {shift_mix!r}")
    chosen = subset_indices(len(dataset.x_train), subset, subset_mode, subset_rng)
    keep, held = stratified_split(dataset.y_train[chosen], val_fraction, split_rng)
    train, val = chosen[keep], chosen[held]
    train_dev = train[:0]
    if train_dev_fraction:
        kept, held_out = stratified_split(
            dataset.y_train[train], train_dev_fraction / (1.0 - val_fraction), train_dev_rng
        )
        train, train_dev = train[kept], train[held_out]
    if not len(train):
        raise DatasetError(
            f"dataset {dataset.name!r}: no training samples are left after the validation split"
        )
    image_shape = dataset.input_shape if dataset.is_image else None
    x_train, x_train_dev = dataset.x_train[train], dataset.x_train[train_dev]
    x_val, x_test = dataset.x_train[val], dataset.x_test
    if dev_shift != "none":
        dev_rng, test_rng, train_rng, train_dev_shift_rng = shift_rng.spawn(4)
        x_val = shift_images(x_val, dev_shift, dev_rng, image_shape)
        x_test = shift_images(x_test, dev_shift, test_rng, image_shape)
        x_train = mixed(x_train, shift_mix, dev_shift, train_rng, image_shape)
        x_train_dev = mixed(x_train_dev, shift_mix, dev_shift, train_dev_shift_rng, image_shape)
    normalizer = Normalizer(normalization).fit(x_train)

    def finish(x: np.ndarray) -> np.ndarray:
        return reshape_for(normalizer.transform(x, dtype), shape)

    return PreparedData(
        x_train=finish(x_train),
        y_train=dataset.y_train[train],
        x_val=finish(x_val),
        y_val=dataset.y_train[val],
        x_test=finish(x_test),
        y_test=dataset.y_test.copy(),
        normalizer=normalizer,
        class_names=list(dataset.class_names),
        task=dataset.task,
        input_shape=shape,
        image_shape=image_shape,
        name=dataset.name,
        x_train_dev=finish(x_train_dev),
        y_train_dev=dataset.y_train[train_dev],
        dev_shift=dev_shift,
    )
