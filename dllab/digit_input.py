"""A drawing made ready for an image model the way MNIST's digits were.

LeCun, Cortes and Burges describe MNIST's preparation: each digit was scaled to fit a 20 x 20 box keeping its
aspect ratio (anti-aliased, so grey levels appear), then placed in the 28 x 28 field so that its centre of mass
falls on the field's centre. A digit drawn with the mouse meets a trained model only after the same steps:

1. :func:`render_strokes` turns the strokes (points as fractions of a square canvas) into ink on a grid, with
   a round, anti-aliased pen;
2. :func:`fit_like_mnist` crops the ink to its bounding box, resamples it so that the longer side fills the box
   (area averaging), and shifts it, to a fraction of a pixel, so that its centre of mass lies at the centre;
3. :func:`model_input` maps ink to the raw values the model's data held (0-255 for MNIST) and applies the
   model's own normalisation (:func:`dllab.data.model_inputs`), in the model's input shape.

:func:`read_input` then runs one forward pass and gives the class probabilities and every layer's output.
:func:`drawing_problem` says, in one sentence, why a model cannot take a drawing (no single-channel image
input). Everything here is numpy; the desktop app's Draw panel only shows it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dllab.data import model_inputs
from dllab.model import Sequential
from dllab.spec import LAYER_TYPES
from dllab.text import shape_text

#: MNIST's box and field: digits fill a 20 x 20 box inside the 28 x 28 image.
MNIST_BOX, MNIST_FIELD = 20, 28
#: The grid strokes are drawn on before they are fitted (fine enough for anti-aliasing at 28 x 28).
CANVAS_PIXELS = 112
#: Pen width as a share of the canvas side: about MNIST's stroke when a digit fills most of the canvas.
PEN_WIDTH = 0.075
#: Ink below this level does not count towards the bounding box (anti-aliasing fringes).
INK_THRESHOLD = 0.05

Stroke = Sequence[tuple[float, float]] | np.ndarray


# --- the model -----------------------------------------------------------------------------------------------


def drawing_image_shape(model: Sequential) -> tuple[int, int] | None:
    """Height and width of the single-channel image ``model`` takes, or None when it takes none.

    A convolutional model's input is ``(1, H, W)``; a multilayer perceptron trained on such images takes them
    flattened, and its preprocessing records the images' shape (else a square size, 784 = 28 x 28, is read as
    a square image).
    """
    shape = tuple(model.input_shape)
    if len(shape) == 3:
        return (shape[1], shape[2]) if shape[0] == 1 else None
    if len(shape) != 1:
        return None
    recorded = (model.preprocessing or {}).get("input_shape")
    if isinstance(recorded, list | tuple) and len(recorded) == 3 and recorded[0] == 1:
        if recorded[1] * recorded[2] == shape[0]:
            return int(recorded[1]), int(recorded[2])
        return None
    if recorded is not None and list(recorded) != [shape[0]]:
        return None
    side = math.isqrt(shape[0])
    return (side, side) if side * side == shape[0] and side >= 8 else None


def drawing_problem(model: Sequential | None) -> str | None:
    """Why a drawing cannot be given to ``model``, in one sentence (None: it can)."""
    if model is None:
        return "There is no trained model yet: train a network on an image data set or open a model file."
    if drawing_image_shape(model) is None:
        return (
            f"This model takes inputs of {shape_text(model.input_shape)}, not a single-channel image such as "
            "1×28×28: a drawing can only be given to a model of grayscale images."
        )
    if model.output_shape == () or math.prod(model.output_shape) < 2:
        return "This model has a single output: drawings are read by a model that tells classes apart."
    return None


def ink_range(preprocessing: dict[str, Any]) -> tuple[float, float]:
    """The raw values of no ink and of full ink in the data a model was trained on.

    A ``"scale"`` normalisation records the data's range (0 and 255 for MNIST's bytes); a standardised one
    records a mean, from which images of bytes (a mean above 1) are told from images in [0, 1]; without a
    normalisation, images are taken as bytes.
    """
    kind = (preprocessing or {}).get("kind", "none")
    if kind == "scale" and "low" in preprocessing:
        return float(preprocessing["low"][0]), float(preprocessing["high"][0])
    if kind == "standardize" and "mean" in preprocessing:
        return (0.0, 255.0) if float(preprocessing["mean"][0]) > 1.0 else (0.0, 1.0)
    return 0.0, 255.0


# --- drawing ---------------------------------------------------------------------------------------------------


def render_strokes(
    strokes: Sequence[Stroke], pixels: int = CANVAS_PIXELS, width: float = PEN_WIDTH
) -> np.ndarray:
    """Strokes drawn with a round pen on a square grid: ink in [0, 1], shape ``(pixels, pixels)``.

    Parameters
    ----------
    strokes
        Each a sequence of ``(x, y)`` points as fractions of the canvas side (x to the right, y down); a
        single point is a dot.
    pixels
        The grid's side.
    width
        The pen's diameter as a share of the side. Edges are anti-aliased over one pixel.
    """
    ink = np.zeros((pixels, pixels))
    centres = (np.arange(pixels) + 0.5) / pixels
    px, py = np.meshgrid(centres, centres)
    radius = width / 2
    feather = 1.0 / pixels
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if not len(points):
            continue
        starts = points if len(points) == 1 else points[:-1]
        ends = points if len(points) == 1 else points[1:]
        for (x0, y0), (x1, y1) in zip(starts, ends, strict=True):
            lo_x, hi_x = min(x0, x1) - radius - feather, max(x0, x1) + radius + feather
            lo_y, hi_y = min(y0, y1) - radius - feather, max(y0, y1) + radius + feather
            cols = slice(max(int(lo_x * pixels), 0), min(math.ceil(hi_x * pixels), pixels))
            rows = slice(max(int(lo_y * pixels), 0), min(math.ceil(hi_y * pixels), pixels))
            if cols.start >= cols.stop or rows.start >= rows.stop:
                continue
            qx, qy = px[rows, cols], py[rows, cols]
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = 0.0 if length2 == 0 else np.clip(((qx - x0) * dx + (qy - y0) * dy) / length2, 0.0, 1.0)
            distance = np.hypot(qx - (x0 + t * dx), qy - (y0 + t * dy))
            coverage = np.clip((radius - distance) / feather + 0.5, 0.0, 1.0)
            np.maximum(ink[rows, cols], coverage, out=ink[rows, cols])
    return ink


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights that resample a row of ``n_in`` cells to ``n_out`` by overlapping areas (each
    output cell the mean of the input it covers)."""
    edges_in = np.arange(n_in + 1) / n_in
    edges_out = np.arange(n_out + 1) / n_out
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    return np.clip(hi - lo, 0.0, None) * n_out


def _shift_weights(n_in: int, n_out: int, offset: float) -> np.ndarray:
    """``(n_out, n_in)`` weights of linear interpolation that put input cell ``i`` at output ``i + offset``
    (fractional offsets split a cell between two neighbours; the first moment moves by exactly ``offset``)."""
    whole = math.floor(offset)
    fraction = offset - whole
    weights = np.zeros((n_out, n_in))
    for i in range(n_in):
        for target, share in ((i + whole, 1.0 - fraction), (i + whole + 1, fraction)):
            if 0 <= target < n_out and share > 0:
                weights[target, i] += share
    return weights


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """The ``(row, column)`` centre of mass of a 2D image, in pixel indices (the first pixel's centre is 0)."""
    total = float(image.sum())
    if total <= 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0])
    cols = np.arange(image.shape[1])
    return float(image.sum(axis=1) @ rows) / total, float(image.sum(axis=0) @ cols) / total


def fit_like_mnist(ink: np.ndarray, field: tuple[int, int] = (MNIST_FIELD, MNIST_FIELD)) -> np.ndarray:
    """Ink fitted into an image of ``field`` as MNIST's digits were: its bounding box scaled so that the longer
    side fills the box (20 of 28, in proportion for other sizes), aspect ratio kept, and its centre of mass put
    at the field's centre (row and column ``field / 2``, where MNIST's lie).

    Returns zeros when there is no ink.
    """
    height, width = field
    out = np.zeros(field)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if not len(rows):
        return out
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box = max(1, round(min(height, width) * MNIST_BOX / MNIST_FIELD))
    scale = box / max(crop.shape)
    h = max(1, min(box, round(crop.shape[0] * scale)))
    w = max(1, min(box, round(crop.shape[1] * scale)))
    small = _area_weights(crop.shape[0], h) @ crop @ _area_weights(crop.shape[1], w).T
    cy, cx = centre_of_mass(small)
    out = _shift_weights(h, height, height / 2 - cy) @ small @ _shift_weights(w, width, width / 2 - cx).T
    return np.clip(out, 0.0, 1.0)


# --- the model's input ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedDrawing:
    """A drawing as a model takes it.

    Attributes
    ----------
    ink : numpy.ndarray
        ``(H, W)`` ink in [0, 1] after fitting: the image the network sees, before its normalisation.
    x : numpy.ndarray
        ``(1, *model.input_shape)`` float32: the network's input (normalised as its training data were).
    """

    ink: np.ndarray
    x: np.ndarray

    @property
    def has_ink(self) -> bool:
        return bool(self.ink.any())


def model_input(ink: np.ndarray, model: Sequential) -> np.ndarray:
    """Fitted ink ``(H, W)`` in [0, 1] as ``model``'s input: scaled to the raw range of its data
    (:func:`ink_range`), then normalised by its stored preprocessing, in its input shape (``(1, ...)``)."""
    low, high = ink_range(model.preprocessing)
    raw = (low + ink * (high - low))[None, None].astype(np.float32)
    return model_inputs(raw, model.preprocessing, model.input_shape)


def prepare_drawing(strokes: Sequence[Stroke], model: Sequential) -> PreparedDrawing:
    """Strokes drawn on a square canvas, rendered and fitted like MNIST, as ``model``'s input.

    ``model`` must take a single-channel image (:func:`drawing_problem` is None).
    """
    shape = drawing_image_shape(model)
    if shape is None:
        raise ValueError(drawing_problem(model))
    ink = fit_like_mnist(render_strokes(strokes), shape)
    return PreparedDrawing(ink, model_input(ink, model))


def prepare_image(image: np.ndarray, model: Sequential) -> PreparedDrawing:
    """A raw image (as a data set holds it, in the raw range of ``model``'s data) fitted like MNIST again and
    made ``model``'s input: a check that the preparation of drawings matches the data's own."""
    shape = drawing_image_shape(model)
    if shape is None:
        raise ValueError(drawing_problem(model))
    low, high = ink_range(model.preprocessing)
    ink = (np.asarray(image, dtype=np.float64).reshape(shape) - low) / (high - low)
    fitted = fit_like_mnist(ink, shape)
    return PreparedDrawing(fitted, model_input(fitted, model))


@dataclass(frozen=True)
class InputReading:
    """What a model makes of one input: its class probabilities and every layer's output (one forward pass)."""

    probabilities: np.ndarray
    #: ``(layer name, layer type, output for the one sample)``, first layer first.
    outputs: list[tuple[str, str, np.ndarray]]

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    def first_feature_maps(self) -> tuple[str, np.ndarray] | None:
        """The first convolution's feature maps ``(channels, H, W)``, after the activation that follows it when
        one does; None for a model without convolutions."""
        for k, (name, type_name, out) in enumerate(self.outputs):
            if type_name == "Conv2D":
                if k + 1 < len(self.outputs) and self.outputs[k + 1][2].shape == out.shape:
                    following = self.outputs[k + 1]
                    return f"{name} → {following[1]}", following[2]
                return name, out
        return None

    def hidden_activations(self) -> list[tuple[str, np.ndarray]]:
        """The outputs of the activation layers that give vectors, before the last layer (the hidden units)."""
        found = []
        for k, (_name, type_name, out) in enumerate(self.outputs[:-1]):
            if out.ndim == 1 and k > 0 and LAYER_TYPES[type_name].category == "Activation":
                found.append((f"{self.outputs[k - 1][0]} → {type_name}", out))
        return found


def read_input(model: Sequential, x: np.ndarray) -> InputReading:
    """One forward pass of ``model`` (inference) on one prepared input ``x`` ``(1, ...)``: its probabilities (the
    loss's output function, e.g. softmax) and every layer's output."""
    with np.errstate(all="ignore"):
        outputs = model.activations(x)
        probabilities = model.loss.output(outputs[-1])[0]
    return InputReading(
        np.asarray(probabilities, dtype=np.float64),
        [
            (layer.name, layer.type_name, np.array(out[0]))
            for layer, out in zip(model.layers, outputs, strict=True)
        ],
    )
