"""Sliding windows for convolution and pooling: padding, output sizes, im2col and col2im.

Convolution works batch last: an NCHW batch is kept in memory as ``(C, H, W, N)`` (:func:`batch_last`), so
that every strided slice of it runs over whole rows of samples. It gathers the windows of every sample and
channel through a strided view of the padded input (``numpy.lib.stride_tricks.as_strided``), a block of
output positions at a time small enough to stay in cache (:func:`convolve`), and multiplies each block by the
filters (large convolutions: blocks side by side on the cores); the result is again batch last. Pooling
reduces the ``kh * kw`` strided slices that hold each position of every window. The only Python loops run over
the offsets inside a window and over blocks of output rows, never over single pixels, samples or channels.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dllab import cores

Pads = tuple[int, int, int, int]  # top, bottom, left, right
T = TypeVar("T")
R = TypeVar("R")


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


def batch_last(x: np.ndarray) -> np.ndarray:
    """The memory of an NCHW batch as a C-contiguous ``(C, H, W, N)`` array: the sample index varies fastest.

    A view when ``x`` already lies in memory that way (Conv2D's output and everything computed from it
    elementwise), else one copy. :func:`batch_first` turns it back into an NCHW view.
    """
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def batch_first(m: np.ndarray) -> np.ndarray:
    """The NCHW view of a ``(C, H, W, N)`` array (the inverse of :func:`batch_last`, never a copy)."""
    return m.transpose(3, 0, 1, 2)


def pad_batch_last(m: np.ndarray, pads: Pads) -> np.ndarray:
    """Zero-pad the two spatial axes of a ``(C, H, W, N)`` array (``m`` itself when there is nothing to pad)."""
    top, bottom, left, right = pads
    if not any(pads):
        return m
    return np.pad(m, ((0, 0), (top, bottom), (left, right), (0, 0)))


def im2col(
    mp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Patches of a padded batch-last ``(C, H, W, N)`` array as columns: ``(C * kh * kw, OH * OW * N)``.

    Row ``(c, i, j)`` holds input channel ``c`` at offset ``(i, j)`` inside every window, the windows in
    ``(OH, OW, N)`` order. A filter bank ``W.reshape(F, -1)`` times these columns is the convolution, batch
    last, ``(F, OH, OW, N)``: the output needs no reordering copy, and with stride 1 every row of patches is
    copied in runs of ``OW * N`` values (0.14 ms against 1.36 ms for the window-per-row order of 100 MNIST
    images and a 5x5 kernel, one core). ``out``, when given, receives the patches (a reused buffer) and is returned.
    """
    view = _windows(mp, kernel, stride, out_hw)
    if out is None:
        c, kh, kw, oh, ow, n = view.shape
        out = np.empty((c * kh * kw, oh * ow * n), dtype=mp.dtype)
    out.reshape(view.shape)[...] = view  # (reshape of a C-contiguous buffer: a view, never a copy)
    return out


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
) -> np.ndarray:
    """Sum window gradients back onto the padded batch-last input: the adjoint of :func:`im2col`.

    ``cols`` has :func:`im2col`'s layout, ``(C * kh * kw, OH * OW * N)``; the result is a C-contiguous
    ``(C, H, W, N)`` array of ``padded_shape``. Overlapping windows add up. Windows that tile the input
    exactly (stride equal to the kernel, nothing left over) take a single reordering copy.
    """
    c, hp, wp, n = padded_shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    patches = cols.reshape(c, kh, kw, oh, ow, n)
    if (kh, kw) == (sh, sw) and (hp, wp) == (oh * kh, ow * kw):
        out = np.empty(padded_shape, dtype=cols.dtype)
        out.reshape(c, oh, kh, ow, kw, n)[...] = patches.transpose(0, 3, 1, 4, 2, 5)
        return out
    out = np.zeros(padded_shape, dtype=cols.dtype)
    for k, (rows, columns) in enumerate(offsets(kernel, stride, (oh, ow))):
        out[:, rows, columns] += patches[:, k // kw, k % kw]
    return out


#: Bytes of patches gathered at a time by :func:`convolve` and :func:`weight_gradient`: a block that stays in
#: the processor's cache (level 2: 1 MiB a core here) while the matrix product reads it. OpenBLAS multiplies 16
#: filters by a block in cache at ~70 GFLOP/s, by all the patches gathered into one matrix at ~30: the
#: DeepConvNet's second layer forward 13.4 to 7.8 ms a mini-batch of 100, its whole training pass 260 to 160 ms
#: with blocks of 1 GiB (one block) against 512 KiB (one core, loaded machine); 512 KiB to 2 MiB are alike.
BLOCK_BYTES = 1024 * 1024


def blocks(
    out_hw: tuple[int, int], n: int, rows: int, itemsize: int, block_bytes: int | None = None
) -> list[tuple[int, int, int, int]]:
    """Output windows in blocks ``(row_start, row_stop, column_start, column_stop)`` of about ``block_bytes`` of
    patches each (``rows`` values a window position): whole output rows together, or one row in pieces when a
    row alone is larger. Each block is a contiguous range of a batch-last ``(OH, OW, N)`` output."""
    oh, ow = out_hw
    per_window = max(rows * n * itemsize, 1)
    fit = max((block_bytes or BLOCK_BYTES) // per_window, 1)  # window positions per block
    if fit >= ow:
        step = fit // ow
        return [(r, min(r + step, oh), 0, ow) for r in range(0, oh, step)]
    pieces = -(-ow // fit)
    width = -(-ow // pieces)
    return [(r, r + 1, c, min(c + width, ow)) for r in range(oh) for c in range(0, ow, width)]


def _windows(
    mp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]
) -> np.ndarray:
    """Every window of a padded batch-last array as a read-only view ``(C, kh, kw, OH, OW, N)``."""
    c, _, _, n = mp.shape
    (kh, kw), (oh, ow) = kernel, out_hw
    sc, sh, sw, sn = mp.strides
    return as_strided(
        mp,
        shape=(c, kh, kw, oh, ow, n),
        strides=(sc, sh, sw, sh * stride[0], sw * stride[1], sn),
        writeable=False,
    )


def _block_patches(
    windows: np.ndarray, block: tuple[int, int, int, int], scratch: Scratch, ones: bool
) -> np.ndarray:
    """The patches of one block as a ``(C * kh * kw [+ 1], L)`` matrix in ``scratch``, with a
    last row of ones when ``ones`` (for the bias)."""
    r0, r1, c0, c1 = block
    part = windows[:, :, :, r0:r1, c0:c1]
    k = part.shape[0] * part.shape[1] * part.shape[2]
    length = math.prod(part.shape[3:])
    cols = scratch.take((k + ones) * length, windows.dtype)[: (k + ones) * length].reshape(k + ones, length)
    cols[:k].reshape(part.shape)[...] = part
    if ones:
        cols[k] = 1
    return cols


class Scratch:
    """Flat buffers that the blocks of patches reuse, from one call (and one training batch) to the next: one
    for each thread that gathers blocks, grown to the largest block it was asked for."""

    def __init__(self) -> None:
        self.arrays: dict[int, np.ndarray] = {}

    @property
    def array(self) -> np.ndarray | None:
        """The calling thread's buffer (``None`` before its first block)."""
        return self.arrays.get(threading.get_ident())

    def take(self, size: int, dtype: np.dtype) -> np.ndarray:
        """A flat array of at least ``size`` values of ``dtype`` for the calling thread (the same memory as its
        last block's when it fits)."""
        array = self.array
        if array is None or array.size < size or array.dtype != dtype:
            array = self.arrays[threading.get_ident()] = np.empty(size, dtype=dtype)
        return array


#: A convolution's blocks are computed on several threads (:func:`dllab.cores.map_parts`, one BLAS thread each)
#: only from this many multiply-adds a call: below that, handing blocks to the threads costs about what they
#: save (and far more on a busy machine, where a thread may wait a while to run).
THREAD_MULTIPLY_ADDS = 20_000_000


def _each(function: Callable[[T], R], parts: list[T], multiply_adds: int) -> list[R]:
    """``[function(part) for part in parts]``: on several threads when each part is independent and the call
    is large enough (:data:`THREAD_MULTIPLY_ADDS`), in order either way.

    With several cores and no BLAS thread count set, a pass that is not split in halves (inference of a
    small batch, training with BatchNorm) runs the convolution's blocks side by side, one BLAS thread each,
    instead of each block's small product on two BLAS threads, which wait for each other on every product: on a
    2-core machine with the other core busy, DeepConvNet's step took 133-208 ms this way against 143-203 ms on
    one thread, and 614-2,240 ms with the blocks' products on two BLAS threads.
    """
    if multiply_adds < THREAD_MULTIPLY_ADDS:
        return [function(part) for part in parts]
    return cores.map_parts(function, parts)


def convolve(
    mp: np.ndarray,
    weights: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    scratch: Scratch,
    *,
    bias: bool = False,
    block_bytes: int | None = None,
) -> np.ndarray:
    """The convolution of a padded batch-last ``(C, H, W, N)`` array by ``weights`` ``(F, C * kh * kw [+ 1])``,
    batch last: ``(F, OH * OW * N)``. With ``bias`` the weights' last column is added to every output (a row of
    ones below the patches). The patches are gathered block by block into ``scratch``,
    each block multiplied while it is in cache (:data:`BLOCK_BYTES`)."""
    n = mp.shape[-1]
    windows = _windows(mp, kernel, stride, out_hw)
    out = np.empty((weights.shape[0], math.prod(out_hw) * n), dtype=mp.dtype)

    def multiply(block: tuple[int, int, int, int]) -> None:
        cols = _block_patches(windows, block, scratch, bias)
        start = (block[0] * out_hw[1] + block[2]) * n
        np.matmul(weights, cols, out=out[:, start : start + cols.shape[1]])

    work = weights.size * math.prod(out_hw) * n
    _each(multiply, blocks(out_hw, n, weights.shape[1], mp.dtype.itemsize, block_bytes), work)
    return out


def weight_gradient(
    dmat: np.ndarray,
    mp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    out_hw: tuple[int, int],
    scratch: Scratch,
    *,
    block_bytes: int | None = None,
) -> np.ndarray:
    """The gradient ``(F, C * kh * kw + 1)`` of :func:`convolve`'s weights with a bias column, given the output's
    gradient ``dmat`` ``(F, OH * OW * N)`` and the padded input ``mp``: the patches gathered again block by
    block (cheaper than keeping them all from the forward pass: they stay in cache)."""
    n = mp.shape[-1]
    windows = _windows(mp, kernel, stride, out_hw)
    k = windows.shape[0] * windows.shape[1] * windows.shape[2] + 1

    # Transposed, patches times gradient: OpenBLAS runs the product for 16 filters at ~70 GFLOP/s this way
    # round, ~40 the other (the DeepConvNet's second layer 11 to 7 ms a mini-batch of 100, one core).
    def multiply(block: tuple[int, int, int, int]) -> np.ndarray:
        cols = _block_patches(windows, block, scratch, True)
        start = (block[0] * out_hw[1] + block[2]) * n
        return cols @ dmat[:, start : start + cols.shape[1]].T

    grad = np.zeros((k, dmat.shape[0]), dtype=dmat.dtype)
    for part in _each(multiply, blocks(out_hw, n, k, mp.dtype.itemsize, block_bytes), dmat.size * k):
        grad += part  # in the blocks' order, however many threads computed them: the same sum every run
    return grad.T


def transposes_by_convolution(kernel: tuple[int, int], stride: tuple[int, int], pads: Pads) -> bool:
    """Whether :func:`input_gradient` applies: stride 1 and no side padded by the whole kernel or more."""
    (kh, kw), (top, bottom, left, right) = kernel, pads
    return stride == (1, 1) and max(top, bottom) < kh and max(left, right) < kw


def input_gradient(
    dout: np.ndarray, weights: np.ndarray, pads: Pads, scratch: Scratch, *, block_bytes: int | None = None
) -> np.ndarray:
    """The gradient ``(C, H, W, N)`` of a stride-1 convolution's input given its output's, ``dout``
    ``(F, OH, OW, N)``, and its weights ``(F, C, kh, kw)``: the "full" convolution of ``dout`` (padded by the
    kernel less the forward padding) with the kernels flipped and input and output channels swapped, computed by
    :func:`convolve` (the DeepConvNet's 3x3 layers of 16-64 filters: 1.1-2.4x faster than one product and
    :func:`col2im`'s nine shifted additions, one core). Needs :func:`transposes_by_convolution`."""
    f, c, kh, kw = weights.shape
    top, bottom, left, right = pads
    _, oh, ow, n = dout.shape
    flipped = np.ascontiguousarray(weights[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, f * kh * kw)
    padded = pad_batch_last(dout, (kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right))
    in_hw = (oh + kh - 1 - top - bottom, ow + kw - 1 - left - right)
    dx = convolve(padded, flipped, (kh, kw), (1, 1), in_hw, scratch, block_bytes=block_bytes)
    return dx.reshape(c, *in_hw, n)


def unpad(x: np.ndarray, pads: Pads) -> np.ndarray:
    """Inverse of :func:`pad`: the interior of a padded NCHW array."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]
