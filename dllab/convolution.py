"""Sliding windows for convolution and pooling: padding, output sizes, im2col and col2im.

Convolution gathers every window of every sample and channel at once through a strided view of the padded
input (``numpy.lib.stride_tricks.as_strided``) and becomes one matrix product. Pooling reduces the
``kh * kw`` strided slices that hold each position of every window. The only Python loops run over the
offsets inside a window, never over pixels, samples or channels.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pads = tuple[int, int, int, int]  # top, bottom, left, right


def pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair stays a pair."""
    if isinstance(value, int | np.integer):
        return int(value), int(value)
    first, second = value
    return int(first), int(second)


def resolve_padding(
    padding: int | str, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]
) -> Pads:
    """Padding ``(top, bottom, left, right)`` for an int, ``"valid"`` (none) or ``"same"``.

    ``"same"`` pads so that the output has ``ceil(size / stride)`` rows and columns, the extra row or column
    (for an even total) going to the bottom or right, as ONNX's ``SAME_UPPER`` and TensorFlow do.
    """
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        pads = []
        for n, k, s in zip(size, kernel, stride, strict=True):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            pads.extend((total // 2, total - total // 2))
        return pads[0], pads[1], pads[2], pads[3]
    p = int(padding)
    return p, p, p, p


def output_size(size: int, pad_before: int, pad_after: int, kernel: int, stride: int) -> int:
    """Number of window positions along one axis (zero or less when the kernel does not fit)."""
    return (size + pad_before + pad_after - kernel) // stride + 1


def pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an NCHW array (returns ``x`` itself when there is nothing to pad)."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def offsets(
    kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]
) -> list[tuple[slice, slice]]:
    """For each position inside a window, the strided slices (rows, columns) of a padded input that hold that
    position of every window. Pooling reduces over them; :func:`col2im` adds back into them."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    return [
        (slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))
        for i in range(kh)
        for j in range(kw)
    ]


def im2col(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    *,
    ones_column: bool = False,
) -> np.ndarray:
    """Patches of a padded NCHW array as rows: ``(N * OH * OW, C * kh * kw)``, C-contiguous.

    With ``ones_column`` the rows get one more entry, 1, so that a matrix product with ``[W | b]`` adds the
    bias and the product of the gradient with these rows gives ``[dW | db]`` in one pass.
    """
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    view = as_strided(
        xp,
        shape=(n, out_hw[0], out_hw[1], c, kernel[0], kernel[1]),
        strides=(sn, sh * stride[0], sw * stride[1], sc, sh, sw),
        writeable=False,
    )
    rows, size = n * out_hw[0] * out_hw[1], c * kernel[0] * kernel[1]
    if not ones_column:
        return view.reshape(rows, size)
    cols = np.empty((rows, size + 1), dtype=xp.dtype)
    cols[:, size] = 1
    patches = cols[:, :size]
    patches.shape = view.shape  # a view of cols (raises rather than copying)
    patches[...] = view
    return cols


def col2im(
    patches: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
) -> np.ndarray:
    """Sum window gradients back onto the padded input: the adjoint of :func:`im2col`.

    ``patches`` has shape ``(N, C, OH, OW, kh, kw)`` (any strides). Overlapping windows add up. Windows that
    tile the input exactly (stride equal to the kernel, nothing left over) take a single reshape.
    """
    _, _, oh, ow, kh, kw = patches.shape
    sh, sw = stride
    if (kh, kw) == (sh, sw) and padded_shape[2:] == (oh * kh, ow * kw):
        return patches.transpose(0, 1, 2, 4, 3, 5).reshape(padded_shape)
    out = np.zeros(padded_shape, dtype=patches.dtype)
    for k, (rows, cols) in enumerate(offsets((kh, kw), stride, (oh, ow))):
        out[:, :, rows, cols] += patches[:, :, :, :, k // kw, k % kw]
    return out


def unpad(x: np.ndarray, pads: Pads) -> np.ndarray:
    """Inverse of :func:`pad`: the interior of a padded NCHW array."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]
