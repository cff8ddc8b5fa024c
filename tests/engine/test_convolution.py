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


def reference_convolution(m, weights, kernel, stride, out_hw):
    """One product of all patches (im2col): ``(F, OH * OW * N)``."""
    return weights @ convolution.im2col(m, kernel, stride, out_hw)


@pytest.mark.parametrize("block_bytes", [1, 200, 2_000, 1 << 20])
def test_blocks_tile_the_output_in_order(block_bytes):
    blocks = convolution.blocks((5, 7), 3, 4, 8, block_bytes)
    covered = [(r, c) for r0, r1, c0, c1 in blocks for r in range(r0, r1) for c in range(c0, c1)]
    assert covered == [(r, c) for r in range(5) for c in range(7)]  # every position once, in memory order
    assert all(r1 == r0 + 1 or (c0, c1) == (0, 7) for r0, r1, c0, c1 in blocks)


@pytest.mark.parametrize("block_bytes", [1, 300, 3_000, 1 << 20])  # one window at a time ... all at once
@pytest.mark.parametrize(("kernel", "stride"), [((3, 3), (1, 1)), ((3, 2), (2, 1)), ((2, 2), (2, 2))])
def test_convolution_and_weight_gradient_in_blocks_match_one_product(block_bytes, kernel, stride):
    rng = np.random.default_rng(11)
    m = rng.normal(size=(3, 7, 6, 4))
    out_hw = (
        convolution.output_size(7, 0, 0, kernel[0], stride[0]),
        convolution.output_size(6, 0, 0, kernel[1], stride[1]),
    )
    weights = rng.normal(size=(5, 3 * kernel[0] * kernel[1] + 1))
    cols = np.vstack([convolution.im2col(m, kernel, stride, out_hw), np.ones((1, 4 * out_hw[0] * out_hw[1]))])
    scratch = convolution.Scratch()
    out = convolution.convolve(
        m, weights, kernel, stride, out_hw, scratch, bias=True, block_bytes=block_bytes
    )
    np.testing.assert_allclose(out, weights @ cols, rtol=1e-12)
    no_bias = convolution.convolve(
        m, weights[:, :-1], kernel, stride, out_hw, scratch, block_bytes=block_bytes
    )
    np.testing.assert_allclose(no_bias, weights[:, :-1] @ cols[:-1], rtol=1e-12)
    dmat = rng.normal(size=out.shape)
    grad = convolution.weight_gradient(dmat, m, kernel, stride, out_hw, scratch, block_bytes=block_bytes)
    np.testing.assert_allclose(grad, dmat @ cols.T, rtol=1e-12)


@pytest.mark.parametrize("block_bytes", [1, 3_000, 1 << 20])
@pytest.mark.parametrize(
    ("kernel", "pads"),
    [((3, 3), (1, 1, 1, 1)), ((3, 3), (2, 2, 2, 2)), ((3, 2), (0, 2, 1, 0)), ((5, 5), (0,) * 4)],
)
def test_input_gradient_by_full_convolution_matches_col2im(block_bytes, kernel, pads):
    rng = np.random.default_rng(12)
    c, h, w, n, f = 3, 6, 5, 4, 2
    assert convolution.transposes_by_convolution(kernel, (1, 1), pads)
    top, bottom, left, right = pads
    out_hw = (h + top + bottom - kernel[0] + 1, w + left + right - kernel[1] + 1)
    weights = rng.normal(size=(f, c, *kernel))
    dout = rng.normal(size=(f, *out_hw, n))
    dcols = weights.reshape(f, -1).T @ dout.reshape(f, -1)
    dmp = convolution.col2im(dcols, (c, h + top + bottom, w + left + right, n), kernel, (1, 1))
    expected = dmp[:, top : top + h, left : left + w]
    got = convolution.input_gradient(dout, weights, pads, convolution.Scratch(), block_bytes=block_bytes)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_input_gradient_by_convolution_needs_stride_one_and_padding_inside_the_kernel():
    assert not convolution.transposes_by_convolution((3, 3), (2, 1), (1, 1, 1, 1))
    assert not convolution.transposes_by_convolution((3, 3), (1, 1), (3, 0, 0, 0))
    assert convolution.transposes_by_convolution((3, 3), (1, 1), (2, 2, 2, 2))


def test_scratch_keeps_its_memory_while_it_fits():
    scratch = convolution.Scratch()
    first = scratch.take(10, np.dtype(np.float32))
    assert scratch.take(8, np.dtype(np.float32)) is first
    assert scratch.take(12, np.dtype(np.float32)).size == 12
    assert scratch.take(4, np.dtype(np.float64)).dtype == np.float64


def test_blocks_on_several_threads_give_the_same_results_as_on_one(monkeypatch):
    rng = np.random.default_rng(13)
    m = rng.normal(size=(3, 9, 8, 5)).astype(np.float32)
    weights = rng.normal(size=(4, 3 * 9 + 1)).astype(np.float32)
    dmat = rng.normal(size=(4, 7 * 6 * 5)).astype(np.float32)
    results = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("DLLAB_THREADS", threads)  # how many threads dllab.cores computes blocks on
        scratch = convolution.Scratch()
        out = convolution.convolve(m, weights, (3, 3), (1, 1), (7, 6), scratch, bias=True, block_bytes=300)
        grad = convolution.weight_gradient(dmat, m, (3, 3), (1, 1), (7, 6), scratch, block_bytes=300)
        results[threads] = out, grad
    for threads in ("2", "3"):
        np.testing.assert_array_equal(results[threads][0], results["1"][0])
        np.testing.assert_array_equal(results[threads][1], results["1"][1])  # summed in the blocks' order
