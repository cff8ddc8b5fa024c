"""Tests for dllab.parameter_block: packing arrays into one, and finding it again."""

import numpy as np
import pytest

import dllab
from dllab.parameter_block import block_of, pack, parts_like


def _holders() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)},
        {},
        {"gamma": rng.standard_normal(4)},
    ]


def test_pack_moves_every_array_into_one_block_with_its_shape_and_values() -> None:
    holders = _holders()
    before = [{key: value.copy() for key, value in holder.items()} for holder in holders]
    block = pack(holders, np.float32)
    assert block.shape == (20,) and block.dtype == np.float32
    for holder, old in zip(holders, before, strict=True):
        for key, value in holder.items():
            assert value.base is block and value.dtype == np.float32
            np.testing.assert_array_equal(value, old[key].astype(np.float32))
    holders[2]["gamma"][0] = 7.0
    assert block[-4] == 7.0


def test_block_of_finds_the_block_of_consecutive_parts_and_nothing_else() -> None:
    holders = _holders()
    block = pack(holders, np.float64)
    w, b, gamma = holders[0]["W"], holders[0]["b"], holders[2]["gamma"]
    assert block_of([w, b, gamma]) is not None and np.shares_memory(block_of([w, b, gamma]), block)
    np.testing.assert_array_equal(block_of([b, gamma]), block[12:])  # a run of parts: the part of the block
    assert block_of([w, gamma]) is None  # a gap
    assert block_of([b, w]) is None  # out of order
    assert block_of([w.copy(), b]) is None  # an array of its own
    assert block_of([w[:, :2]]) is None  # not contiguous
    assert block_of([w.reshape(-1).view(np.int64)]) is None  # the memory seen as another type
    assert block_of([np.zeros(3)]) is None and block_of([]) is None


def test_parts_like_shapes_a_copy_of_the_block_like_the_arrays() -> None:
    holders = _holders()
    block = pack(holders, np.float64)
    arrays = {"a.W": holders[0]["W"], "a.b": holders[0]["b"], "c.gamma": holders[2]["gamma"]}
    copy = block.copy()
    parts = parts_like(copy, arrays)
    assert list(parts) == list(arrays)
    for key, value in arrays.items():
        assert parts[key].base is copy
        np.testing.assert_array_equal(parts[key], value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_models_parameters_are_one_block_in_its_order(dtype: type) -> None:
    model = dllab.build(
        {
            "input_shape": [1, 6, 6],
            "layers": [
                {"type": "Conv2D", "filters": 2, "kernel_size": 3},
                {"type": "BatchNorm"},
                {"type": "ReLU"},
                {"type": "Flatten"},
                {"type": "Dense", "units": 3},
            ],
        },
        seed=0,
        dtype=dtype,
    )
    block = block_of(list(model.params.values()))
    assert block is not None and block.size == model.param_count and block.dtype == dtype
