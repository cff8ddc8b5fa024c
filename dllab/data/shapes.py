"""A generated small-image set for convolution experiments: bars, edges and simple shapes, 1 x 28 x 28.

Every image is drawn from a signed distance function evaluated on the pixel grid of all images of one class
at once (no loop over samples or pixels), anti-aliased over one pixel, with random position, orientation,
size, brightness and gaussian pixel noise. The classes differ in orientation and in shape, so the first
Conv2D layer of a network trained on them learns oriented edge and bar detectors, without any download.
"""

from __future__ import annotations

import numpy as np

from dllab.data.dataset import Dataset, DatasetError
from dllab.data.split import stratified_split

SHAPE_CLASSES = [
    "horizontal bar",
    "vertical bar",
    "diagonal bar /",
    "diagonal bar \\",
    "horizontal edge",
    "vertical edge",
    "square",
    "disc",
    "ring",
    "cross",
]
SHAPES_DEFAULT_SAMPLES = 6000
SHAPES_DEFAULT_NOISE = 0.08
SHAPES_TEST_FRACTION = 1 / 6
IMAGE_SIZE = 28

# Base orientation in degrees of each class (image coordinates, y pointing down); shapes with no direction 0.
_ANGLE = np.array([0.0, 90.0, -45.0, 45.0, 0.0, 90.0, 0.0, 0.0, 0.0, 0.0])


def _box(a: np.ndarray, b: np.ndarray, half_length: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Signed distance (pixels, negative inside) to a bar along ``a``."""
    return np.maximum(np.abs(a) - half_length, np.abs(b) - half_width)


def _signed_distance(
    cls: int, a: np.ndarray, b: np.ndarray, width: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Signed distance of every pixel of ``len(a)`` images of class ``cls``; ``a``/``b`` are local axes."""
    n = len(a)

    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, n)[:, None, None]

    if cls <= 3:  # bars
        return _box(a, b, draw(6.0, 11.0), width / 2)
    if cls <= 5:  # edges: one side bright, which side is random
        polarity = np.where(rng.random(n) < 0.5, -1.0, 1.0)[:, None, None]
        return polarity * b
    rho = np.hypot(a, b)
    if cls == 6:  # square outline
        return np.abs(np.maximum(np.abs(a), np.abs(b)) - draw(5.0, 9.0)) - width / 2
    if cls == 7:  # filled disc
        return rho - draw(4.0, 8.0)
    if cls == 8:  # ring
        return np.abs(rho - draw(5.5, 9.5)) - width / 2
    half_length = draw(6.0, 10.0)  # cross
    return np.minimum(_box(a, b, half_length, width / 2), _box(b, a, half_length, width / 2))


def draw_shapes(
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    noise: float = SHAPES_DEFAULT_NOISE,
    size: int = IMAGE_SIZE,
) -> np.ndarray:
    """Draw one image per label.

    Parameters
    ----------
    labels : numpy.ndarray
        Class indices into `SHAPE_CLASSES`, shape ``(n,)``.
    rng : numpy.random.Generator
        Source of randomness (position, orientation jitter, size, brightness, noise).
    noise : float
        Standard deviation of the gaussian pixel noise, on the ``[0, 1]`` intensity scale.
    size : int
        Image height and width in pixels.

    Returns
    -------
    numpy.ndarray
        uint8 images ``(n, 1, size, size)``, background near 0, strokes near 255.
    """
    labels = np.asarray(labels, dtype=np.int64)
    scale = size / IMAGE_SIZE
    grid = np.arange(size) - (size - 1) / 2
    images = np.empty((len(labels), size, size), dtype=np.float64)
    for cls in range(len(SHAPE_CLASSES)):  # one vectorised pass per class, never per sample
        where = np.flatnonzero(labels == cls)
        n = len(where)
        if not n:
            continue
        shift = 3.0 if cls <= 5 else 4.0
        cx = rng.uniform(-shift, shift, n)[:, None, None] * scale
        cy = rng.uniform(-shift, shift, n)[:, None, None] * scale
        theta = np.deg2rad(_ANGLE[cls] + rng.uniform(-10.0, 10.0, n))[:, None, None]
        u = grid[None, None, :] - cx
        v = grid[None, :, None] - cy
        a = (u * np.cos(theta) + v * np.sin(theta)) / scale
        b = (-u * np.sin(theta) + v * np.cos(theta)) / scale
        width = rng.uniform(2.0, 3.5, n)[:, None, None]
        distance = _signed_distance(cls, a, b, width, rng)
        brightness = rng.uniform(0.7, 1.0, n)[:, None, None]
        images[where] = brightness * np.clip(0.5 - distance * scale, 0.0, 1.0)
    images += noise * rng.standard_normal(images.shape)
    return np.rint(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)[:, None]


def make_shapes(
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    seed: int | np.random.Generator = 0,
    test_fraction: float = SHAPES_TEST_FRACTION,
) -> Dataset:
    """Generate the "shapes" image set as a `Dataset`.

    Parameters
    ----------
    n_samples : int, optional
        Total number of images (training plus test, balanced over the 10 classes); default 6000.
    noise : float, optional
        Pixel noise standard deviation on the ``[0, 1]`` scale; default 0.08.
    seed : int or numpy.random.Generator
        The same seed gives the same images.
    test_fraction : float
        Share of the images kept for the test set (stratified).

    Returns
    -------
    Dataset
        uint8 images ``(N, 1, 28, 28)`` and int64 labels, class names `SHAPE_CLASSES`.
    """
    n = SHAPES_DEFAULT_SAMPLES if n_samples is None else int(n_samples)
    noise = SHAPES_DEFAULT_NOISE if noise is None else float(noise)
    if n < 2 * len(SHAPE_CLASSES):
        raise DatasetError(f"the shapes set needs at least {2 * len(SHAPE_CLASSES)} samples, got {n}")
    if not (np.isfinite(noise) and noise >= 0):
        raise DatasetError(f"noise must be a finite number of at least 0, got {noise}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n, dtype=np.int64) % len(SHAPE_CLASSES))
    images = draw_shapes(labels, rng, noise=noise)
    train, test = stratified_split(labels, test_fraction, rng)
    return Dataset(
        name="shapes",
        x_train=images[train],
        y_train=labels[train],
        x_test=images[test],
        y_test=labels[test],
        class_names=list(SHAPE_CLASSES),
        task="classification",
        source="generated",
    )
