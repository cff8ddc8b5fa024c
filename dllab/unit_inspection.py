"""One unit of a trained network for one sample: the book's ``A = XW + B`` written out with the real numbers.

A unit is one output of a Dense layer (``(j,)``) or one position of one channel of a Conv2D layer
(``(channel, row, column)``). :func:`inspect_unit` gives, for one sample and its label:

- the inputs that reach the unit (a Dense layer's whole input vector; a convolution's window over every input
  channel, padding as zeros), its weights and bias, and the weighted sum ``a = Σ xᵢ·wᵢ + b`` (chapter 3);
- what the shape-keeping layers after it (the activation, a batch normalisation, dropout) make of ``a``;
- the gradient of the sample's loss that flows back to the unit, ``∂L/∂a`` and ``∂L/∂`` each value after it,
  and what that means for its weights, ``∂L/∂wᵢ = xᵢ · ∂L/∂a`` (chapter 5);
- for a convolution, the receptive field: the part of the input image the unit sees, through every window
  (convolution, pooling) before it.

The numbers come from the model's own layers (``forward`` and ``backward``) run in float64 on a copy of the
model, in inference form: batch normalisation with its running statistics, dropout as at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import dllab
from dllab.data import reshape_for
from dllab.layers import Dropout, Layer, _Windowed
from dllab.model import Sequential

#: The layers whose units have weights and a bias.
UNIT_LAYERS = ("Dense", "Conv2D")
#: Shape-keeping layers that act on each value on its own, after a unit's weighted sum.
_FOLLOWERS = ("Activation",)
_FOLLOWER_TYPES = ("BatchNorm", "Dropout")


@dataclass(frozen=True)
class AfterStep:
    """One shape-keeping layer after the unit: its value there and the gradient of the loss with respect to it."""

    name: str
    type_name: str
    value: float
    gradient: float


@dataclass(frozen=True)
class UnitInspection:
    """One unit for one sample (see the module's description).

    Attributes
    ----------
    inputs, weights : numpy.ndarray
        The same shape: ``(in_features,)`` for a Dense unit, ``(in_channels, kh, kw)`` for a convolution's.
    weighted_sum : float
        ``a = Σ inputs·weights + bias``, as the layer computed it.
    sum_gradient : float
        ``∂L/∂a`` for the sample's loss.
    weight_gradients : numpy.ndarray
        ``∂L/∂wᵢ = xᵢ · ∂L/∂a``: this sample's and this position's share of the weights' gradient.
    after : tuple of AfterStep
        The activation (and batch normalisation, dropout) that follow, in order.
    receptive_field : tuple of int or None
        ``(top, bottom, left, right)`` rows and columns of the network's input image the unit sees, bottom and
        right exclusive, clipped to the image; None for a Dense unit (it sees its whole input).
    window : tuple of int or None
        ``(top, left)`` of the convolution's window in its input, before padding (may be negative).
    """

    layer_index: int
    layer_name: str
    layer_type: str
    unit: tuple[int, ...]
    inputs: np.ndarray
    weights: np.ndarray
    bias: float
    weighted_sum: float
    sum_gradient: float
    weight_gradients: np.ndarray
    after: tuple[AfterStep, ...]
    loss: float
    probabilities: np.ndarray
    label: int | None
    receptive_field: tuple[int, int, int, int] | None
    window: tuple[int, int] | None

    @property
    def output(self) -> float:
        """The unit's value after the layers that follow it (its activation)."""
        return self.after[-1].value if self.after else self.weighted_sum

    @property
    def output_gradient(self) -> float:
        """``∂L/∂`` the unit's value after the layers that follow it."""
        return self.after[-1].gradient if self.after else self.sum_gradient

    def terms(self) -> np.ndarray:
        """Each input times its weight, ``xᵢ·wᵢ`` (the sum's terms), in the inputs' shape."""
        return self.inputs * self.weights


def unit_layers(model: Sequential) -> list[int]:
    """Indices of the layers whose units can be inspected (Dense and Conv2D)."""
    return [i for i, layer in enumerate(model.layers) if layer.type_name in UNIT_LAYERS]


def unit_problem(model: Sequential | None, layer_index: int, unit: tuple[int, ...]) -> str | None:
    """Why ``unit`` of layer ``layer_index`` cannot be inspected in ``model``, in one sentence (None: it can)."""
    if model is None:
        return "Looking inside a prediction needs weights: train the network or open a model file first."
    if not 0 <= layer_index < len(model.layers):
        return f"The model has {len(model.layers)} layers: there is no layer {layer_index + 1}."
    layer = model.layers[layer_index]
    if layer.type_name not in UNIT_LAYERS:
        return f"{layer.name} ({layer.type_name}) has no weights of its own: choose a Dense or Conv2D layer."
    shape = tuple(layer.output_shape or ())
    if len(unit) != len(shape) or any(not 0 <= u < n for u, n in zip(unit, shape, strict=True)):
        return f"{layer.name} has outputs of shape {shape}: there is no unit {unit}."
    return None


def design_problem(model: Sequential, spec: dict) -> str | None:
    """Why the network ``spec`` (the design on screen) is not ``model``'s, in one sentence (None: it is)."""
    analysis = dllab.analyze(spec)
    design = [(info.type_name, tuple(info.output_shape or ())) for info in analysis.layers]
    trained = [(layer.type_name, tuple(layer.output_shape or ())) for layer in model.layers]
    if analysis.error is not None or design != trained:
        return (
            "The network on screen is not the model's any more: train it again, or open the model, to look "
            "inside its units."
        )
    return None


def _float64_copy(model: Sequential) -> Sequential:
    """The model rebuilt in float64 with its weights, batch normalisation using its running statistics."""
    work = dllab.build(model.spec, dtype=np.float64)
    work.set_weights(model.get_weights())
    for layer in work.layers:
        if layer.type_name == "BatchNorm":
            layer.trainable = (
                False  # a frozen BatchNorm normalises with its running statistics in training too
            )
        layer.needs_input_grad = True
    return work


def _forward(layers: list[Layer], x: np.ndarray) -> list[np.ndarray]:
    """Each layer's output, keeping what backward needs (dropout in its inference form)."""
    outputs = []
    for layer in layers:
        x = layer.forward(x, training=not isinstance(layer, Dropout))
        outputs.append(x)
    return outputs


def _backward(layer: Layer, dout: np.ndarray) -> np.ndarray:
    if isinstance(layer, Dropout):  # at inference dropout multiplies by a constant
        return dout * layer.inference_scale()
    grad = layer.backward(dout)
    assert grad is not None
    return grad


def receptive_field(model: Sequential, layer_index: int, row: int, col: int) -> tuple[int, int, int, int]:
    """The rows and columns ``(top, bottom, left, right)`` (bottom, right exclusive) of the network's input that
    position ``(row, col)`` of layer ``layer_index``'s output depends on, through every window before it,
    clipped to the input."""
    top, bottom, left, right = row, row, col, col  # inclusive, in the coordinates of the layer's output
    for layer in reversed(model.layers[: layer_index + 1]):
        if isinstance(layer, _Windowed):
            (kh, kw), (sh, sw), pads = layer.kernel, layer.stride, layer.pads
            top, bottom = top * sh - pads[0], bottom * sh - pads[0] + kh - 1
            left, right = left * sw - pads[2], right * sw - pads[2] + kw - 1
    height, width = model.input_shape[1], model.input_shape[2]
    return max(top, 0), min(bottom + 1, height), max(left, 0), min(right + 1, width)


def inspect_unit(
    model: Sequential, x: np.ndarray, label: int | np.ndarray | None, layer_index: int, unit: tuple[int, ...]
) -> UnitInspection:
    """One unit of ``model`` for one prepared sample ``x`` (``(1, ...)`` or one sample) and its ``label``.

    Parameters
    ----------
    model
        A trained model (read, never changed).
    x
        The sample as the network takes it (normalised).
    label
        Its class index (or target row for a regression); None takes the class the model predicts, so the
        gradient shows what would make the model surer of its own answer.
    layer_index, unit
        A Dense or Conv2D layer and ``(j,)`` or ``(channel, row, column)`` in its output.

    Raises
    ------
    ValueError
        For a layer or unit that cannot be inspected (:func:`unit_problem`'s sentence).
    """
    problem = unit_problem(model, layer_index, tuple(unit))
    if problem is not None:
        raise ValueError(problem)
    unit = tuple(int(u) for u in unit)
    work = _float64_copy(model)
    sample = reshape_for(np.asarray(x, dtype=np.float64).reshape(1, -1), work.input_shape)
    with np.errstate(all="ignore"):
        outputs = _forward(work.layers, sample)
        probabilities = work.loss.output(outputs[-1])[0]
        if label is None:
            if work.loss.name == "mse":
                raise ValueError("A regression sample needs its target to give a loss and a gradient.")
            label = int(np.argmax(probabilities)) if probabilities.size > 1 else int(probabilities[0] > 0.5)
        target = np.asarray(label)[None] if np.ndim(label) == 0 else np.asarray(label, dtype=np.float64)[None]
        loss = float(work.loss.forward(outputs[-1], target))
        dout = work.loss.backward()
        gradients: dict[int, np.ndarray] = {}
        for i in range(len(work.layers) - 1, layer_index - 1, -1):
            gradients[i] = dout
            if i > layer_index:
                dout = _backward(work.layers[i], dout)
    layer = work.layers[layer_index]
    layer_input = outputs[layer_index - 1] if layer_index > 0 else sample
    weights, bias = layer.params["W"], layer.params["b"]
    field = window = None
    if layer.type_name == "Dense":
        (j,) = unit
        inputs, w, b = layer_input[0].copy(), weights[:, j].copy(), float(bias[j])
    else:
        channel, row, col = unit
        (kh, kw), (sh, sw), pads = layer.kernel, layer.stride, layer.pads
        window = (row * sh - pads[0], col * sw - pads[2])
        padded = np.pad(layer_input[0], ((0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
        inputs = padded[:, row * sh : row * sh + kh, col * sw : col * sw + kw].copy()
        w, b = weights[channel].copy(), float(bias[channel])
        if len(work.input_shape) == 3:
            field = receptive_field(work, layer_index, row, col)
    index = (0, *unit)
    after = []
    for k in range(layer_index + 1, len(work.layers)):
        follower = work.layers[k]
        if follower.output_shape != layer.output_shape or not (
            follower.category in _FOLLOWERS or follower.type_name in _FOLLOWER_TYPES
        ):
            break
        after.append(
            AfterStep(follower.name, follower.type_name, float(outputs[k][index]), float(gradients[k][index]))
        )
    sum_gradient = float(gradients[layer_index][index])
    return UnitInspection(
        layer_index=layer_index,
        layer_name=layer.name,
        layer_type=layer.type_name,
        unit=unit,
        inputs=inputs,
        weights=w,
        bias=b,
        weighted_sum=float(outputs[layer_index][index]),
        sum_gradient=sum_gradient,
        weight_gradients=inputs * sum_gradient,
        after=tuple(after),
        loss=loss,
        probabilities=np.asarray(probabilities, dtype=np.float64),
        label=int(label) if np.ndim(label) == 0 else None,
        receptive_field=field,
        window=window,
    )
