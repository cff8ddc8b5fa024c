"""Built-in 2D data sets in the spirit of TensorFlow Playground and ConvNetJS; no download needed.

Each generator returns ``(x, y)``: float32 points of shape ``(n, 2)`` roughly inside ``[-1, 1]²`` and int64
class indices (float32 ``(n, 1)`` targets for ``regression``). Classes are balanced. ``noise`` is the
standard deviation of gaussian noise added to the coordinates (to the target for ``regression``; the spread
of each cluster for ``blobs``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dllab.data.dataset import Dataset, DatasetError
from dllab.data.split import stratified_split

TOY_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class ToySpec:
    """Defaults of one 2D set: sample count, noise, number of classes (None where fixed)."""

    n_samples: int
    noise: float
    n_classes: int | None
    description: str


TOY_SETS: dict[str, ToySpec] = {
    "spiral": ToySpec(600, 0.05, 3, "interleaved spiral arms, one class per arm (ConvNetJS, CS231n)"),
    "moons": ToySpec(500, 0.1, None, "two interleaving half circles"),
    "circles": ToySpec(500, 0.05, None, "a disc inside a ring: not linearly separable"),
    "xor": ToySpec(500, 0.05, None, "four quadrants, the class is the sign of x·y"),
    "blobs": ToySpec(500, 0.2, 3, "gaussian clusters, one class each: almost linearly separable"),
    "regression": ToySpec(500, 0.05, None, "a smooth surface z = sin(πx)·cos(πy/2) plus noise"),
}


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n, dtype=np.int64) % k)


def _jitter(points: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return (points + noise * rng.standard_normal(points.shape)).astype(np.float32)


def spiral(
    n_samples: int, noise: float, rng: np.random.Generator, *, n_classes: int = 3, turns: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Spiral arms around the origin, one class per arm.

    Parameters
    ----------
    n_samples : int
        Number of points.
    noise : float
        Standard deviation of the noise added to each coordinate.
    rng : numpy.random.Generator
        Source of randomness.
    n_classes : int
        Number of arms.
    turns : float
        How many full turns each arm makes from the centre to the rim.

    Returns
    -------
    x, y : numpy.ndarray
        Points ``(n, 2)`` float32 and arm indices ``(n,)`` int64.
    """
    y = _balanced_labels(n_samples, n_classes, rng)
    r = rng.uniform(0.05, 1.0, n_samples)
    t = 2 * np.pi * (turns * r + y / n_classes)
    return _jitter(np.stack([r * np.cos(t), r * np.sin(t)], axis=1), noise, rng), y


def moons(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 the upper one). Same parameters and returns as `spiral`."""
    y = _balanced_labels(n_samples, 2, rng)
    u = rng.uniform(0.0, np.pi, n_samples)
    upper = np.stack([np.cos(u), np.sin(u)], axis=1)
    lower = np.stack([1.0 - np.cos(u), 0.5 - np.sin(u)], axis=1)
    points = np.where(y[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    return _jitter(points * 0.9, noise, rng), y


def circles(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A disc (class 1) inside a ring (class 0). Same parameters and returns as `spiral`."""
    y = _balanced_labels(n_samples, 2, rng)
    r = np.where(y == 1, rng.uniform(0.0, 0.5, n_samples), rng.uniform(0.7, 1.0, n_samples))
    t = rng.uniform(0.0, 2 * np.pi, n_samples)
    return _jitter(np.stack([r * np.cos(t), r * np.sin(t)], axis=1), noise, rng), y


def xor(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in four quadrants; class 1 where x and y have opposite signs. Parameters as `spiral`."""
    y = _balanced_labels(n_samples, 2, rng)
    magnitude = rng.uniform(0.05, 1.05, (n_samples, 2))  # a small gap along the axes, as in TF Playground
    sign_x = np.where(rng.random(n_samples) < 0.5, -1.0, 1.0)
    sign_y = np.where(y == 1, -sign_x, sign_x)
    points = magnitude * np.stack([sign_x, sign_y], axis=1) / 1.05
    return _jitter(points, noise, rng), y


def blobs(
    n_samples: int, noise: float, rng: np.random.Generator, *, n_classes: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters with centres evenly spaced on a circle; ``noise`` is each cluster's spread."""
    y = _balanced_labels(n_samples, n_classes, rng)
    angle = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 2
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _jitter(centres[y], noise, rng), y


def regression(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in ``[-1, 1]²`` with the target ``sin(πx)·cos(πy/2)`` plus gaussian noise, shape ``(n, 1)``."""
    points = rng.uniform(-1.0, 1.0, (n_samples, 2))
    z = np.sin(np.pi * points[:, 0]) * np.cos(np.pi * points[:, 1] / 2)
    z = z + noise * rng.standard_normal(n_samples)
    return points.astype(np.float32), z[:, None].astype(np.float32)


_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "spiral": spiral,
    "moons": moons,
    "circles": circles,
    "xor": xor,
    "blobs": blobs,
    "regression": regression,
}

_CLASS_NAMES: dict[str, list[str]] = {
    "moons": ["upper moon", "lower moon"],
    "circles": ["ring", "disc"],
    "xor": ["same sign", "opposite signs"],
}


def make_toy(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    seed: int | np.random.Generator = 0,
    n_classes: int | None = None,
    test_fraction: float = TOY_TEST_FRACTION,
) -> Dataset:
    """Generate one of the 2D sets as a `Dataset` with a held-out test part.

    Parameters
    ----------
    name : str
        One of ``TOY_SETS``: spiral, moons, circles, xor, blobs, regression.
    n_samples : int, optional
        Total number of points (training plus test); the set's default when None.
    noise : float, optional
        Noise standard deviation; the set's default when None.
    seed : int or numpy.random.Generator
        The same seed gives the same points.
    n_classes : int, optional
        Arms of ``spiral`` or clusters of ``blobs`` (2 to 10); other sets have a fixed number of classes.
    test_fraction : float
        Share of the points kept for the test set (stratified).

    Returns
    -------
    Dataset
        float32 points ``(N, 2)``; labels int64, or float32 ``(N, 1)`` for ``regression``.
    """
    if name not in TOY_SETS:
        raise DatasetError(f"unknown 2D data set {name!r}; known: {', '.join(TOY_SETS)}")
    spec = TOY_SETS[name]
    n = spec.n_samples if n_samples is None else int(n_samples)
    noise = spec.noise if noise is None else float(noise)
    if spec.n_classes is None and n_classes is not None:
        what = "has no classes" if name == "regression" else "has a fixed number of classes"
        raise DatasetError(f"the {name} set {what}; n_classes cannot be set")
    k = spec.n_classes if n_classes is None else int(n_classes)
    if k is not None and not 2 <= k <= 10:
        raise DatasetError(f"the {name} set needs 2 to 10 classes, got {k}")
    if n < 10:
        raise DatasetError(f"the {name} set needs at least 10 samples, got {n}")
    if not (np.isfinite(noise) and noise >= 0):
        raise DatasetError(f"noise must be a finite number of at least 0, got {noise}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    kwargs = {} if spec.n_classes is None else {"n_classes": k}
    x, y = _GENERATORS[name](n, noise, rng, **kwargs)
    train, test = stratified_split(y, test_fraction, rng)
    if name == "regression":
        class_names, task = [], "regression"
    else:
        default_names = [f"{'arm' if name == 'spiral' else 'blob'} {i}" for i in range(k or 2)]
        class_names, task = _CLASS_NAMES.get(name, default_names), "classification"
    return Dataset(
        name=name,
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        class_names=list(class_names),
        task=task,
        source="generated",
    )
