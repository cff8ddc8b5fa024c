"""A model's parameters as consecutive parts of one array, and finding that array again.

A mini-batch ends with work done to every parameter array: the optimizer's update (Adam: eleven numpy
operations each), the copy that lets a diverging update be undone and the check that the new weights are
finite. For the MLP 784-100x4-10 that is ten arrays, five of them biases of 100 values, and the numpy calls
cost more than their arithmetic: Adam took 241 us a step on one core, and 184 us over the same values held in
one array (the gradients gathered into one; DeepConvNet's 395 and 240). :class:`~dllab.model.Sequential`
therefore keeps its parameters in one block (:func:`pack`); each layer's ``params`` entries are views of it, so
nothing else changes for the layers. Whoever works on many parameters at once asks :func:`block_of` whether
they are such a block, and works on it in one call; arrays that are not (a model unpickled, whose arrays come
back apart; a dict of arrays of one's own) are worked on one by one, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["block_of", "pack", "parts_like"]


def pack(holders: Iterable[dict[str, np.ndarray]], dtype: np.dtype | type) -> np.ndarray:
    """Move the arrays held in ``holders`` into one new 1-D array of ``dtype``, in order; each dict entry becomes
    a view of it, with its shape and values. Returns the block."""
    holders = list(holders)
    sizes = [sum(value.size for value in holder.values()) for holder in holders]
    block = np.empty(sum(sizes), dtype=dtype)
    start = 0
    for holder, size in zip(holders, sizes, strict=True):
        for key, part in parts_like(block[start : start + size], holder).items():
            part[...] = holder[key]
            holder[key] = part
        start += size
    return block


def block_of(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The 1-D array of which ``arrays`` are consecutive parts, in order and without gaps (as :func:`pack` makes
    them), or None when they are not such parts of one array."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    itemsize, origin = base.itemsize, _address(base)
    first = position = (_address(arrays[0]) - origin) // itemsize
    for array in arrays:
        if (
            array.base is not base
            or array.dtype != base.dtype
            or not array.flags.c_contiguous
            or _address(array) != origin + position * itemsize
        ):
            return None
        position += array.size
    return base[first:position]


def parts_like(block: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Views of ``block`` shaped like ``arrays``, in order: ``block`` seen as the dict it holds the values of."""
    parts, start = {}, 0
    for key, value in arrays.items():
        parts[key] = block[start : start + value.size].reshape(value.shape)
        start += value.size
    return parts


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]
