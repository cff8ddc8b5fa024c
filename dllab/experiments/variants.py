"""Variants of a network and its training: the settings a comparison varies and the networks they make.

A comparison (:class:`dllab.experiments.compare.Comparison`) trains one network under several settings. This module
holds what those settings are and how each one changes the network spec or the training config.

Factors (:data:`FACTORS`) and their values:

- ``optimizer``: names such as ``"sgd"`` or ``"adam"``; each trains with its book learning rate
  (:data:`BOOK_LEARNING_RATES`) unless the learning rate is kept (``keep_lr``) or is a factor too;
- ``init``: ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` or a standard deviation such as
  ``0.01``, applied to every Dense and Conv2D layer (:func:`with_init`);
- ``batchnorm``: True inserts a BatchNorm after every Dense and Conv2D but the last, False removes them
  (:func:`with_batchnorm`);
- ``dropout``: a rate inserts a Dropout after the activation of every hidden Dense layer, 0 removes them
  (:func:`with_dropout`);
- ``dropout_scaling``: ``"inverted"`` or ``"book"``, set on every Dropout layer of the network
  (:func:`with_dropout_scaling`);
- ``weight_decay``, ``batch_size``, ``lr``: training settings.

BatchNorm and Dropout draw nothing when built, so inserting them leaves the Dense and Conv2D weights of a
model built with the same seed unchanged: every variant can start from the same initial weights.

>>> [v.label for v in make_variants(spec, TrainingConfig(), {"optimizer": ["sgd", "adam"]})]  # doctest: +SKIP
['sgd', 'adam']
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dllab.errors import SettingsError, quote
from dllab.initializers import validate_init
from dllab.layers import DROPOUT_SCALINGS
from dllab.optimizers import OPTIMIZERS, finite_number
from dllab.option_strings import parse_value
from dllab.spec import LAYER_TYPES, SpecError, read_spec
from dllab.trainer import TrainingConfig

#: The settings a comparison can vary.
FACTORS = ("optimizer", "init", "batchnorm", "dropout", "dropout_scaling", "weight_decay", "batch_size", "lr")
#: The learning rate each optimizer trains with in a comparison unless one is given.
BOOK_LEARNING_RATES: dict[str, float] = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.001,
    "adadelta": 1.0,
    "adam": 0.001,
    "adamw": 0.001,
}
#: At most this many factors vary at once (two make a grid).
MAX_FACTORS = 2

_WEIGHTED = ("Dense", "Conv2D")


# --- network variants ------------------------------------------------------------------------------------


def _is_type(layer: Any, *types: str) -> bool:
    return isinstance(layer, dict) and layer.get("type") in types


def _is_activation(layer: Any) -> bool:
    cls = LAYER_TYPES.get(layer.get("type")) if isinstance(layer, dict) else None
    return cls is not None and cls.category == "Activation"


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    layers = spec.get("layers")
    if not isinstance(layers, list):
        raise SpecError("the spec has no list of layers")
    return [dict(layer) if isinstance(layer, dict) else layer for layer in layers]


def _insert_after(layers: list[Any], positions: Iterable[int], new: dict[str, Any]) -> list[Any]:
    """The layers with a copy of ``new`` after each of the positions."""
    positions = set(positions)
    out: list[Any] = []
    for i, layer in enumerate(layers):
        out.append(layer)
        if i in positions:
            out.append(dict(new))
    return out


def with_init(spec: dict[str, Any] | str | os.PathLike[str], init: str | float) -> dict[str, Any]:
    """The spec with ``init`` set on every Dense and Conv2D layer.

    Parameters
    ----------
    spec
        A network spec (dict or ``.json`` path); not modified.
    init
        ``"he"``, ``"xavier"``, ``"he_uniform"``, ``"xavier_uniform"`` or a standard deviation.

    Returns
    -------
    dict
        A new spec.
    """
    init = validate_init(init)
    result = read_spec(spec)
    layers = _layers(result)
    for layer in layers:
        if _is_type(layer, *_WEIGHTED):
            layer["init"] = init
    result["layers"] = layers
    return result


def with_batchnorm(
    spec: dict[str, Any] | str | os.PathLike[str], on: bool, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The spec with a BatchNorm after every Dense and Conv2D but the last one (``on``), or with none.

    Existing BatchNorm layers are removed first, so the result has exactly one BatchNorm per hidden weighted
    layer when ``on`` and none when not. The inserted layers take ``options`` (e.g. the book's
    ``{"eps": 1e-6}``), else the defaults.
    """
    result = read_spec(spec)
    layers = [layer for layer in _layers(result) if not _is_type(layer, "BatchNorm")]
    if on:
        weighted = [i for i, layer in enumerate(layers) if _is_type(layer, *_WEIGHTED)]
        layers = _insert_after(layers, weighted[:-1], {"type": "BatchNorm", **(options or {})})
    result["layers"] = layers
    return result


def with_dropout(
    spec: dict[str, Any] | str | os.PathLike[str], rate: float, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The spec with a Dropout of ``rate`` after the activation of every hidden Dense layer (0: none).

    Existing Dropout layers are removed first. A hidden Dense layer is one followed by another Dense layer;
    the Dropout goes after the BatchNorm and activation layers that follow it. The inserted layers take
    ``options`` besides the rate (e.g. the book's ``{"scaling": "book"}``), else the defaults.

    Raises
    ------
    SettingsError
        For a rate outside [0, 1), or a positive rate for a network without a hidden Dense layer.
    """
    rate = _check_dropout(rate)
    result = read_spec(spec)
    layers = [layer for layer in _layers(result) if not _is_type(layer, "Dropout")]
    if rate > 0:
        dense = [i for i, layer in enumerate(layers) if _is_type(layer, "Dense")]
        if len(dense) < 2:
            raise SettingsError("dropout needs a hidden Dense layer to follow, and this network has none")
        insert_after = []
        for i in dense[:-1]:
            j = i
            while j + 1 < len(layers) and (
                _is_activation(layers[j + 1]) or _is_type(layers[j + 1], "BatchNorm")
            ):
                j += 1
            insert_after.append(j)
        layers = _insert_after(layers, insert_after, {"type": "Dropout", **(options or {}), "rate": rate})
    result["layers"] = layers
    return result


def with_dropout_scaling(spec: dict[str, Any] | str | os.PathLike[str], scaling: str) -> dict[str, Any]:
    """The spec with every Dropout layer set to ``scaling``: ``"inverted"`` or the book's ``"book"``.

    Raises
    ------
    SettingsError
        For a network without a Dropout layer (there is nothing to scale).
    """
    result = read_spec(spec)
    layers = _layers(result)
    dropouts = [layer for layer in layers if _is_type(layer, "Dropout")]
    if not dropouts:
        raise SettingsError("comparing dropout scalings needs a network with a Dropout layer")
    for layer in dropouts:
        layer["scaling"] = scaling
    result["layers"] = layers
    return result


# --- factors and variants --------------------------------------------------------------------------------


def _check_dropout(rate: Any) -> float:
    """A dropout rate as a float in [0, 1)."""
    number = finite_number(rate)
    if number is None or not 0.0 <= number < 1.0:
        raise SettingsError(f"a dropout rate must be at least 0 and below 1, got {quote(rate)}")
    return number


def _parse_bool(value: Any) -> bool:
    """On or off from text (``"on"``, ``"off"``, ``"true"``, ``"0"``, ...), a boolean, or 0 and 1."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("on", "true", "yes", "1", "off", "false", "no", "0"):
            return key in ("on", "true", "yes", "1")
    elif isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise SettingsError(f"batchnorm takes on or off, got {quote(value)}")


def _number(factor: str, value: Any, *, integer: bool = False) -> float | int:
    """A finite number (a whole one when ``integer``) from text or a Python value."""
    number = parse_value(value) if isinstance(value, str) else value
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(number, bool) or not isinstance(number, kind):
        words = "whole numbers" if integer else "numbers"
        raise SettingsError(f"{factor.replace('_', ' ')} values must be {words}, got {quote(value)}")
    if finite_number(number) is None:
        raise SettingsError(f"{factor.replace('_', ' ')} values must be finite, got {quote(value)}")
    return int(number) if integer else float(number)


def parse_init(text: str | float) -> str | float:
    """An initialiser setting from text: a name, a standard deviation, or ``"std 0.01"``."""
    if isinstance(text, str) and text.strip().lower().startswith("std"):
        text = text.strip()[3:].strip(" =:")
    return validate_init(text)


def check_factor_values(factor: str, values: Sequence[Any]) -> list[Any]:
    """Validate and normalise the values of one factor (text or Python values).

    Parameters
    ----------
    factor
        One of :data:`FACTORS`.
    values
        Its values, e.g. ``["sgd", "adam"]``, ``["on", "off"]``, ``[0.0, 0.1]`` or text like ``"0.1"``.

    Returns
    -------
    list
        Optimizer names in lower case, inits as names or floats, booleans for batchnorm, floats or ints for
        the others.

    Raises
    ------
    SettingsError
        For an unknown factor, an empty or repeated value list, or a value that is not valid.
    """
    if not isinstance(factor, str) or factor not in FACTORS:
        raise SettingsError(f"unknown comparison factor {quote(factor)}; known: {', '.join(FACTORS)}")
    words = factor.replace("_", " ")
    if not values:
        raise SettingsError(f"give at least one {words} value to compare")
    checked: list[Any] = []
    for raw in values:
        text = raw.strip() if isinstance(raw, str) else raw
        if factor == "optimizer":
            name = text.lower() if isinstance(text, str) else None
            if name not in OPTIMIZERS:
                raise SettingsError(f"unknown optimizer {quote(text)}; known: {', '.join(OPTIMIZERS)}")
            value: Any = name
        elif factor == "init":
            value = parse_init(text)
        elif factor == "batchnorm":
            value = _parse_bool(text)
        elif factor == "batch_size":
            value = _number(factor, text, integer=True)
            if value < 1:
                raise SettingsError(f"batch sizes must be whole numbers of at least 1, got {quote(raw)}")
        elif factor == "dropout":
            value = _check_dropout(_number(factor, text))
        elif factor == "dropout_scaling":
            value = text.lower() if isinstance(text, str) else None
            if value not in DROPOUT_SCALINGS:
                raise SettingsError(f"dropout scalings are {' or '.join(DROPOUT_SCALINGS)}, got {quote(raw)}")
        else:
            value = _number(factor, text)
            if factor == "lr" and value <= 0:
                raise SettingsError(f"learning rates must be positive, got {quote(raw)}")
            if factor == "weight_decay" and value < 0:
                raise SettingsError(f"weight decay must be at least 0, got {quote(raw)}")
        if value in checked:
            raise SettingsError(f"the {words} value {quote(raw)} is given twice")
        checked.append(value)
    return checked


def describe_setting(factor: str, value: Any) -> str:
    """A short label for one setting, e.g. ``"adam"``, ``"init std 0.01"``, ``"batchnorm on"``."""
    if factor == "optimizer":
        return str(value)
    if factor == "init":
        return f"init std {value:g}" if isinstance(value, float) else f"init {value}"
    if factor == "batchnorm":
        return f"batchnorm {'on' if value else 'off'}"
    if factor == "batch_size":
        return f"batch {value}"
    if factor == "dropout_scaling":
        return "book's dropout" if value == "book" else "inverted dropout"
    if factor == "weight_decay":
        return f"weight decay {value:g}"
    return f"{factor} {value:g}"


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: its settings, network spec and training config."""

    label: str
    settings: dict[str, Any]
    spec: dict[str, Any]
    config: TrainingConfig


def make_variants(
    spec: dict[str, Any] | str | os.PathLike[str],
    config: TrainingConfig,
    factors: Mapping[str, Sequence[Any]],
    *,
    keep_lr: bool = False,
    inserted: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Variant]:
    """Every combination of the factors' values as a variant of ``spec`` and ``config``.

    Parameters
    ----------
    spec
        The base network spec (dict or ``.json`` path).
    config
        The base training config.
    factors
        One or two factors of :data:`FACTORS` with their values; with two, every pair (a grid, the first
        factor varying slowest).
    keep_lr
        Keep ``config.lr`` for every optimizer instead of each one's book learning rate.
    inserted
        Options of the layers the ``batchnorm`` and ``dropout`` factors insert, by layer type:
        ``{"BatchNorm": {"eps": 1e-6}, "Dropout": {"scaling": "book"}}`` builds them as the book does.

    Returns
    -------
    list of Variant

    Raises
    ------
    SettingsError
        For no or more than two factors, or invalid values. SpecError when a variant's network cannot be
        built.
    """
    if not factors:
        raise SettingsError("choose a setting to compare, e.g. optimizers")
    if len(factors) > MAX_FACTORS:
        raise SettingsError(
            f"compare at most {MAX_FACTORS} settings at once, got {len(factors)}: {quote(list(factors))}"
        )
    names = list(factors)
    values = [check_factor_values(name, factors[name]) for name in names]
    base = read_spec(spec)
    variants = []
    for combination in itertools.product(*values):
        settings = dict(zip(names, combination, strict=True))
        variant_spec = base
        changes: dict[str, Any] = {}
        for factor, value in settings.items():
            if factor == "init":
                variant_spec = with_init(variant_spec, value)
            elif factor == "batchnorm":
                variant_spec = with_batchnorm(variant_spec, value, (inserted or {}).get("BatchNorm"))
            elif factor == "dropout":
                variant_spec = with_dropout(variant_spec, value, (inserted or {}).get("Dropout"))
            elif factor == "dropout_scaling":
                variant_spec = with_dropout_scaling(variant_spec, value)
            elif factor == "optimizer":
                changes["optimizer"] = value
                changes["optimizer_options"] = {}
                if not keep_lr and "lr" not in settings:
                    changes["lr"] = BOOK_LEARNING_RATES.get(value, config.lr)
            else:
                changes[factor] = value
        label = ", ".join(describe_setting(f, v) for f, v in settings.items())
        variant_config = dataclasses.replace(config, **changes)
        variants.append(Variant(label, settings, read_spec(variant_spec), variant_config))
    return variants
