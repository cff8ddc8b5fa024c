"""Transfer learning: start a network from a trained model's weights, and freeze layers of a spec.

:func:`init_from` copies into a model the weights (and BatchNorm running statistics) of every layer whose
name and parameter shapes match a layer of the source model; the other layers keep their fresh initial
weights (a new head for a different number of classes, say). :func:`freeze_layers` marks layers of a spec
``"trainable": false``, so training leaves their weights as they are (see :mod:`dllab.layers`).

>>> import dllab
>>> spec = {"input_shape": [4], "layers": [{"type": "Dense", "units": 3}, {"type": "Dense", "units": 2}]}
>>> source = dllab.build(spec, seed=1)
>>> head = {**spec, "layers": [spec["layers"][0], {"type": "Dense", "units": 5}]}
>>> model = dllab.build(freeze_layers(head, ["dense_1"]), seed=2)
>>> print(init_from(model, source).text())
copied: dense_1
frozen: dense_1
new: dense_2
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dllab import io
from dllab.errors import SettingsError
from dllab.model import Sequential, build
from dllab.spec import build_layers


@dataclass
class TransferReport:
    """What :func:`init_from` did, layer by layer (layers with weights only)."""

    #: Layers whose weights came from the source model.
    copied: list[str] = field(default_factory=list)
    #: Frozen layers of the model (``"trainable": false``).
    frozen: list[str] = field(default_factory=list)
    #: Layers that kept their fresh initial weights: absent from the source or of other shapes.
    new: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line each for the copied, frozen and new layers, e.g. ``"copied: conv2d_1, dense_1"``."""
        return [
            f"{what}: {', '.join(names) if names else 'none'}"
            for what, names in (("copied", self.copied), ("frozen", self.frozen), ("new", self.new))
        ]

    def text(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, list[str]]:
        return {"copied": list(self.copied), "frozen": list(self.frozen), "new": list(self.new)}


def _layer_arrays(model: Sequential) -> dict[str, dict[str, np.ndarray]]:
    """Each layer's parameters and running statistics by layer name (layers without any left out)."""
    return {
        layer.name: {**layer.params, **layer.state} for layer in model.layers if layer.params or layer.state
    }


def init_from(model: Sequential, source: Sequential | str | os.PathLike[str]) -> TransferReport:
    """Copy into ``model`` the weights of the layers of ``source`` that match by name and shapes.

    A layer is copied whole (weights, biases, BatchNorm's scale, shift and running statistics) when the
    source has a layer of the same name whose arrays have the same keys and shapes; values are converted to
    the model's dtype. Every other layer keeps the weights it was built with.

    Parameters
    ----------
    model
        The model to start, changed in place.
    source
        A trained model, or the path of a model file (``*.dllab.npz``).

    Returns
    -------
    TransferReport
        The copied, frozen and new layers.

    Raises
    ------
    ModelFileError
        When ``source`` is a path that holds no readable model file.
    """
    if not isinstance(source, Sequential):
        source = io.load(source)
    given = _layer_arrays(source)
    report = TransferReport(frozen=model.frozen_layers)
    for name, arrays in _layer_arrays(model).items():
        theirs = given.get(name)
        fits = theirs is not None and {k: v.shape for k, v in theirs.items()} == {
            k: v.shape for k, v in arrays.items()
        }
        if not fits:
            report.new.append(name)
            continue
        for key, target in arrays.items():
            target[...] = theirs[key]
        report.copied.append(name)
    return report


def freeze_layers(spec: dict[str, Any], names: list[str], *, trainable: bool = False) -> dict[str, Any]:
    """The spec (canonical: every name filled in) with the named layers frozen (or unfrozen).

    Parameters
    ----------
    spec
        A network spec that builds.
    names
        Layer names, e.g. ``["conv2d_1", "dense_1"]``; each must be a layer with weights.
    trainable
        False to freeze the layers, True to let them learn again.

    Raises
    ------
    SettingsError
        Naming the first name that is no layer of the network, or a layer without weights.
    SpecError
        When the spec itself cannot be built.
    """
    canonical, layers, _ = build_layers(spec)
    by_name = {layer.name: index for index, layer in enumerate(layers)}
    for name in names:
        if name not in by_name:
            raise SettingsError(
                f"cannot freeze {name!r}: {canonical['name']} has no layer of that name "
                f"(its layers: {', '.join(by_name)})"
            )
        if not layers[by_name[name]].param_shapes:
            raise SettingsError(
                f"cannot freeze {name!r}: a {layers[by_name[name]].type_name} layer has no weights"
            )
        entry = canonical["layers"][by_name[name]]
        entry.pop("trainable", None)
        if not trainable:
            entry["trainable"] = False
    return canonical


def build_started(
    spec: dict[str, Any],
    *,
    seed: int | None = 0,
    dtype: np.dtype | type = np.float32,
    source: str | os.PathLike[str] | None = None,
) -> tuple[Sequential, TransferReport | None]:
    """Build the model of a run: fresh weights, then those of the model file ``source`` when given.

    The one place where a training run (the command line's or the app's) gets its starting weights from a
    :class:`~dllab.trainer.TrainingConfig`'s ``init_from``.

    Returns
    -------
    model : Sequential
    report : TransferReport or None
        What was copied, frozen and new; None without ``source``.
    """
    model = build(spec, seed=seed, dtype=dtype)
    return model, (None if source is None else init_from(model, source))


def parse_layer_names(text: str) -> list[str]:
    """``"conv2d_1, dense_1"`` as ``["conv2d_1", "dense_1"]`` (empty entries dropped)."""
    return [name.strip() for name in text.split(",") if name.strip()]
