"""Distribution shift: dev and test images drawn from another distribution than the training images.

The course's data-mismatch setting: a network trains on one distribution (clean digits) and is judged on another
(noisy, rotated or inverted digits). Each shift is a fixed, seeded transformation of raw images, made with the
augmentation code (:class:`~dllab.data.augment.Augmenter`) where it can be; the remedy, mixing dev-like synthetic
samples into the training data, applies the same shift to a share of the training images.

>>> rng = np.random.default_rng(0)
>>> shifted = shift_images(np.zeros((2, 1, 28, 28), np.uint8), "invert", rng)
>>> int(shifted.max())
255
"""

from __future__ import annotations

import numpy as np

from dllab.data.augment import Augmenter
from dllab.data.dataset import DatasetError
from dllab.errors import quote

#: The shifts, with what each does to an image.
SHIFTS = {
    "none": "dev and test come from the training distribution",
    "noise": "gaussian noise of 40 % of the value range on every pixel",
    "rotation": "a random rotation of up to 60 degrees either way",
    "invert": "light and dark swapped (a white background)",
}
#: Standard deviation of the ``"noise"`` shift, as a share of the images' value range.
NOISE_SHARE = 0.4
#: Largest angle of the ``"rotation"`` shift, in degrees.
ROTATION_DEGREES = 60.0


def check_shift(name: object) -> str:
    """A shift's name, checked.

    Raises
    ------
    DatasetError
        For a name that is not one of :data:`SHIFTS`.
    """
    if not isinstance(name, str) or name not in SHIFTS:
        raise DatasetError(f"the dev shift must be one of {', '.join(SHIFTS)}, got {quote(name)}")
    return name


def shift_images(
    x: np.ndarray, name: str, rng: np.random.Generator, image_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """A shifted copy of raw images.

    Parameters
    ----------
    x : numpy.ndarray
        Raw images ``(N, C, H, W)`` (or flattened, with ``image_shape``), uint8 or float.
    name : str
        One of :data:`SHIFTS`.
    rng : numpy.random.Generator
        Source of the noise and the angles; the same state gives the same images.
    image_shape : tuple of int, optional
        ``(C, H, W)`` of one image, for flattened samples.

    Returns
    -------
    numpy.ndarray
        A new array of the shape and dtype of ``x``.

    Raises
    ------
    DatasetError
        For an unknown shift.
    """
    check_shift(name)
    if name == "none" or not len(x):
        return x.copy()
    low, high = (0.0, 255.0) if x.dtype == np.uint8 else (float(x.min()), float(x.max()))
    if name == "invert":
        out = (high + low) - x.astype(np.float64)
        return out.astype(x.dtype)
    if name == "noise":
        augmenter = Augmenter(noise=NOISE_SHARE * (high - low), image_shape=image_shape)
    else:
        augmenter = Augmenter(rotation=ROTATION_DEGREES, image_shape=image_shape)
    out = augmenter(x, rng)
    if x.dtype != np.uint8:  # uint8 is clipped to its range by the augmenter
        np.clip(out, low, high, out=out)
    return out


def mixed(
    x: np.ndarray,
    fraction: float,
    name: str,
    rng: np.random.Generator,
    image_shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """``x`` with a seeded ``fraction`` of its images shifted (the others as they are), a new array.

    Parameters
    ----------
    x : numpy.ndarray
        Raw images.
    fraction : float
        Share of the images shifted, in [0, 1].
    name, rng, image_shape
        As for :func:`shift_images`.
    """
    out = x.copy()
    count = round(fraction * len(x))
    if count and name != "none":
        chosen = np.sort(rng.choice(len(x), size=count, replace=False))
        out[chosen] = shift_images(x[chosen], name, rng, image_shape)
    return out
