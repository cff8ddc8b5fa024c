"""How activations spread through an untrained deep network: the book's section 6.2.2 (figures 6-10 to 6-14).

A batch of standard normal inputs goes through five layers of 100 units, each a Dense layer (no bias in
effect: biases start at zero) followed by an activation, and the histogram of every activation layer's
outputs shows what the initial weights do:

- sigmoid with weights of standard deviation 1 pushes the outputs to 0 and 1, where its gradient vanishes;
- standard deviation 0.01 collapses every output near 0.5: the units all say the same thing;
- Xavier (``sqrt(1 / n)``) keeps a broad spread in every layer (for sigmoid and tanh);
- ReLU with He (``sqrt(2 / n)``) keeps the same spread in every layer, while 0.01 shrinks it toward 0.

Nothing is trained: the network is a real dllab model built from a spec (:func:`dllab.build`) and the
histograms are the probes a training run shows (:func:`dllab.probes.layer_outputs` and
:func:`dllab.probes.summarize`), so the layers, activations, initialisers and statistics are the very ones
training uses. The whole grid of activations and initialisers takes milliseconds.

>>> layers = activation_distributions("sigmoid", init=1.0)
>>> [round(layer.std, 2) for layer in layers]            # doctest: +SKIP
>>> grid = distribution_grid(("sigmoid", "relu"), (0.01, "xavier", "he"))
>>> grid["relu", "he"][4].counts                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.initializers import validate_init
from dllab.model import build
from dllab.optimizers import check_whole_number, finite_number
from dllab.probes import OUTPUT_RANGES, layer_outputs, summarize
from dllab.spec import LAYER_TYPES

#: Activation names accepted here (lower case, ``_`` and ``-`` ignored) and their layer types in a spec.
ACTIVATIONS: dict[str, str] = {
    name.lower(): name for name, cls in LAYER_TYPES.items() if cls.category == "Activation"
}
#: The histogram range of each activation's outputs unless one is given: the bounds of the bounded ones,
#: a range that holds almost every output of a well-initialised layer for the others. Values outside go to
#: the end bins.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    **OUTPUT_RANGES,
    "ReLU": (0.0, 4.0),
    "LeakyReLU": (-1.0, 4.0),
    "ELU": (-1.0, 4.0),
    "GELU": (-1.0, 4.0),
}
#: The book's grid: the activations of figures 6-10 to 6-14 and the initialisers they compare.
BOOK_ACTIVATIONS = ("sigmoid", "tanh", "relu")
BOOK_INITS: tuple[str | float, ...] = (1.0, 0.01, "xavier", "he")


@dataclass(frozen=True)
class LayerDistribution:
    """The outputs of one activation layer on the input batch.

    Attributes
    ----------
    layer : int
        1 for the first hidden layer.
    name : str
        The activation layer's name in the model, e.g. ``"sigmoid_3"``.
    counts : numpy.ndarray
        Values per bin (int64, ``bins`` of them); values outside the range are counted in the end bins.
    edges : numpy.ndarray
        ``bins + 1`` bin edges.
    mean, std : float
        Of all finite outputs of the layer (not just those inside the range).
    nonfinite : int
        Outputs that overflowed to an infinity or NaN (in no bin).
    """

    layer: int
    name: str
    counts: np.ndarray
    edges: np.ndarray
    mean: float
    std: float
    nonfinite: int = 0

    @property
    def fractions(self) -> np.ndarray:
        """The share of the outputs in each bin (sums to 1)."""
        return self.counts / max(int(self.counts.sum()), 1)


def _activation_type(activation: str) -> str:
    key = (
        activation.strip().lower().replace("_", "").replace("-", "") if isinstance(activation, str) else None
    )
    if key not in ACTIVATIONS:
        raise SettingsError(f"unknown activation {quote(activation)}; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]


def distribution_network(
    activation: str = "sigmoid", init: str | float = 1.0, *, layers: int = 5, units: int = 100
) -> dict[str, Any]:
    """The network spec of the experiment: ``layers`` times a Dense of ``units`` units and the activation.

    Parameters
    ----------
    activation
        An activation layer type, in any case: ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ...
    init
        ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` or a standard deviation.
    layers, units
        Depth and width; the input has ``units`` features too.

    Returns
    -------
    dict
        A spec for :func:`dllab.build`.

    Raises
    ------
    SettingsError
        For an unknown activation or initialiser, or sizes that are not whole numbers of at least 1.
    """
    layers = check_whole_number("layers", layers)
    units = check_whole_number("units", units)
    kind = _activation_type(activation)
    init = validate_init(init)
    stack: list[dict[str, Any]] = []
    for _ in range(layers):
        stack += [{"type": "Dense", "units": units, "init": init}, {"type": kind}]
    return {
        "format": "dllab.network/1",
        "name": "ActivationDistributions",
        "description": f"{layers} x {units} {kind} units, init {init} (book section 6.2.2)",
        "input_shape": [units],
        "layers": stack,
        "loss": "mse",
    }


def activation_distributions(
    activation: str = "sigmoid",
    init: str | float = 1.0,
    *,
    layers: int = 5,
    units: int = 100,
    samples: int = 1000,
    seed: int = 0,
    bins: int = 30,
    value_range: tuple[float, float] | None = None,
) -> list[LayerDistribution]:
    """Histograms of every activation layer's outputs for standard normal inputs, with no training.

    Parameters
    ----------
    activation
        An activation layer type (see :func:`distribution_network`).
    init
        The initialiser of every Dense layer: a name or a standard deviation (the book's 1.0 and 0.01).
    layers, units
        Depth and width of the network (the book: 5 layers of 100).
    samples
        Inputs in the batch (the book: 1000), each ``units`` standard normal values.
    seed
        Seeds the inputs and the weights: the same seed gives the same inputs and the same underlying
        normal draws for every initialiser (each just scales them differently).
    bins
        Histogram bins (the book: 30).
    value_range
        ``(low, high)`` of the histograms; by default :data:`DEFAULT_RANGES` for the activation.

    Returns
    -------
    list of LayerDistribution
        One per activation layer, first layer first.

    Raises
    ------
    SettingsError
        For an unknown activation or initialiser, sizes that are not whole numbers of at least 1, a negative
        seed, or a value range that is not two finite numbers, low below high.
    """
    spec = distribution_network(activation, init, layers=layers, units=units)
    samples = check_whole_number("samples", samples)
    bins = check_whole_number("bins", bins)
    seed = check_whole_number("seed", seed, minimum=0)
    kind = spec["layers"][1]["type"]
    lo, hi = DEFAULT_RANGES[kind] if value_range is None else _check_range(value_range)
    model = build(spec, seed=seed, dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal((samples, units))
    edges = np.linspace(lo, hi, bins + 1)
    result = []
    for layer, out in zip(
        model.layers, layer_outputs(model, x), strict=True
    ):  # std 1.0 with ReLU may overflow
        if layer.category != "Activation":
            continue
        summary = summarize(out.reshape(-1), edges)
        result.append(
            LayerDistribution(
                layer=len(result) + 1,
                name=layer.name,
                counts=summary.counts.astype(np.int64),
                edges=edges.copy(),
                mean=summary.mean,
                std=summary.std,
                nonfinite=summary.nonfinite,
            )
        )
    return result


def _check_range(value_range: Any) -> tuple[float, float]:
    """``(low, high)`` as two finite floats, low below high."""
    pair = tuple(value_range) if isinstance(value_range, Sequence | np.ndarray) else ()
    bounds = [finite_number(v) for v in pair]
    if len(bounds) != 2 or None in bounds or not bounds[0] < bounds[1]:
        raise SettingsError(
            f"the value range must be two finite numbers, low below high, got {quote(value_range)}"
        )
    return bounds[0], bounds[1]


def distribution_grid(
    activations: Sequence[str] = BOOK_ACTIVATIONS,
    inits: Sequence[str | float] = BOOK_INITS,
    **options: Any,
) -> dict[tuple[str, str | float], list[LayerDistribution]]:
    """:func:`activation_distributions` for every activation and initialiser, on the same inputs.

    Parameters
    ----------
    activations
        Activation names (the book's sigmoid, tanh and ReLU by default).
    inits
        Initialisers (std 1.0, std 0.01, Xavier and He by default).
    **options
        Passed on: ``layers``, ``units``, ``samples``, ``seed``, ``bins``, ``value_range``.

    Returns
    -------
    dict
        ``{(activation, init): [LayerDistribution, ...]}`` with the keys as given, activations varying
        slowest (the order of a grid of small plots, one row per activation).
    """
    return {
        (activation, init): activation_distributions(activation, init, **options)
        for activation in activations
        for init in inits
    }
