"""On-the-fly image augmentation per mini-batch: random shifts, small rotations, flips, gaussian noise.

Every sample of a batch gets its own random affine transform. The whole batch is resampled at once: one
source coordinate per output pixel and sample, bilinear interpolation by gathering the four neighbours from
the flattened images (no loop over samples or pixels). Pixels that come from outside the image take the
sample's own minimum per channel (the background, whatever the normalisation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dllab.data.dataset import DatasetError


class Augmenter:
    """Random image transformations for NCHW float batches (or flattened ones, given ``image_shape``).

    Parameters
    ----------
    shift : int
        Largest shift in pixels, horizontally and vertically; each sample moves by a random whole number
        of pixels in ``[-shift, shift]`` along each axis.
    rotation : float
        Largest rotation in degrees; each sample turns by a uniform random angle in ``[-rotation, rotation]``
        around its centre.
    flip : bool
        Mirror left-right with probability 1/2. Leave it off for digits and for the shapes set, where a
        mirrored sample belongs to another class.
    noise : float
        Standard deviation of gaussian noise added to every pixel (in the units of the batch's values).
    image_shape : tuple of int, optional
        ``(C, H, W)`` of one sample, needed for flattened batches ``(N, C*H*W)``.
    fill : float, optional
        Value for pixels that come from outside the image; by default each sample's minimum per channel.
    """

    def __init__(
        self,
        shift: int = 0,
        rotation: float = 0.0,
        flip: bool = False,
        noise: float = 0.0,
        *,
        image_shape: tuple[int, ...] | list[int] | None = None,
        fill: float | None = None,
    ) -> None:
        if int(shift) != shift or shift < 0:
            raise DatasetError(
                f"augmentation shift must be a whole number of pixels of at least 0, got {shift}"
            )
        if not (np.isfinite(rotation) and 0 <= rotation <= 180):
            raise DatasetError(f"augmentation rotation must be between 0 and 180 degrees, got {rotation}")
        if not (np.isfinite(noise) and noise >= 0):
            raise DatasetError(f"augmentation noise must be at least 0, got {noise}")
        if image_shape is not None and len(image_shape) != 3:
            raise DatasetError(f"image_shape must be (channels, height, width), got {tuple(image_shape)}")
        self.shift = int(shift)
        self.rotation = float(rotation)
        self.flip = bool(flip)
        self.noise = float(noise)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in image_shape)
        self.fill = None if fill is None else float(fill)

    @property
    def enabled(self) -> bool:
        """True when any transformation is switched on."""
        return bool(self.shift or self.rotation or self.flip or self.noise)

    @property
    def geometric(self) -> bool:
        """True when pixels move (shift, rotation or flip)."""
        return bool(self.shift or self.rotation or self.flip)

    def _as_images(self, x: np.ndarray) -> np.ndarray:
        if x.ndim == 4:
            return x
        if self.image_shape is None:
            raise DatasetError(
                f"augmentation needs image batches (N, C, H, W); got shape {x.shape} and no image_shape"
            )
        if x.ndim != 2 or x.shape[1] != int(np.prod(self.image_shape)):
            raise DatasetError(
                f"cannot view a batch of shape {x.shape} as images of shape {self.image_shape}"
            )
        return x.reshape((len(x), *self.image_shape))

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return an augmented copy of a batch.

        Parameters
        ----------
        x : numpy.ndarray
            Batch ``(N, C, H, W)``, or ``(N, C*H*W)`` when ``image_shape`` is set. Float values; uint8
            input is rounded and clipped back to uint8.
        rng : numpy.random.Generator
            Source of the random transformations.

        Returns
        -------
        numpy.ndarray
            A new array with the shape and dtype of ``x``.
        """
        images = self._as_images(x)
        if not self.enabled or not len(images):
            return x.copy()
        out = images.astype(np.float32 if images.dtype == np.uint8 else images.dtype)
        if self.geometric:
            out = self._transform(out, rng)
        elif out is images:
            out = out.copy()
        if self.noise:
            out += (self.noise * rng.standard_normal(out.shape)).astype(out.dtype)
        if x.dtype == np.uint8:
            out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return out.reshape(x.shape)

    def _transform(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Resample every image through its own random shift, rotation and flip."""
        n, c, h, w = x.shape
        theta = np.deg2rad(rng.uniform(-self.rotation, self.rotation, n)) if self.rotation else np.zeros(n)
        shifts = rng.integers(-self.shift, self.shift + 1, (2, n)) if self.shift else np.zeros((2, n))
        mirror = np.where(rng.random(n) < 0.5, -1.0, 1.0) if self.flip else np.ones(n)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        # Output pixel p comes from R(-theta) (p - centre - shift), mirrored in x, plus centre.
        qy = (np.arange(h) - cy)[None, :, None] - shifts[1][:, None, None]
        qx = (np.arange(w) - cx)[None, None, :] - shifts[0][:, None, None]
        cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        src_x = (cos * qx + sin * qy) * mirror[:, None, None] + cx
        src_y = -sin * qx + cos * qy + cy
        flat = x.reshape(n, c, h * w)
        if self.fill is None:
            fill = flat.min(axis=2, keepdims=True)
        else:
            fill = np.full((n, c, 1), self.fill, dtype=x.dtype)
        out = np.zeros_like(flat)
        weight_in = np.zeros((n, 1, h * w), dtype=x.dtype)
        x0, y0 = np.floor(src_x), np.floor(src_y)
        fx, fy = (src_x - x0).astype(x.dtype), (src_y - y0).astype(x.dtype)
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        exact = not self.rotation  # whole-pixel shifts and flips: one neighbour has all the weight
        corners = [(0, 0)] if exact else [(0, 0), (0, 1), (1, 0), (1, 1)]
        for dy, dx in corners:  # the 4 bilinear neighbours, each gathered for the whole batch
            xi, yi = x0 + dx, y0 + dy
            weight = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
            weight *= (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            index = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).reshape(n, 1, h * w)
            weight = weight.reshape(n, 1, h * w)
            out += weight * np.take_along_axis(flat, index, axis=2)
            weight_in += weight
        out += (1 - weight_in) * fill
        return out.reshape(n, c, h, w)

    def preview(self, x: np.ndarray, n: int = 8, rng: np.random.Generator | None = None) -> np.ndarray:
        """Augmented copies of a sample (or of a batch), to show what the network will see.

        Parameters
        ----------
        x : numpy.ndarray
            One image ``(C, H, W)`` (or flattened, with ``image_shape`` set), or a batch of them.
        n : int
            Number of augmented versions.
        rng : numpy.random.Generator, optional
            Source of randomness; a generator seeded with 0 when None.

        Returns
        -------
        numpy.ndarray
            ``(n, *x.shape)``: ``n`` independently augmented versions of ``x``.
        """
        rng = np.random.default_rng(0) if rng is None else rng
        single = x.ndim == 3 or (
            self.image_shape is not None and x.shape in (self.image_shape, (int(np.prod(self.image_shape)),))
        )
        batch = x[None] if single else x
        repeated = np.broadcast_to(batch, (n, *batch.shape)).reshape((n * len(batch), *batch.shape[1:]))
        return self(repeated, rng).reshape((n, *x.shape))

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable settings."""
        return {
            "shift": self.shift,
            "rotation": self.rotation,
            "flip": self.flip,
            "noise": self.noise,
            "image_shape": None if self.image_shape is None else list(self.image_shape),
            "fill": self.fill,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Augmenter:
        """Rebuild from `to_dict`'s output (missing keys take their defaults)."""
        try:
            return cls(
                shift=d.get("shift", 0),
                rotation=d.get("rotation", 0.0),
                flip=d.get("flip", False),
                noise=d.get("noise", 0.0),
                image_shape=d.get("image_shape"),
                fill=d.get("fill"),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise DatasetError(f"invalid augmentation settings {d!r} ({exc})") from None

    def __repr__(self) -> str:
        return (
            f"Augmenter(shift={self.shift}, rotation={self.rotation}, flip={self.flip}, noise={self.noise}, "
            f"image_shape={self.image_shape})"
        )
