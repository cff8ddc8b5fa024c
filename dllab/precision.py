"""A model computed in another floating-point precision: float64, float32 or float16 (the book's section 8.3.4).

:func:`at_precision` copies a model into a :class:`PrecisionModel` whose weights and activations are stored
in the precision asked for. In float64 and float32 every layer also computes in that type, as any dllab model
does.

float16 is stored, not computed, in float16: the weights are rounded to float16 once, the inputs are rounded
to float16, and every layer reads float16 values, computes in float32 and rounds its output to float16 before
the next layer reads it. A float16 value is exact in float32, so each matrix product multiplies float16
numbers and accumulates the sums in float32, as a GPU's tensor cores do; what is lost is what float16 storage
loses. numpy has no float16 matrix product in BLAS (its own float16 loops are about ten times slower than
float32), which is why the arithmetic is float32's: results are those of float16 storage, and times are those of
float32 arithmetic plus the rounding. The model keeps its float16 weights (:attr:`PrecisionModel.stored_weights`,
2 bytes a value) and float32 copies of them to compute with.

>>> half = at_precision(dllab.load("deep_conv_net.dllab.npz"), "float16")    # doctest: +SKIP
>>> half.predict(x).argmax(axis=1)                                           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from dllab.errors import SettingsError
from dllab.layers import shown
from dllab.model import Sequential
from dllab.spec import build_layers

#: The precisions a model can be computed in, widest first.
PRECISIONS = ("float64", "float32", "float16")
#: How float16 is computed, in one sentence (for tables and views).
FLOAT16_METHOD = (
    "float16 is computed here with weights and activations stored in float16, each layer computing in float32 "
    "from them and rounding its output to float16 (float16 products summed in float32, as GPU tensor cores do; "
    "numpy has no fast float16 matrix product)"
)


def precision_dtype(precision: Any) -> np.dtype:
    """The numpy dtype of a precision's name (``"float16"``, ``"float32"`` or ``"float64"``).

    Raises
    ------
    SettingsError
        For any other name.
    """
    if isinstance(precision, str) and precision.strip().lower() in PRECISIONS:
        return np.dtype(precision.strip().lower())
    raise SettingsError(f"the precision must be one of {', '.join(PRECISIONS)}, got {shown(precision)}")


class PrecisionModel(Sequential):
    """A copy of a model whose weights and activations are stored in :attr:`storage_dtype`.

    It computes in ``dtype``: the storage type itself for float32 and float64, float32 for float16 (see the
    module docstring). A float16 model only predicts; it cannot be trained.

    Parameters
    ----------
    model
        The model to copy (any precision); its preprocessing, class names and training summary come along.
    precision
        ``"float64"``, ``"float32"`` or ``"float16"``.
    """

    def __init__(self, model: Sequential, precision: str) -> None:
        storage = precision_dtype(precision)
        compute = np.dtype(np.float32) if storage == np.float16 else storage
        canonical, layers, loss = build_layers(model.spec)
        super().__init__(canonical, layers, loss, seed=0, dtype=compute)
        #: The type weights and activations are kept in.
        self.storage_dtype = storage
        #: The weights as stored: the model's, rounded to :attr:`storage_dtype`.
        self.stored_weights = {key: value.astype(storage) for key, value in model.get_weights().items()}
        self.set_weights(self.stored_weights)
        self.preprocessing = dict(model.preprocessing)
        self.class_names = list(model.class_names)
        self.training_summary = dict(model.training_summary)

    @property
    def precision(self) -> str:
        """The name of the storage type, e.g. ``"float16"``."""
        return self.storage_dtype.name

    @property
    def rounds(self) -> bool:
        """Whether values are rounded to storage between layers (float16), i.e. storage differs from arithmetic."""
        return self.storage_dtype != self.dtype

    def layer_outputs(self, x: np.ndarray) -> Iterator[np.ndarray]:
        """Every layer's output for ``x`` in inference mode, as stored (in :attr:`storage_dtype`), in order."""
        out = self._stored(self._as_input(x))
        for layer in self.layers:
            out = self._stored(layer.forward(out.astype(self.dtype, copy=False), False))
            yield out

    def _stored(self, values: np.ndarray) -> np.ndarray:
        if not self.rounds:
            return values
        with np.errstate(over="ignore"):  # beyond float16's range is infinite, as float16 hardware gives
            return values.astype(self.storage_dtype)

    def _refuse_training(self) -> None:
        if self.rounds:
            raise SettingsError(f"a {self.precision} model only predicts here: train in float32 or float64")

    def loss_and_grads(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """As :meth:`Sequential.loss_and_grads`, only when storage is arithmetic."""
        self._refuse_training()
        return super().loss_and_grads(x, t)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Raw outputs (scores) in the arithmetic type; in training mode only when storage is arithmetic."""
        if training:
            self._refuse_training()
            return super().forward(x, training=True)
        out = None
        for out in self.layer_outputs(x):  # noqa: B007 - the last output is the result
            pass
        return self._as_input(x) if out is None else out.astype(self.dtype, copy=False)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``x`` in inference mode, as stored."""
        return list(self.layer_outputs(x))

    @property
    def parameter_bytes(self) -> int:
        """Bytes of the weights as stored (parameters and running statistics)."""
        return sum(value.nbytes for value in self.stored_weights.values())


def at_precision(model: Sequential, precision: str) -> PrecisionModel:
    """A copy of ``model`` that stores (and, except float16, computes) in ``precision``.

    Parameters
    ----------
    model
        The model, e.g. from :func:`dllab.load`.
    precision
        ``"float64"``, ``"float32"`` or ``"float16"``.

    Returns
    -------
    PrecisionModel

    Raises
    ------
    SettingsError
        For an unknown precision.
    """
    return PrecisionModel(model, precision)
