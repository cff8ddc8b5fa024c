"""Layers: the building blocks of a network, each owning its parameters and their gradients.

A layer is configured by keyword options (validated against its ``SETTINGS``), learns its input shape in
:meth:`Layer.setup` before any data flows (so a builder can show shapes and parameter counts), allocates its
parameters in :meth:`Layer.init_params`, and then runs ``forward(x, training)`` / ``backward(dout)``.
Activation functions are layers too; they live in :mod:`dllab.activations`.

A layer with parameters may be frozen (``"trainable": false`` in its spec entry, :attr:`Layer.trainable`): its
parameters keep their values while the rest of the network trains. A frozen layer computes no gradients of
its own parameters (they are absent from ``grads``), only the gradient of its input when a layer before it
still learns; a frozen BatchNorm normalises with its running statistics in training too and leaves them as
they are.

Array layouts: images are NCHW; Dense ``W`` is ``(in_features, units)`` and computes ``x @ W + b``; Conv2D
``W`` is ``(filters, in_channels, kh, kw)`` and ``b`` is ``(filters,)``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from dllab import convolution
from dllab.initializers import INIT, describe_init, initialize
from dllab.settings import MAX_INTEGER as MAX_INTEGER  # re-exported: readers of specs and files check it
from dllab.settings import Setting, configure
from dllab.settings import shown as shown  # re-exported: messages about values from files

Shape = tuple[int, ...]


def _count(name: str, default: int, help: str) -> Setting:
    """A whole number of at least 1 (units, filters)."""
    return Setting(name, "int", default, help, minimum=1)


def _size(name: str, default: int, help: str) -> Setting:
    """A window size or a stride: an int, or a pair ``[height, width]``, of at least 1."""
    return Setting(name, "size", default, help, minimum=1)


def _padding(help: str) -> Setting:
    """Padding: a number of pixels (at least 0), ``"same"`` or ``"valid"``."""
    return Setting("padding", "padding", 0, help, minimum=0)


def _fraction(name: str, default: float, help: str) -> Setting:
    """A number in [0, 1): a rate or a momentum."""
    return Setting(
        name,
        "float",
        default,
        help,
        minimum=0.0,
        maximum=1.0,
        exclusive_maximum=True,
        editor_range=(0.0, 0.99),
    )


class Layer:
    """Base class of every layer.

    Subclasses set ``type_name`` (the spec's ``"type"``), ``category``, ``summary`` (one line),
    ``explanation`` (the concept, for a tooltip) and ``SETTINGS`` (:class:`~dllab.settings.Setting`: the
    keyword options a spec entry may have, validated from there into ``options``), and implement ``_setup``,
    ``forward`` and ``backward``; layers with parameters also implement ``_param_shapes`` and ``init_params``.
    """

    type_name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    explanation: ClassVar[str] = ""
    SETTINGS: ClassVar[tuple[Setting, ...]] = ()
    #: Whether ``forward`` returns a new array that the layer keeps no reference to, so that the next layer
    #: may overwrite it in a training pass (not a view of the input, not kept for ``backward``).
    fresh_output: ClassVar[bool] = False
    #: Whether a training pass computes each sample on its own (no batch statistics; random values drawn ahead
    #: by :meth:`draw_for_batch`): a mini-batch may then be split in halves computed side by side
    #: (:meth:`dllab.model.Sequential.loss_and_grads`).
    samples_apart: ClassVar[bool] = True
    #: Attributes that keep a buffer from one training pass for the next (a copy for another thread leaves them).
    REUSED_BUFFERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str | None = None, trainable: bool = True, **options: Any) -> None:
        self.name = name or self.type_name.lower()
        if not isinstance(trainable, bool):
            raise ValueError(f"trainable must be true or false, got {shown(trainable)}")
        #: False for a frozen layer: an optimizer leaves its parameters as they are (see the module's notes).
        self.trainable = trainable
        self.options: dict[str, Any] = configure(self.SETTINGS, options)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.param_shapes: dict[str, Shape] = {}
        self.dtype: np.dtype = np.dtype(np.float32)
        #: False for the first layer of a model: its input gradient is never needed, so skip computing it.
        self.needs_input_grad = True
        #: Set by the model (:meth:`dllab.model.Sequential.loss_and_grads`) when this layer's training input is
        #: a layer's :attr:`fresh_output` and the gradient it receives belongs to the backward pass alone: the
        #: layer may then overwrite both instead of allocating. A layer used on its own never does.
        self.may_overwrite = False
        #: This layer's random values for its next training pass, drawn ahead for a batch computed in parts
        #: (:meth:`draw_for_batch`); the pass uses them up.
        self.drawn: np.ndarray | None = None

    # --- configuration -------------------------------------------------------------------------------

    def setup(self, input_shape: Shape) -> Shape:
        """Check ``input_shape`` (per sample), remember it and return the output shape.

        Raises ``ValueError`` with one sentence when this layer cannot take that input.
        """
        input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = tuple(int(d) for d in self._setup(input_shape))
        self.input_shape = input_shape
        self.param_shapes = self._param_shapes()
        if not self.trainable and not self.param_shapes:
            raise ValueError('has no parameters to freeze; only layers with weights take "trainable": false')
        return self.output_shape

    def _setup(self, input_shape: Shape) -> Shape:
        return input_shape

    def _param_shapes(self) -> dict[str, Shape]:
        return {}

    def state_shapes(self) -> dict[str, Shape]:
        """Shapes of the non-trained state (BatchNorm running statistics)."""
        return {}

    @property
    def param_count(self) -> int:
        """Number of parameter values, frozen or not (known after :meth:`setup`)."""
        return sum(math.prod(s) for s in self.param_shapes.values())

    def draw_for_batch(self, n: int) -> np.ndarray | None:
        """The random values that a training pass over ``n`` samples draws in this layer, drawn now (``None`` for
        a layer that draws none): a batch computed in parts gives each part's layer its rows as :attr:`drawn`,
        so that the parts draw exactly what one pass over the batch would."""
        return None

    def twin(self) -> Layer:
        """A copy that shares this layer's parameters, statistics and settings, for a training pass in another
        thread: what one pass keeps for its backward pass (and buffers reused between passes) stay apart."""
        twin = copy.copy(self)
        for name in self.REUSED_BUFFERS:
            twin.__dict__.pop(name, None)
        return twin

    @property
    def learns(self) -> bool:
        """Whether training updates this layer: it has parameters and is not frozen."""
        return self.trainable and bool(self.param_shapes)

    def init_params(self, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> None:
        """Allocate parameters, gradients and state in ``dtype``, drawing from ``rng``."""
        self.dtype = np.dtype(dtype)

    def config(self) -> dict[str, Any]:
        """This layer as a network-spec entry: ``{"type": ..., "name": ..., <options>}``.

        A frozen layer's entry ends with ``"trainable": false``; a trainable one leaves the key out.
        """
        frozen = {} if self.trainable else {"trainable": False}
        return {"type": self.type_name, "name": self.name, **self.options, **frozen}

    def describe(self) -> str:
        """Key settings in a few words, e.g. ``"30 filters 5x5, stride 1, pad 0, He"``."""
        return ""

    # --- computation ---------------------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute the output for a batch ``x``; in training mode keep what :meth:`backward` needs."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Given dLoss/dOutput, fill ``self.grads`` and return dLoss/dInput (``None`` when not needed)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.type_name}(name={self.name!r}{', ' if settings else ''}{settings})"


def forward_multiply_adds(layers: Iterable[Any]) -> int:
    """The multiply-adds of one sample's forward pass through ``layers`` (set-up layers, or descriptions of them
    with ``type_name``, ``param_count`` and ``output_shape``): each weight once per output position (a Dense
    layer's once, a convolution's at every position of its output map)."""
    total = 0
    for layer in layers:
        shape = layer.output_shape or ()
        positions = math.prod(shape[1:]) if layer.type_name == "Conv2D" and len(shape) == 3 else 1
        total += layer.param_count * positions
    return total


class NeedsImagesError(ValueError):
    """A convolution or pooling layer gets flat features instead of images (channels, height, width).

    Its message blames a Flatten or Dense before the layer; :meth:`without_flattening` says what to do when the
    network's input itself is flat (the data are points or features, not images).
    """

    def __init__(self, input_shape: Shape, role: str) -> None:
        self.input_shape = tuple(input_shape)
        self.role = role
        super().__init__(
            f"expects images (channels, height, width) but gets {_shape_text(input_shape)}; "
            f"{role} must come before Flatten and Dense"
        )

    def without_flattening(self, network_input: Shape) -> str:
        """The message for a network whose input (``network_input``) is already flat: images are needed, not
        another order of the layers."""
        return (
            f"expects images (channels, height, width) but the network's input is {_shape_text(network_input)}"
            f" features; {self.role} needs image data (such as MNIST or Shapes) or an image input shape such "
            "as 1×28×28"
        )


def _shape_text(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


def _size_text(value: int | list[int]) -> str:
    """``5`` -> ``"5"``, ``[3, 2]`` -> ``"3x2"``."""
    return str(value) if isinstance(value, int) else "x".join(map(str, value))


def _weight_and_bias(layer: Layer, fan_in: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``W`` drawn by the layer's ``init`` for units of ``fan_in`` inputs, and ``b`` zeros, in its dtype."""
    shapes = layer.param_shapes
    return {
        "W": initialize(layer.options["init"], shapes["W"], fan_in, rng, layer.dtype),
        "b": np.zeros(shapes["b"], dtype=layer.dtype),
    }


class Dense(Layer):
    """Fully connected (affine) layer: ``x @ W + b``."""

    fresh_output = True

    type_name = "Dense"
    category = "Core"
    summary = "Every input connected to every unit: x·W + b."
    explanation = (
        "A fully connected (affine) layer. Each of its units computes a weighted sum of all inputs plus a "
        "bias. W has shape (inputs, units); the number of units sets the layer's width."
    )
    SETTINGS = (_count("units", 100, "Number of output units (neurons)."), INIT)

    def _setup(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ValueError(
                f"expects a flat input (features,) but gets {_shape_text(input_shape)}; "
                "insert a Flatten layer before it"
            )
        return (self.options["units"],)

    def _param_shapes(self) -> dict[str, Shape]:
        assert self.input_shape is not None
        return {"W": (self.input_shape[0], self.options["units"]), "b": (self.options["units"],)}

    def init_params(self, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> None:
        super().init_params(rng, dtype)
        self.params = _weight_and_bias(self, self.param_shapes["W"][0], rng)

    def describe(self) -> str:
        return f"{self.options['units']} units, {describe_init(self.options['init'])}"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x = self._x
        self.grads = {"W": x.T @ dout, "b": dout.sum(axis=0)} if self.trainable else {}
        if not self.needs_input_grad:
            return None
        if x.flags.f_contiguous and not x.flags.c_contiguous:
            # A batch-last input (a flattened Conv2D output) gets its gradient in the same layout, so that
            # Flatten hands it back as a view and the layers before never mix two layouts in one operation.
            return (self.params["W"] @ dout.T).T
        return dout @ self.params["W"].T


class _Windowed(Layer):
    """Shape inference shared by the layers that slide a window over NCHW images (Conv2D, pooling).

    A subclass sets ``_WINDOW`` to ``(window setting, what it is called in messages, message for a window
    larger than its padded input)``, has ``stride`` and ``padding`` settings, and calls :meth:`_slide` from
    ``_setup``.
    """

    _WINDOW: ClassVar[tuple[str, str, str]] = ("", "", "")

    def _slide(self, input_shape: Shape) -> tuple[int, int]:
        """Set ``kernel``, ``stride``, ``pads`` and ``out_hw`` for images of ``input_shape``; return ``out_hw``.

        Raises
        ------
        ValueError
            For an input that is not (channels, height, width), or a window that does not fit it.
        """
        size_key, role, too_large = self._WINDOW
        if len(input_shape) != 3:
            raise NeedsImagesError(input_shape, role)
        self.kernel = convolution.pair(self.options[size_key])
        self.stride = convolution.pair(self.options["stride"])
        self.pads = convolution.resolve_padding(
            self.options["padding"], input_shape[1:], self.kernel, self.stride
        )
        self._check_pads()
        top, bottom, left, right = self.pads
        padded = (input_shape[1] + top + bottom, input_shape[2] + left + right)
        if self.kernel[0] > padded[0] or self.kernel[1] > padded[1]:
            raise ValueError(too_large.format(_shape_text(self.kernel), _shape_text(padded)))
        self.out_hw = (
            convolution.output_size(input_shape[1], top, bottom, self.kernel[0], self.stride[0]),
            convolution.output_size(input_shape[2], left, right, self.kernel[1], self.stride[1]),
        )
        return self.out_hw

    def _check_pads(self) -> None:
        """Refuse padding this layer cannot use (``ValueError``); any is fine by default."""


class Conv2D(_Windowed):
    """2D convolution over NCHW images: patches (im2col) times the filters, in blocks that stay in cache."""

    fresh_output = True
    REUSED_BUFFERS = ("_scratch",)

    type_name = "Conv2D"
    category = "Convolution"
    summary = "Slides learned filters over the image: local, shared weights."
    explanation = (
        "Each filter is a small stack of weights (in_channels x kh x kw) slid over the image; at every "
        "position it takes a weighted sum, producing one feature map per filter. Padding adds a border of "
        'zeros ("same" keeps the size); stride skips positions and shrinks the output.'
    )
    SETTINGS = (
        _count("filters", 16, "Number of filters, i.e. output channels."),
        _size("kernel_size", 3, "Height and width of each filter."),
        _size("stride", 1, "Step between filter positions."),
        _padding('Zeros added around the input: a number, "same" or "valid".'),
        INIT,
    )

    _WINDOW = ("kernel_size", "convolution", "kernel {} is larger than its padded input {}")

    def _setup(self, input_shape: Shape) -> Shape:
        return (self.options["filters"], *self._slide(input_shape))

    def _param_shapes(self) -> dict[str, Shape]:
        assert self.input_shape is not None
        f = self.options["filters"]
        return {"W": (f, self.input_shape[0], *self.kernel), "b": (f,)}

    def init_params(self, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> None:
        super().init_params(rng, dtype)
        self.params = _weight_and_bias(self, math.prod(self.param_shapes["W"][1:]), rng)

    def describe(self) -> str:
        o = self.options
        pad = o["padding"] if isinstance(o["padding"], str) else f"pad {o['padding']}"
        kernel = "x".join(map(str, convolution.pair(o["kernel_size"])))
        return f"{o['filters']} filters {kernel}, stride {_size_text(o['stride'])}, {pad}, {describe_init(o['init'])}"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        # Batch last in memory (see dllab.convolution): the output is the product itself, with no reordering,
        # and the layers after it (activations, pooling, Flatten, Dense) run over whole rows of samples.
        m = convolution.batch_last(x)
        f, n = self.options["filters"], m.shape[-1]
        mp = convolution.pad_batch_last(m, self.pads)
        if training:
            self._input_shape, self._padded = m.shape, mp
        # Inference may run on several threads through this same layer (dllab.cores): a buffer of its own.
        scratch = self._blocks() if training else convolution.Scratch()
        out = convolution.convolve(
            mp, self._weights_and_bias(), self.kernel, self.stride, self.out_hw, scratch, bias=True
        )
        return convolution.batch_first(out.reshape(f, *self.out_hw, n))

    def _blocks(self) -> convolution.Scratch:
        """The buffer for blocks of patches, reused between passes (one per twin: see :meth:`Layer.twin`)."""
        if getattr(self, "_scratch", None) is None:
            self._scratch = convolution.Scratch()
        return self._scratch

    def _weights_and_bias(self) -> np.ndarray:
        """``[W | b]``: ``(F, C * kh * kw + 1)``, for patches with a last row of ones."""
        w = self.params["W"]
        return np.concatenate([w.reshape(w.shape[0], -1), self.params["b"][:, None]], axis=1)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        w = self.params["W"]
        f = w.shape[0]
        dmat = convolution.batch_last(dout).reshape(f, -1)  # a view when dout is batch last, like the output
        mp = self._padded
        self.grads = {}
        if self.trainable:
            dw_and_db = convolution.weight_gradient(
                dmat, mp, self.kernel, self.stride, self.out_hw, self._blocks()
            )
            self.grads = {"W": dw_and_db[:, :-1].reshape(w.shape), "b": dw_and_db[:, -1].copy()}
        if not self.needs_input_grad:
            return None
        c, h, wd, n = self._input_shape
        if convolution.transposes_by_convolution(self.kernel, self.stride, self.pads):
            dm = convolution.input_gradient(dmat.reshape(f, *self.out_hw, n), w, self.pads, self._blocks())
            return convolution.batch_first(dm)
        dcols = w.reshape(f, -1).T @ dmat
        top, bottom, left, right = self.pads
        dmp = convolution.col2im(dcols, (c, h + top + bottom, wd + left + right, n), self.kernel, self.stride)
        return convolution.batch_first(dmp[:, top : top + h, left : left + wd])


class _Pool2D(_Windowed):
    """Shared setup of max and average pooling."""

    category = "Convolution"
    SETTINGS = (
        _size("pool_size", 2, "Height and width of each pooling window."),
        _size("stride", 2, "Step between windows (smaller than the window: overlapping)."),
        _padding('Border added around the input: a number, "same" or "valid".'),
    )

    _WINDOW = ("pool_size", "pooling", "window {} is larger than its input {}")

    def _setup(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self._slide(input_shape))

    def _check_pads(self) -> None:
        top, bottom, left, right = self.pads
        if max(top, bottom) >= self.kernel[0] or max(left, right) >= self.kernel[1]:
            raise ValueError(
                f"padding {max(self.pads)} must be smaller than the window {_shape_text(self.kernel)}"
            )

    @property
    def overlapping(self) -> bool:
        """Whether windows share positions (stride smaller than the window), so gradients add up."""
        return self.stride[0] < self.kernel[0] or self.stride[1] < self.kernel[1]

    def describe(self) -> str:
        o = self.options
        size = "x".join(map(str, convolution.pair(o["pool_size"])))
        pad = "" if o["padding"] in (0, "valid") else f", pad {o['padding']}"
        return f"{size}, stride {_size_text(o['stride'])}{pad}"


class MaxPool2D(_Pool2D):
    """Max pooling: the largest value of each window."""

    fresh_output = True

    type_name = "MaxPool2D"
    summary = "Keeps the largest value of each window: smaller maps, some shift tolerance."
    explanation = (
        "Max pooling shrinks each feature map by keeping only the strongest response in every window. It "
        "has no weights; its gradient flows back only to the position that was the maximum."
    )

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        xp = convolution.pad(x, self.pads, value=-np.inf)
        slices = convolution.offsets(self.kernel, self.stride, self.out_hw)
        out = xp[:, :, slices[0][0], slices[0][1]].copy(order="K")
        # In training, which later window position beats the maximum so far (strictly, so that on ties the
        # first position wins, as argmax would choose): backward then needs no second pass over the input.
        # With the batch-last layout this takes the book's 2x2 pooling from 5.9 to 2.9 ms a mini-batch of 100,
        # forward and backward together (one core).
        self._beats = []
        for rows, cols in slices[1:]:
            window = xp[:, :, rows, cols]
            if training:
                self._beats.append(np.greater(window, out, out=np.empty_like(out, dtype=bool)))
            np.maximum(out, window, out=out)
        if training:
            self._padded_shape, self._padded_strides = xp.shape, xp.strides
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        slices = convolution.offsets(self.kernel, self.stride, self.out_hw)
        # Windows that tile the input exactly write every position, so the gradient needs no zero fill.
        oh, ow = self.out_hw
        tiles = not self.overlapping and self._padded_shape[2:] == (oh * self.kernel[0], ow * self.kernel[1])
        dxp = self._like_input(dout, zeros=not tiles)
        # The last position that beat the maximum so far holds it; the first position takes what is left.
        taken = None
        for k in range(len(slices) - 1, -1, -1):
            if k:
                beats = self._beats[k - 1]
                hit = beats if taken is None else np.greater(beats, taken)  # beats and not taken later
                taken = beats.copy(order="K") if taken is None else np.logical_or(taken, beats, out=taken)
            else:
                hit = np.logical_not(taken) if taken is not None else np.ones_like(dout, dtype=bool)
            rows, cols = slices[k]
            target = dxp[:, :, rows, cols]
            if self.overlapping:
                target += dout * hit
            else:
                np.multiply(dout, hit, out=target)
        return convolution.unpad(dxp, self.pads)

    def _like_input(self, dout: np.ndarray, zeros: bool) -> np.ndarray:
        """An array shaped and laid out like the padded input (batch last after Conv2D), of ``dout``'s dtype."""
        order = np.argsort(self._padded_strides)[::-1]  # axes from the slowest in memory to the fastest
        shape = tuple(self._padded_shape[a] for a in order)
        memory = np.zeros(shape, dout.dtype) if zeros else np.empty(shape, dout.dtype)
        return memory.transpose(np.argsort(order))


class AvgPool2D(_Pool2D):
    """Average pooling: the mean of each window (padding counts as zeros)."""

    fresh_output = True

    type_name = "AvgPool2D"
    summary = "Averages each window: smaller, smoother feature maps."
    explanation = (
        "Average pooling shrinks each feature map by taking the mean of every window. It has no weights; "
        "its gradient is shared equally among the window's positions."
    )

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        xp = convolution.pad(x, self.pads)
        self._padded_shape = xp.shape
        slices = convolution.offsets(self.kernel, self.stride, self.out_hw)
        out = xp[:, :, slices[0][0], slices[0][1]].copy(order="K")
        for rows, cols in slices[1:]:
            out += xp[:, :, rows, cols]
        out *= x.dtype.type(1.0 / len(slices))
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        slices = convolution.offsets(self.kernel, self.stride, self.out_hw)
        share = dout * dout.dtype.type(1.0 / len(slices))
        dxp = np.zeros_like(dout, shape=self._padded_shape)
        for rows, cols in slices:
            target = dxp[:, :, rows, cols]
            if self.overlapping:
                target += share
            else:
                target[...] = share
        return convolution.unpad(dxp, self.pads)


class Flatten(Layer):
    """Reshape each sample to a vector: (N, C, H, W) -> (N, C*H*W)."""

    type_name = "Flatten"
    category = "Core"
    summary = "Turns feature maps into one long vector for Dense layers."
    explanation = "Flatten reshapes each sample (channels x height x width) into a single vector; no weights."

    def _setup(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._x = x
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        x = self._x
        dx = dout.reshape(x.shape)  # a view whenever the gradient's layout allows
        if x.flags.c_contiguous or dx.strides == x.strides:
            return dx
        # Hand the gradient back in the memory layout the input had (Conv2D's batch-last output), so the
        # layers before work on arrays of one layout.
        same_layout = np.empty_like(x)
        same_layout[...] = dx
        return same_layout


class BatchNorm(Layer):
    """Batch normalisation: per feature after Dense, per channel after Conv2D."""

    fresh_output = True
    samples_apart = False  # the batch's statistics

    type_name = "BatchNorm"
    category = "Normalization"
    summary = "Normalises each feature over the mini-batch, then scales and shifts it."
    explanation = (
        "Batch normalisation standardises every feature (or channel) to zero mean and unit variance over "
        "the mini-batch, then applies a learned scale gamma and shift beta. Training becomes faster and less "
        "sensitive to the initial weights. At inference it uses running averages of the batch statistics."
    )
    SETTINGS = (
        _fraction("momentum", 0.9, "Weight of the old running statistics in each update."),
        Setting(
            "eps",
            "float",
            1e-5,
            "Added to the variance before the square root, for stability.",
            "ε",
            minimum=0.0,
            exclusive_minimum=True,
            editor_range=(1e-8, 1e-2),
            log_scale=True,
        ),
    )

    def _setup(self, input_shape: Shape) -> Shape:
        if len(input_shape) not in (1, 3):
            raise ValueError(f"expects features (n,) or images (c, h, w) but gets {_shape_text(input_shape)}")
        self._axes = (0,) if len(input_shape) == 1 else (0, 2, 3)
        self._bshape = (1, -1) if len(input_shape) == 1 else (1, -1, 1, 1)
        return input_shape

    def _param_shapes(self) -> dict[str, Shape]:
        assert self.input_shape is not None
        return {"gamma": (self.input_shape[0],), "beta": (self.input_shape[0],)}

    def state_shapes(self) -> dict[str, Shape]:
        assert self.input_shape is not None
        return {"mean": (self.input_shape[0],), "var": (self.input_shape[0],)}

    def init_params(self, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> None:
        super().init_params(rng, dtype)
        c = self.input_shape[0] if self.input_shape else 0
        self.params = {"gamma": np.ones(c, dtype=self.dtype), "beta": np.zeros(c, dtype=self.dtype)}
        self.state = {"mean": np.zeros(c, dtype=self.dtype), "var": np.ones(c, dtype=self.dtype)}

    def describe(self) -> str:
        return f"momentum {self.options['momentum']:g}"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        gamma = self.params["gamma"].reshape(self._bshape)
        beta = self.params["beta"].reshape(self._bshape)
        if not training or not self.trainable:
            # Inference, or a frozen layer: the running statistics, left as they are.
            mean = self.state["mean"].reshape(self._bshape)
            inv_std = 1.0 / np.sqrt(self.state["var"].reshape(self._bshape) + self.options["eps"])
            self._inv_std = inv_std
            return (x - mean) * (inv_std * gamma) + beta
        mean = x.mean(axis=self._axes, keepdims=True)
        xc = x - mean
        var = np.mean(xc * xc, axis=self._axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.options["eps"])
        xhat = xc * inv_std
        m = self.options["momentum"]
        self.state["mean"] *= m
        self.state["mean"] += (1 - m) * mean.reshape(-1)
        self.state["var"] *= m
        self.state["var"] += (1 - m) * var.reshape(-1)
        self._xhat, self._inv_std = xhat, inv_std
        return xhat * gamma + beta

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        if not self.trainable:  # a fixed affine map of its input: (x - mean) * inv_std * gamma + beta
            self.grads = {}
            return (
                dout * (self._inv_std * self.params["gamma"].reshape(self._bshape))
                if self.needs_input_grad
                else None
            )
        xhat, axes = self._xhat, self._axes
        self.grads = {"gamma": np.sum(dout * xhat, axis=axes), "beta": dout.sum(axis=axes)}
        if not self.needs_input_grad:
            return None
        dxhat = dout * self.params["gamma"].reshape(self._bshape)
        mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
        mean_dxhat_xhat = np.mean(dxhat * xhat, axis=axes, keepdims=True)
        return (dxhat - mean_dxhat - xhat * mean_dxhat_xhat) * self._inv_std


#: How Dropout keeps the expected value: scaling while training (``"inverted"``) or at inference (``"book"``).
DROPOUT_SCALINGS = ("inverted", "book")


class Dropout(Layer):
    """Dropout: in training, zero each value with probability ``rate``.

    ``scaling="inverted"`` (the default, as every modern library does it) scales the kept values by
    ``1 / (1 - rate)`` while training and passes values through unchanged at inference. ``scaling="book"``
    is the book's ``Dropout`` (chapter 6): kept values stay unscaled while training and every value is
    multiplied by ``1 - rate`` at inference. Both keep the expected output the same in training and at
    inference; they differ in which of the two sees the scaled values.
    """

    type_name = "Dropout"
    category = "Regularization"
    summary = "Randomly silences units while training, so no unit can be relied on alone."
    explanation = (
        "During training each value is zeroed with probability 'rate'. Inverted dropout scales the survivors "
        "by 1 / (1 - rate), so nothing changes at inference; the book's dropout leaves them as they are and "
        "multiplies every value by 1 - rate at inference instead. Each mini-batch trains a different thinned "
        "network, which works like an ensemble and reduces overfitting."
    )
    SETTINGS = (
        _fraction("rate", 0.5, "Probability of dropping each value."),
        Setting(
            "scaling",
            "choice",
            "inverted",
            "inverted: scale kept values by 1/(1 - rate) while training; book: scale all by (1 - rate) at "
            "inference, as the book's Dropout does.",
            "Scaling",
            choices=DROPOUT_SCALINGS,
        ),
    )

    def init_params(self, rng: np.random.Generator, dtype: np.dtype | type = np.float32) -> None:
        super().init_params(rng, dtype)
        self.rng = rng

    def describe(self) -> str:
        book = ", book's scaling" if self.options["scaling"] == "book" else ""
        return f"rate {self.options['rate']:g}{book}"

    def inference_scale(self) -> float:
        """What inference multiplies the values by: ``1 - rate`` for the book's dropout, else 1."""
        return 1.0 - self.options["rate"] if self.options["scaling"] == "book" else 1.0

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        rate = self.options["rate"]
        if not training or rate == 0:
            self._mask = None
            scale = self.inference_scale()
            return x if scale == 1.0 else x * x.dtype.type(scale)
        draws = self.drawn if self.drawn is not None else self._draw(x.shape)
        self.drawn = None
        keep = draws < 1.0 - rate
        if self.options["scaling"] == "book":
            self._mask = keep.astype(x.dtype)
        else:
            self._mask = keep.astype(x.dtype) / x.dtype.type(1.0 - rate)
        return x * self._mask

    def _draw(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.rng.random(shape, dtype=np.float32)

    def draw_for_batch(self, n: int) -> np.ndarray | None:
        assert self.input_shape is not None
        return self._draw((n, *self.input_shape)) if self.options["rate"] else None

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        return dout if self._mask is None else dout * self._mask
