"""Sequential models: a stack of layers and a loss, built from a network spec.

>>> import dllab
>>> model = dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}, seed=0)
>>> sorted(model.params)
['dense_1.W', 'dense_1.b']
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from dllab import cores, memory, parameter_block
from dllab.activations import ReLU
from dllab.errors import SettingsError
from dllab.layers import Layer, MaxPool2D, Shape, forward_multiply_adds, shown
from dllab.losses import Loss
from dllab.spec import build_layers
from dllab.text import shape_text

#: The dtypes a model computes in (float64 for gradient checks).
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def model_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a numpy dtype when a model can compute in it (float32 or float64).

    Raises
    ------
    SettingsError
        For any other dtype (float16, an integer type, something that is not a dtype).
    """
    try:
        result = np.dtype(dtype)
    except (TypeError, ValueError):
        result = None
    if result is None or result not in DTYPES:  # (None compares equal to float64)
        given = shown(dtype) if result is None else str(result)
        raise SettingsError(f"dtype must be float32 or float64, got {given}")
    return result


def weight_shapes(layers: list[Layer]) -> dict[str, Shape]:
    """Every parameter's and running statistic's shape, keyed like :attr:`Sequential.params` and ``state``.

    Known once the layers are set up (:func:`dllab.spec.build_layers`); nothing is allocated, so a model
    file's arrays can be checked against them before a network is built.
    """
    return {
        f"{layer.name}.{key}": tuple(shape)
        for layer in layers
        for key, shape in {**layer.param_shapes, **layer.state_shapes()}.items()
    }


def check_weights(shapes: dict[str, Shape], arrays: dict[str, Any]) -> None:
    """Check that ``arrays`` hold exactly the keys of ``shapes``, each of that shape.

    Raises
    ------
    ValueError
        Naming the first missing key, else the first unknown key, else the first array of the wrong shape.
    """
    missing = sorted(set(shapes) - set(arrays))
    if missing:
        raise ValueError(f"weights are missing {missing[0]!r}")
    extra = sorted(set(arrays) - set(shapes))
    if extra:
        raise ValueError(f"weights have an unknown entry {extra[0]!r}")
    for key, shape in shapes.items():
        have = tuple(np.shape(arrays[key]))
        if have != tuple(shape):
            raise ValueError(f"weight {key!r} has shape {have}, the network needs {tuple(shape)}")


def computing_order(layers: list[Layer]) -> list[Layer]:
    """The layers in the order a pass computes them: each ReLU followed by max pooling comes after the pooling.

    The two commute (a window's largest value after ReLU is ReLU of its largest value, and the gradient goes to
    the same position either way, or nowhere), and ReLU then works on the pooled map, a quarter of the values
    for 2x2 windows: SimpleConvNet's training step (Adam's update included) took 14.1-15.3 ms a mini-batch of 100
    and 12.0-12.4 after, its inference 17,100-18,100 samples/s and 22,600-23,300 after; DeepConvNet's step 106-110
    and 98 ms (one core). A layer's outputs seen one by one (:meth:`Sequential.activations`) keep the declared
    order. Neither layer learns, so the layers from the first that learns are the same in both orders.
    """
    order = list(layers)
    for i in range(len(order) - 1):
        if isinstance(order[i], ReLU) and isinstance(order[i + 1], MaxPool2D):
            order[i], order[i + 1] = order[i + 1], order[i]
    return order


class Sequential:
    """Layers applied one after another, ending in a loss.

    Parameters and running statistics are exposed as flat dicts keyed ``"<layer name>.<param>"``; the arrays
    are the layers' own (live), so an optimizer updating ``model.params`` in place trains the model.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        layers: list[Layer],
        loss: Loss,
        *,
        seed: int | None = 0,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.input_shape: tuple[int, ...] = tuple(spec["input_shape"])
        self.layers = layers
        self.loss = loss
        self.dtype = model_dtype(dtype)
        init_seq, dropout_seq = np.random.SeedSequence(seed).spawn(2)
        init_rng = np.random.default_rng(init_seq)
        #: The generator behind dropout masks (weights are drawn from a separate one, so two models built
        #: with the same seed start from the same weights whether or not they use dropout).
        self.rng = np.random.default_rng(dropout_seq)
        for layer in layers:
            layer.init_params(init_rng, self.dtype)
            if layer.type_name == "Dropout":
                layer.rng = self.rng
        # Every parameter a view of one array, first layer first (:mod:`dllab.parameter_block`).
        parameter_block.pack((layer.params for layer in layers), self.dtype)
        self._plan_backward()
        self._allow_overwrites()
        #: One sample's forward multiply-adds, asked at every training pass (:meth:`_splits`).
        self._multiply_adds = forward_multiply_adds(layers)
        memory.keep_freed_memory()
        #: Preprocessing that turns raw inputs into network inputs (a data normaliser's ``to_dict()``).
        self.preprocessing: dict[str, Any] = {}
        #: Class names of the outputs, when known.
        self.class_names: list[str] = []
        #: What the training run reported (epochs, accuracy, ...), stored with the model.
        self.training_summary: dict[str, Any] = {}

    # --- parameters ------------------------------------------------------------------------------------

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Trainable arrays, live: ``{"conv2d_1.W": array, ...}``."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.params.items()}

    @property
    def trainable_params(self) -> dict[str, np.ndarray]:
        """The arrays training updates, live: :attr:`params` without those of frozen layers."""
        return {
            f"{layer.name}.{key}": value
            for layer in self.layers
            if layer.trainable
            for key, value in layer.params.items()
        }

    @property
    def frozen_layers(self) -> list[str]:
        """Names of the frozen layers (``"trainable": false``), first layer first."""
        return [layer.name for layer in self.layers if not layer.trainable]

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Non-trained arrays that inference needs (BatchNorm running ``mean`` and ``var``), live."""
        return {f"{layer.name}.{key}": value for layer in self.layers for key, value in layer.state.items()}

    @property
    def param_count(self) -> int:
        """Every parameter value, frozen or not."""
        return sum(layer.param_count for layer in self.layers)

    @property
    def trainable_param_count(self) -> int:
        """The parameter values training updates (those of layers that are not frozen)."""
        return sum(layer.param_count for layer in self.layers if layer.trainable)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape or ()

    def set_weights(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy parameters and running statistics into the model, checking every key and shape."""
        targets = {**self.params, **self.state}
        check_weights({key: target.shape for key, target in targets.items()}, arrays)
        values = {key: np.asarray(arrays[key]) for key in targets}
        # Checked first, copied after: a bad entry leaves the model as it was.
        for key, target in targets.items():
            target[...] = values[key]

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and running statistic."""
        return {key: value.copy() for key, value in {**self.params, **self.state}.items()}

    # --- computation -----------------------------------------------------------------------------------

    def _as_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            if x.ndim >= 1 and math.prod(x.shape[1:]) == math.prod(self.input_shape):
                x = x.reshape(x.shape[0], *self.input_shape)
            else:
                raise ValueError(
                    f"input of shape {x.shape[1:]} per sample does not fit the network's {self.input_shape}"
                )
        return x.astype(self.dtype, copy=False)

    #: Inference takes a large batch through the layers in parts of at most this many samples (every sample
    #: is computed on its own in inference): the layers' arrays stay small enough for the processor's caches
    #: (the MLP 784-100x4-10 predicts 253,000 samples/s on one core this way, 195,000 in parts of 1,000).
    INFERENCE_PART = 250
    #: ... and of at most as many samples as keep the largest layer output of a part within this many bytes:
    #: SimpleConvNet's parts then hold 60 samples. With its ReLU computed after the pooling
    #: (:func:`computing_order`), it predicts 49,900 samples/s on two cores in parts of 4 MiB, 35,300 in parts
    #: of 1 MiB and 45,500 of 8 MiB (one core: 25,300 and 21,800); DeepConvNet 5,600 against 5,200 (one core:
    #: alike). Parts of 250 samples took it to 18,000 on one core before that rule.
    INFERENCE_BYTES = 4 << 20

    def inference_part(self) -> int:
        """Samples in each part of a large batch in inference (see :attr:`INFERENCE_PART`)."""
        sizes = [math.prod(self.input_shape)]
        sizes += [math.prod(layer.output_shape) for layer in self.layers if layer.output_shape]
        per_sample = max(sizes) * self.dtype.itemsize
        return max(1, min(self.INFERENCE_PART, self.INFERENCE_BYTES // per_sample))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Raw outputs (scores) before the loss's output function."""
        x = self._as_input(x)
        if training:
            return self._through_layers(x, training)
        part = self.inference_part()
        if len(x) <= part:
            return self._through_layers(x, training)
        # The parts side by side on every core (dllab.cores).
        return np.concatenate(
            cores.map_parts(lambda i: self._through_layers(x[i : i + part], False), range(0, len(x), part))
        )

    def _through_layers(self, x: np.ndarray, training: bool) -> np.ndarray:
        for layer in computing_order(self.layers):
            x = layer.forward(x, training)
        return x

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``x`` in inference mode, first layer first (for inspecting a network)."""
        out = self._as_input(x)
        outputs = []
        for layer in self.layers:
            out = layer.forward(out, False)
            outputs.append(out)
        return outputs

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Outputs after the loss's output function (softmax, sigmoid or identity), in inference mode."""
        x = np.asarray(x)
        parts = [self.loss.output(self.forward(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.output_shape), self.dtype)

    def _plan_backward(self) -> int:
        """Index of the first layer that learns (``len(layers)`` when none does); sets ``needs_input_grad``.

        Only a layer after the first learning one needs the gradient of its input: the backward pass ends there.
        """
        first = next((i for i, layer in enumerate(self.layers) if layer.learns), len(self.layers))
        for i, layer in enumerate(self.layers):
            layer.needs_input_grad = i > first
        return first

    def _allow_overwrites(self) -> None:
        """Let each layer after one with a fresh output work in place in training passes (``may_overwrite``)."""
        for before, layer in zip(self.layers, self.layers[1:], strict=False):
            layer.may_overwrite = before.fresh_output

    def loss_and_grads(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Training-mode forward and backward pass: the batch's mean loss and gradients keyed like ``params``.

        Frozen layers' parameters are absent from the gradients (keyed like :attr:`trainable_params`), and the
        backward pass stops at the first layer that learns: the layers before it compute nothing.

        On a processor with several cores, a large enough mini-batch of a network whose layers compute each
        sample apart is split in two halves computed side by side, each in its own thread with one BLAS thread
        (:func:`dllab.cores.map_parts`), through twins of the layers that share their parameters (Dropout's random
        values drawn ahead for the whole batch, as one pass draws them); the loss is the halves' mean weighted by
        their sizes, and each half's gradients are those of its share of it, so that they add up. The results
        equal one pass's up to rounding (float32: about 1e-7 of the gradients' scale), and are the same from one
        run to the next on one machine.
        """
        first = self._plan_backward()
        x = self._as_input(x)
        if not self._splits(len(x)):
            return self._pass(self.layers, self.loss, first, x, t)
        half = len(x) // 2
        twins = [layer.twin() for layer in self.layers]
        try:
            for layer, twin in zip(self.layers, twins, strict=True):
                draws = layer.draw_for_batch(len(x))  # Dropout's: what one pass would draw, in its order
                if draws is not None:
                    layer.drawn, twin.drawn = draws[:half], draws[half:]
            share = half / len(x)
            halves = cores.map_parts(
                lambda part: self._pass(*part),
                [
                    (self.layers, self.loss, first, x[:half], t[:half], share),
                    (twins, copy.copy(self.loss), first, x[half:], t[half:], 1 - share),
                ],
            )
        finally:
            for layer in self.layers:
                layer.drawn = None
        (loss_a, grads_a), (loss_b, grads_b) = halves
        for key, grad in grads_a.items():
            grad += grads_b[key]
        return loss_a * share + loss_b * (1 - share), grads_a

    #: A mini-batch is split in halves computed side by side (:meth:`loss_and_grads`) only when each half takes
    #: at least this many multiply-adds through its layers, forward: SimpleConvNet's halves of 50 samples (44
    #: million) train 1.3x as fast as one pass, the MLP 784-100x4-10's (5 million) a third slower.
    SPLIT_MULTIPLY_ADDS = 20_000_000

    def _splits(self, n: int) -> bool:
        """Whether a training pass over ``n`` samples is computed in two halves side by side."""
        return (
            n >= 2
            and all(layer.samples_apart for layer in self.layers)
            and n // 2 * self._multiply_adds >= self.SPLIT_MULTIPLY_ADDS
            and cores.threads() >= 2
        )

    @staticmethod
    def _pass(
        layers: list[Layer], loss: Loss, first: int, x: np.ndarray, t: np.ndarray, share: float = 1.0
    ) -> tuple[float, dict[str, np.ndarray]]:
        """One training pass through ``layers`` (from the first that learns, backward). The gradients are
        those of ``share`` times the mean loss: the two halves of a mini-batch then give gradients that add up to
        the whole batch's, with no pass to weigh them (SimpleConvNet's: 115 to 43 us a step, one core, in cache)."""
        order = computing_order(layers)
        for layer in order:
            x = layer.forward(x, True)
        mean_loss = loss.forward(x, t)
        dout = loss.backward()
        if share != 1.0:
            dout = dout * dout.dtype.type(share)
        for layer in reversed(order[first:]):
            dout = layer.backward(dout)
        grads = {
            f"{layer.name}.{key}": grad
            for layer in layers[first:]
            if layer.trainable
            for key, grad in layer.grads.items()
        }
        return mean_loss, grads

    def evaluate_loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean loss in inference mode (no dropout, running BatchNorm statistics)."""
        return self.loss.forward(self.forward(x), t)

    # --- description -----------------------------------------------------------------------------------

    def summary(self) -> str:
        """Text table of layers with output shape and parameter count, and the totals.

        A frozen layer's count reads ``"2,432 frozen"``, and a network with frozen layers gets a last line of
        trainable and frozen parameter counts.
        """
        rows = [("#", "Layer", "Type", "Settings", "Output shape", "Params")]
        rows.append(("", "input", "", "", shape_text(self.input_shape, times="x"), ""))
        for i, layer in enumerate(self.layers):
            rows.append(
                (
                    str(i),
                    layer.name,
                    layer.type_name,
                    layer.describe(),
                    shape_text(layer.output_shape or (), times="x"),
                    (f"{layer.param_count:,}" if layer.param_count else "0")
                    + ("" if layer.trainable else " frozen"),
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        lines = [f"Model: {self.name}  (loss: {self.loss.name}, output: {self.loss.output_name})", rule]
        for k, row in enumerate(rows):
            cells = [
                cell.rjust(w) if c in (0, 5) else cell.ljust(w)
                for c, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append(rule)
        lines += [rule, f"Total parameters: {self.param_count:,}  ({self.dtype.name})"]
        frozen = self.param_count - self.trainable_param_count
        if frozen:
            lines.append(f"Trainable: {self.trainable_param_count:,}  Frozen: {frozen:,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Sequential {self.name!r}: {len(self.layers)} layers, {self.param_count:,} parameters>"


def build(
    spec: dict[str, Any] | str | Path, seed: int | None = 0, dtype: np.dtype | type = np.float32
) -> Sequential:
    """Build a model from a network spec (a dict or the path of a ``.json`` network file).

    Parameters
    ----------
    spec
        The network spec (see the project's design notes for the format).
    seed
        Seeds the initial weights and the dropout masks; the same seed gives the same model.
    dtype
        ``numpy.float32`` (default) or ``numpy.float64`` (for gradient checks).

    Raises
    ------
    SpecError
        When the spec cannot be built; the message names the layer's index, type and the problem.
    SettingsError
        When ``dtype`` is neither float32 nor float64.
    """
    canonical, layers, loss = build_layers(spec)
    return Sequential(canonical, layers, loss, seed=seed, dtype=dtype)
