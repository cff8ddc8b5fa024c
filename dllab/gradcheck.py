"""Gradient check: backpropagation against centred numerical differences, in float64.

The numerical gradient of each checked element is ``(L(p + h) - L(p - h)) / 2h``
(:func:`dllab.numerical.central_differences`, the loop of :func:`dllab.numerical_gradient`). The relative error of a
parameter is ``|g_backprop - g_numeric| / (|g_backprop| + |g_numeric|)`` over its checked elements
(Euclidean norms); around 1e-7 or less means the backward pass is right. A parameter whose gradients are
all below the rounding noise of the centred difference on both sides counts as zero (error 0).

Kinks: where ReLU or max pooling switch between ``p - h`` and ``p + h`` the loss is not differentiable and
the centred difference measures the kink, not the gradient (with small initial weights, many pooled values
lie within ``h`` of each other). Each element is differenced with ``h`` and with ``h / 2`` too; where the two
disagree by more than the rounding noise, the element straddles a kink and is left out of the comparison
(counted in ``kinks``). A wrong backward pass on a smooth stretch is still caught: both steps agree there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.model import Sequential, build
from dllab.numerical import central_differences, relative_error
from dllab.optimizers import check_number, check_whole_number

#: The largest random batch a check draws: every checked element costs two passes over the whole batch.
MAX_BATCH_SIZE = 1024


@dataclass
class GradcheckResult:
    """Relative error, the number of elements compared and of those left out at kinks, per parameter."""

    errors: dict[str, float]
    checked: dict[str, int]
    kinks: dict[str, int] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def passed(self, tolerance: float = 1e-6) -> bool:
        return self.max_error < tolerance

    def report(self) -> str:
        """One line per parameter: key, elements compared, relative error, and elements left out at kinks."""
        width = max((len(k) for k in self.errors), default=5)
        lines = [f"{'parameter'.ljust(width)}  checked  relative error  at kinks"]
        for key, err in self.errors.items():
            lines.append(
                f"{key.ljust(width)}  {self.checked[key]:7d}  {err:14.2e}  {self.kinks.get(key, 0):8d}"
            )
        return "\n".join(lines)


def _sample_inputs(model: Sequential, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(batch, *model.input_shape))
    units = model.output_shape[0]
    if model.loss.name == "softmax_cross_entropy":
        t = rng.integers(0, units, size=batch)
    elif model.loss.name == "sigmoid_binary_cross_entropy":
        t = (rng.random((batch, units)) < 0.5).astype(np.float64)
    else:
        t = rng.normal(size=(batch, units))
    return x, t


def gradcheck(
    model: Sequential | dict[str, Any] | str | Path,
    x: np.ndarray | None = None,
    t: np.ndarray | None = None,
    *,
    h: float = 1e-5,
    max_checks: int | None = 40,
    batch_size: int = 4,
    seed: int = 0,
) -> GradcheckResult:
    """Compare backprop gradients with centred numerical differences, parameter by parameter.

    Parameters
    ----------
    model
        A float64 model, or a spec (dict or path) that is then built in float64.
    x, t
        Inputs and labels; random ones of ``batch_size`` samples when omitted.
    h
        Step of the centred difference.
    max_checks
        Elements checked per parameter, at least 1, drawn at random (``None``: every element).
    batch_size
        Samples in the random batch, from 1 to :data:`MAX_BATCH_SIZE` (unused when ``x`` and ``t`` are given).
    seed
        Seeds the random inputs and the choice of elements, ``>= 0``.

    Returns
    -------
    GradcheckResult
        The relative error and the number of checked elements of every trainable parameter. Frozen layers'
        parameters get no gradient (they are absent from ``loss_and_grads``) and are not checked; the
        gradient flowing through a frozen layer to a trainable one before it is.

    Raises
    ------
    SettingsError
        For an ``h`` that is not a finite number > 0, a ``max_checks``, ``batch_size`` or ``seed`` out of
        range, or a model without trainable parameters: no check passes having checked nothing.
    ValueError
        For a model that is not float64.

    Notes
    -----
    The model is left as it was: weights, running statistics and the dropout generator are restored, and
    each evaluation replays the same dropout mask.
    """
    h = check_number("gradcheck", "h", h, minimum=0.0, min_inclusive=False)
    if max_checks is not None:
        max_checks = check_whole_number("max_checks", max_checks)
    batch_size = check_whole_number("batch_size", batch_size, maximum=MAX_BATCH_SIZE)
    seed = check_whole_number("seed", seed, minimum=0)
    if not isinstance(model, Sequential):
        model = build(model, seed=seed, dtype=np.float64)
    if model.dtype != np.float64:
        raise ValueError(
            f"gradient checks need a float64 model (dllab.build(..., dtype=np.float64)), got {model.dtype}"
        )
    if not model.params:
        raise SettingsError(f"the network {quote(model.name)} has no parameters to check")
    if not model.trainable_params:
        raise SettingsError(
            f"the network {quote(model.name)} has no trainable parameters to check (all are frozen)"
        )
    rng = np.random.default_rng(seed)
    if x is None or t is None:
        x_sample, t_sample = _sample_inputs(model, batch_size, rng)
        x = x_sample if x is None else x
        t = t_sample if t is None else t
    saved_state = {k: v.copy() for k, v in model.state.items()}
    rng_state = model.rng.bit_generator.state

    def loss_at() -> float:
        model.rng.bit_generator.state = rng_state
        return model.loss.forward(model.forward(x, training=True), t)

    model.rng.bit_generator.state = rng_state
    loss, grads = model.loss_and_grads(x, t)
    # Rounding noise of one centred difference (about eps·|L| / h, with margin): gradients below it on both
    # sides cannot be told apart from zero, e.g. the bias of a layer followed by BatchNorm, whose true
    # gradient is zero; their relative error would otherwise compare two kinds of noise and read 1.
    noise = 100 * np.finfo(np.float64).eps * max(1.0, abs(loss)) / h
    analytic = {k: g.copy() for k, g in grads.items()}
    errors: dict[str, float] = {}
    checked: dict[str, int] = {}
    kinks: dict[str, int] = {}
    for key, param in model.trainable_params.items():
        if max_checks is None or param.size <= max_checks:
            indices = np.arange(param.size)
        else:
            indices = rng.choice(param.size, size=max_checks, replace=False)
        numeric = central_differences(loss_at, param, h, indices)
        # The half step's rounding noise is twice the full step's; the truncation error is far below both.
        smooth = np.abs(numeric - central_differences(loss_at, param, h / 2, indices)) <= 3 * noise
        backprop = analytic[key].reshape(-1)[indices][smooth]
        numeric = numeric[smooth]
        below_noise = max(np.abs(backprop).max(initial=0.0), np.abs(numeric).max(initial=0.0)) <= noise
        errors[key] = 0.0 if below_noise else relative_error(backprop, numeric)
        checked[key] = int(smooth.sum())
        kinks[key] = len(indices) - checked[key]
    for key, value in saved_state.items():
        model.state[key][...] = value
    model.rng.bit_generator.state = rng_state
    return GradcheckResult(errors, checked, kinks)
