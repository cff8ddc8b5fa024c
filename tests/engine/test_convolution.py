"""Sliding-window helpers: padding rules, output sizes, im2col against explicit patches, col2im as its
adjoint."""

import numpy as np
import pytest

from dllab import convolution


def test_pair():
    assert convolution.pair(3) == (3, 3)
    assert convolution.pair(np.int64(2)) == (2, 2)
    assert convolution.pair([3, 2]) == (3, 2)
    assert convolution.pair((1, 4)) == (1, 4)


@pytest.mark.parametrize(
    ("padding", "size", "kernel", "stride", "pads"),
    [
        ("valid", (5, 5), (3, 3), (1, 1), (0, 0, 0, 0)),
        (2, (5, 5), (3, 3), (1, 1), (2, 2, 2, 2)),
        ("same", (5, 5), (3, 3), (1, 1), (1, 1, 1, 1)),
        ("same", (6, 6), (5, 5), (1, 1), (2, 2, 2, 2)),
        # Even kernels: the extra row and column go to the bottom and right (SAME_UPPER).
        ("same", (6, 6), (4, 4), (1, 1), (1, 2, 1, 2)),
        ("same", (6, 6), (2, 2), (1, 1), (0, 1, 0, 1)),
        # Stride 2: the output has ceil(size / 2) positions.
        ("same", (7, 6), (3, 3), (2, 2), (1, 1, 0, 1)),
        ("same", (5, 5), (2, 2), (2, 2), (0, 1, 0, 1)),
        ("same", (4, 4), (2, 2), (2, 2), (0, 0, 0, 0)),
        ("same", (6, 7), (3, 2), (2, 1), (0, 1, 0, 1)),
    ],
)
def test_resolve_padding(padding, size, kernel, stride, pads):
    assert convolution.resolve_padding(padding, size, kernel, stride) == pads


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize(("kernel", "stride"), [(1, 1), (2, 1), (3, 1), (4, 1), (3, 2), (2, 2), (5, 3)])
def test_same_padding_gives_ceil_of_size_over_stride(size, kernel, stride):
    top, bottom, _, _ = convolution.resolve_padding("same", (size, size), (kernel, kernel), (stride, stride))
    assert 0 <= bottom - top <= 1
    assert convolution.output_size(size, top, bottom, kernel, stride) == -(-size // stride)


def test_output_size():
    assert convolution.output_size(28, 0, 0, 5, 1) == 24
    assert convolution.output_size(24, 0, 0, 2, 2) == 12
    assert convolution.output_size(7, 1, 1, 3, 2) == 4
    assert convolution.output_size(7, 0, 0, 3, 2) == 3
    assert convolution.output_size(3, 0, 0, 5, 1) <= 0


def test_pad_and_unpad():
    x = np.arange(2 * 3 * 2 * 3, dtype=float).reshape(2, 3, 2, 3)
    assert convolution.pad(x, (0, 0, 0, 0)) is x
    padded = convolution.pad(x, (1, 2, 0, 1), value=-np.inf)
    assert padded.shape == (2, 3, 5, 4)
    assert np.isneginf(padded[:, :, 0]).all()
    assert np.isneginf(padded[:, :, 3:]).all()
    assert np.isneginf(padded[:, :, :, 3]).all()
    np.testing.assert_array_equal(padded[:, :, 1:3, :3], x)
    np.testing.assert_array_equal(convolution.unpad(padded, (1, 2, 0, 1)), x)
    assert convolution.unpad(x, (0, 0, 0, 0)) is x


def test_offsets_cover_each_window_position():
    slices = convolution.offsets((2, 3), (2, 1), (3, 2))
    assert len(slices) == 6
    grid = np.arange(7 * 4).reshape(7, 4)
    rows, cols = slices[5]  # position (1, 2) inside the window
    np.testing.assert_array_equal(
        grid[rows, cols], [[grid[1 + 2 * r, 2 + c] for c in range(2)] for r in range(3)]
    )


def explicit_patches(xp, kernel, stride, out_hw):
    """Windows of an NCHW array, one column per window (windows ordered row, column, sample)."""
    columns = []
    for r in range(out_hw[0]):
        for s in range(out_hw[1]):
            for i in range(xp.shape[0]):
                r0, s0 = r * stride[0], s * stride[1]
                columns.append(xp[i, :, r0 : r0 + kernel[0], s0 : s0 + kernel[1]].reshape(-1))
    return np.array(columns).T


IM2COL_CASES = [
    ((2, 3, 5, 5), (3, 3), (1, 1)),
    ((1, 2, 7, 6), (3, 2), (2, 1)),
    ((2, 1, 6, 6), (2, 2), (2, 2)),
    ((1, 2, 8, 8), (2, 2), (3, 3)),
    ((2, 2, 7, 7), (3, 3), (2, 2)),
]


def out_size(shape, kernel, stride):
    return tuple(convolution.output_size(shape[2 + a], 0, 0, kernel[a], stride[a]) for a in range(2))


def test_batch_last_is_a_view_of_batch_last_memory_and_batch_first_undoes_it():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    m = convolution.batch_last(x)
    assert m.shape == (3, 4, 5, 2) and m.flags.c_contiguous
    np.testing.assert_array_equal(convolution.batch_first(m), x)
    assert np.shares_memory(convolution.batch_last(convolution.batch_first(m)), m)


@pytest.mark.parametrize(("shape", "kernel", "stride"), IM2COL_CASES)
def test_im2col_columns_are_the_windows(shape, kernel, stride):
    xp = np.random.default_rng(0).normal(size=shape)
    cols = convolution.im2col(convolution.batch_last(xp), kernel, stride, out_size(shape, kernel, stride))
    assert cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, explicit_patches(xp, kernel, stride, out_size(shape, kernel, stride)))


def test_im2col_fills_the_buffer_it_is_given():
    m = convolution.batch_last(np.random.default_rng(0).normal(size=(2, 1, 4, 4)))
    buffer = np.full((9, 8), np.nan)
    assert convolution.im2col(m, (3, 3), (1, 1), (2, 2), out=buffer) is buffer
    np.testing.assert_array_equal(buffer, convolution.im2col(m, (3, 3), (1, 1), (2, 2)))


@pytest.mark.parametrize(("shape", "kernel", "stride"), IM2COL_CASES)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride):
    rng = np.random.default_rng(1)
    m = convolution.batch_last(rng.normal(size=shape))
    cols = convolution.im2col(m, kernel, stride, out_size(shape, kernel, stride))
    patches = rng.normal(size=cols.shape)
    back = convolution.col2im(patches, m.shape, kernel, stride)
    assert back.shape == m.shape and back.flags.c_contiguous
    # <im2col(x), P> == <x, col2im(P)> for every x and P.
    assert np.sum(cols * patches) == pytest.approx(np.sum(m * back), rel=1e-12)


def test_col2im_adds_overlapping_windows():
    ones = np.ones((4, 4))  # four 2x2 windows, stride 1, over a 3x3 input of one sample
    back = convolution.col2im(ones, (1, 3, 3, 1), (2, 2), (1, 1))
    np.testing.assert_array_equal(back[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_col2im_tiling_shortcut_matches_the_general_path():
    patches = np.random.default_rng(2).normal(size=(3 * 2 * 2, 2 * 3 * 2))
    fast = convolution.col2im(patches, (3, 4, 6, 2), (2, 2), (2, 2))  # windows tile the input exactly
    slow = convolution.col2im(patches, (3, 5, 7, 2), (2, 2), (2, 2))[:, :4, :6]  # a leftover row/column
    np.testing.assert_array_equal(fast, slow)
