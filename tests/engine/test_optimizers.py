"""Tests for dllab.optimizers: hand-worked steps, the book's 2D function, and the update contract."""

import inspect
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dllab import optimizers
from dllab.errors import SettingsError
from dllab.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
)
from dllab.parameter_block import block_of, pack
from tests.engine import book_optimizers as book
from tests.engine.user_errors import LONG, assert_one_short_line, assert_settings_error

ALL_CLASSES = [SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW]

# Shared hand-worked example: p0 = (1, -2), first gradient g1 = (0.6, -0.8), second g2 = (0.8, 0.6).
# g1 and g2 are chosen so that g1**2 + g2**2 = (1, 1), which keeps AdaGrad's numbers clean.
P0 = [1.0, -2.0]
G1 = [0.6, -0.8]
G2 = [0.8, 0.6]


def two_steps(opt: Optimizer, key: str = "w") -> tuple[np.ndarray, np.ndarray]:
    """Positions after the first and the second update from P0 with gradients G1 then G2."""
    p = np.array(P0)
    params = {key: p}
    opt.update(params, {key: np.array(G1)})
    first = p.copy()
    opt.update(params, {key: np.array(G2)})
    return first, p.copy()


def assert_close(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------------------------
# Hand-worked first two steps
# ----------------------------------------------------------------------------------------------------------


def test_sgd_two_steps():
    # p1 = p0 - 0.1 * g1 ; p2 = p1 - 0.1 * g2
    first, second = two_steps(SGD(lr=0.1))
    assert_close(first, [0.94, -1.92])
    assert_close(second, [0.86, -1.98])


def test_momentum_two_steps():
    # v1 = -0.1 * g1 = (-0.06, 0.08); p1 = p0 + v1
    # v2 = 0.9 * v1 - 0.1 * g2 = (-0.054 - 0.08, 0.072 - 0.06) = (-0.134, 0.012); p2 = p1 + v2
    first, second = two_steps(Momentum(lr=0.1, momentum=0.9))
    assert_close(first, [0.94, -1.92])
    assert_close(second, [0.806, -1.908])


def test_nesterov_two_steps_book_formulation():
    # The step uses the velocity before the update: p += m*m*v - (1 + m)*lr*g, then v = m*v - lr*g,
    # with m*m = 0.81 and (1 + m)*lr = 0.19.
    # p1 = p0 - 0.19*g1 = (0.886, -1.848) since v0 = 0; v1 = -0.1*g1 = (-0.06, 0.08)
    # p2 = p1 + 0.81*v1 - 0.19*g2 = (0.886 - 0.0486 - 0.152, -1.848 + 0.0648 - 0.114)
    first, second = two_steps(Nesterov(lr=0.1, momentum=0.9))
    assert_close(first, [0.886, -1.848])
    assert_close(second, [0.6854, -1.8972])


def test_adagrad_two_steps():
    # h1 = (0.36, 0.64), sqrt = (0.6, 0.8); h2 = h1 + g2**2 = (1, 1)
    eps = 1e-7
    first, second = two_steps(AdaGrad(lr=0.1, eps=eps))
    p1 = [1.0 - 0.06 / (0.6 + eps), -2.0 + 0.08 / (0.8 + eps)]  # about (0.9, -1.9)
    assert_close(first, p1)
    assert_close(second, [p1[0] - 0.08 / (1.0 + eps), p1[1] - 0.06 / (1.0 + eps)])
    assert first[0] == pytest.approx(0.9, abs=1e-6)


def test_rmsprop_two_steps():
    # rho = 0.75: h1 = 0.25 * g1**2 = (0.09, 0.16), sqrt = (0.3, 0.4)
    # h2 = 0.75 * h1 + 0.25 * g2**2 = (0.0675 + 0.16, 0.12 + 0.09) = (0.2275, 0.21)
    eps = 1e-7
    first, second = two_steps(RMSprop(lr=0.1, rho=0.75, eps=eps))
    p1 = [1.0 - 0.06 / (0.3 + eps), -2.0 + 0.08 / (0.4 + eps)]  # about (0.8, -1.8)
    assert_close(first, p1)
    assert_close(second, [p1[0] - 0.08 / (math.sqrt(0.2275) + eps), p1[1] - 0.06 / (math.sqrt(0.21) + eps)])


def test_adadelta_two_steps():
    # rho = 0.5, eps = 1e-6, lr = 2 (the step is doubled, the accumulated update is not).
    # Eg1 = 0.5 * g1**2 = (0.18, 0.32); d1 = sqrt(0 + eps) / sqrt(Eg1 + eps) * g1; Ed1 = 0.5 * d1**2
    # Eg2 = 0.5 * Eg1 + 0.5 * g2**2 = (0.41, 0.34); d2 = sqrt(Ed1 + eps) / sqrt(Eg2 + eps) * g2
    first, second = two_steps(AdaDelta(lr=2.0, rho=0.5, eps=1e-6))
    d1 = [0.001 / math.sqrt(0.180001) * 0.6, 0.001 / math.sqrt(0.320001) * -0.8]
    p1 = [1.0 - 2.0 * d1[0], -2.0 - 2.0 * d1[1]]
    ed1 = [0.5 * d1[0] ** 2, 0.5 * d1[1] ** 2]
    d2 = [
        math.sqrt(ed1[0] + 1e-6) / math.sqrt(0.410001) * 0.8,
        math.sqrt(ed1[1] + 1e-6) / math.sqrt(0.340001) * 0.6,
    ]
    assert_close(first, p1)
    assert_close(second, [p1[0] - 2.0 * d2[0], p1[1] - 2.0 * d2[1]])
    assert first[0] == pytest.approx(1.0 - 2.0 * 0.001 * 0.6 / math.sqrt(0.18), rel=1e-5)


def test_adam_two_steps_bias_corrected():
    # Step 1: m_hat = g1, v_hat = g1**2, so the step is lr * g1 / (|g1| + eps).
    # Step 2: m = 0.9 * 0.1 * g1 + 0.1 * g2 = (0.134, -0.012), m_hat = m / (1 - 0.9**2) = m / 0.19
    #         v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2 = (0.00099964, 0.00099936), v_hat = v / 0.001999
    eps = 1e-8
    first, second = two_steps(Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=eps))
    p1 = [1.0 - 0.1 * 0.6 / (0.6 + eps), -2.0 + 0.1 * 0.8 / (0.8 + eps)]
    step2 = [
        0.1 * (0.134 / 0.19) / (math.sqrt(0.00099964 / 0.001999) + eps),
        0.1 * (-0.012 / 0.19) / (math.sqrt(0.00099936 / 0.001999) + eps),
    ]
    assert_close(first, p1)
    assert_close(second, [p1[0] - step2[0], p1[1] - step2[1]])


def test_adamw_two_steps_decays_weights_only():
    # Weights shrink by (1 - lr * wd) = 0.99 before each Adam step; the bias follows plain Adam.
    eps = 1e-8
    step1 = [0.1 * 0.6 / (0.6 + eps), -0.1 * 0.8 / (0.8 + eps)]
    step2 = [
        0.1 * (0.134 / 0.19) / (math.sqrt(0.00099964 / 0.001999) + eps),
        0.1 * (-0.012 / 0.19) / (math.sqrt(0.00099936 / 0.001999) + eps),
    ]
    first, second = two_steps(AdamW(lr=0.1, weight_decay=0.1, eps=eps), key="dense_1.W")
    w1 = [0.99 * 1.0 - step1[0], 0.99 * -2.0 - step1[1]]
    assert_close(first, w1)
    assert_close(second, [0.99 * w1[0] - step2[0], 0.99 * w1[1] - step2[1]])

    first, second = two_steps(AdamW(lr=0.1, weight_decay=0.1, eps=eps), key="dense_1.b")
    b1 = [1.0 - step1[0], -2.0 - step1[1]]
    assert_close(first, b1)
    assert_close(second, [b1[0] - step2[0], b1[1] - step2[1]])


@pytest.mark.parametrize(
    ("ours", "books", "tolerance"),
    [
        (lambda: SGD(lr=0.1), lambda: book.SGD(0.1), {"rtol": 1e-15}),
        (lambda: Momentum(lr=0.1, momentum=0.9), lambda: book.Momentum(0.1, 0.9), {"rtol": 1e-15}),
        (lambda: Nesterov(lr=0.1, momentum=0.9), lambda: book.Nesterov(0.1, 0.9), {"rtol": 1e-15}),
        (lambda: AdaGrad(lr=0.1), lambda: book.AdaGrad(0.1), {"rtol": 1e-15}),
        (lambda: RMSprop(lr=0.1, rho=0.99), lambda: book.RMSprop(0.1, 0.99), {"rtol": 1e-14}),
        # The book folds Adam's bias correction into the learning rate and adds its 1e-7 to sqrt(v), not to
        # sqrt(v_hat) (Kingma & Ba's section 2 form): the two agree to the size of eps against sqrt(v), about
        # 1e-7 / 0.03 of each 0.1 step in the first steps, not to the last bit.
        (lambda: Adam(lr=0.1, eps=1e-7), lambda: book.Adam(0.1, 0.9, 0.999), {"rtol": 0, "atol": 2e-5}),
    ],
    ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
)
def test_every_step_equals_the_books_formulas(ours, books, tolerance):
    rng = np.random.default_rng(7)
    start = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    mine = {key: value.copy() for key, value in start.items()}
    theirs = {key: value.copy() for key, value in start.items()}
    optimizer, reference = ours(), books()
    for _ in range(8):
        grads = {key: rng.normal(size=value.shape) for key, value in start.items()}
        optimizer.update(mine, grads)
        reference.update(theirs, grads)
        for key in start:
            np.testing.assert_allclose(mine[key], theirs[key], **{"atol": 0, **tolerance})
    assert not np.allclose(mine["W"], start["W"])


# ----------------------------------------------------------------------------------------------------------
# The book's f(x, y) = x**2 / 20 + y**2 from (-7, 2), 30 updates, against independent scalar loops
# ----------------------------------------------------------------------------------------------------------


def _book_grad(x: float, y: float) -> tuple[float, float]:
    return x / 10.0, 2.0 * y


def _scalar_sgd(lr: float, steps: int) -> list[tuple[float, float]]:
    x, y = -7.0, 2.0
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = _book_grad(x, y)
        x, y = x - lr * gx, y - lr * gy
        path.append((x, y))
    return path


def _scalar_momentum(lr: float, steps: int, momentum: float = 0.9) -> list[tuple[float, float]]:
    x, y, vx, vy = -7.0, 2.0, 0.0, 0.0
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = _book_grad(x, y)
        vx = momentum * vx - lr * gx
        vy = momentum * vy - lr * gy
        x, y = x + vx, y + vy
        path.append((x, y))
    return path


def _scalar_adagrad(lr: float, steps: int, eps: float = 1e-7) -> list[tuple[float, float]]:
    x, y, hx, hy = -7.0, 2.0, 0.0, 0.0
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = _book_grad(x, y)
        hx += gx * gx
        hy += gy * gy
        x -= lr * gx / (math.sqrt(hx) + eps)
        y -= lr * gy / (math.sqrt(hy) + eps)
        path.append((x, y))
    return path


def _scalar_adam(lr: float, steps: int, b1=0.9, b2=0.999, eps=1e-8) -> list[tuple[float, float]]:
    x, y = -7.0, 2.0
    mx = my = vx = vy = 0.0
    path = [(x, y)]
    for t in range(1, steps + 1):
        gx, gy = _book_grad(x, y)
        mx = b1 * mx + (1 - b1) * gx
        my = b1 * my + (1 - b1) * gy
        vx = b2 * vx + (1 - b2) * gx * gx
        vy = b2 * vy + (1 - b2) * gy * gy
        mx_hat, my_hat = mx / (1 - b1**t), my / (1 - b1**t)
        vx_hat, vy_hat = vx / (1 - b2**t), vy / (1 - b2**t)
        x -= lr * mx_hat / (math.sqrt(vx_hat) + eps)
        y -= lr * my_hat / (math.sqrt(vy_hat) + eps)
        path.append((x, y))
    return path


@pytest.mark.parametrize(
    ("optimizer", "reference"),
    [
        (SGD(lr=0.95), _scalar_sgd(0.95, 30)),
        (Momentum(lr=0.1), _scalar_momentum(0.1, 30)),
        (AdaGrad(lr=1.5), _scalar_adagrad(1.5, 30)),
        (Adam(lr=0.3), _scalar_adam(0.3, 30)),
    ],
    ids=["sgd", "momentum", "adagrad", "adam"],
)
def test_book_function_30_updates(optimizer, reference):
    xy = np.array([-7.0, 2.0])
    params = {"xy": xy}
    path = [tuple(xy)]
    for _ in range(30):
        grad = np.array([xy[0] / 10.0, 2.0 * xy[1]])
        optimizer.update(params, {"xy": grad})
        path.append(tuple(xy))
    assert params["xy"] is xy
    np.testing.assert_allclose(np.array(path), np.array(reference), rtol=0, atol=1e-10)
    # The run really moves towards the minimum (the comparison is not between two stuck points).
    assert abs(path[-1][0]) < 7.0 and abs(path[-1][1]) < 2.0


def test_book_function_with_separate_scalar_keys_as_in_the_book():
    # The book's optimizer_compare_naive.py uses params = {"x": ..., "y": ...}: 0-d arrays work too.
    params = {"x": np.array(-7.0), "y": np.array(2.0)}
    opt = Momentum(lr=0.1)
    for _ in range(30):
        opt.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
    assert (float(params["x"]), float(params["y"])) == pytest.approx(_scalar_momentum(0.1, 30)[-1], abs=1e-10)


# ----------------------------------------------------------------------------------------------------------
# The update contract
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_update_is_in_place_and_keeps_float32(cls):
    rng = np.random.default_rng(0)
    shapes = {"conv2d_1.W": (4, 3, 3, 3), "conv2d_1.b": (4,), "dense_1.W": (5, 2), "batchnorm_1.gamma": (2,)}
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    params64 = {k: v.astype(np.float64) for k, v in params.items()}
    originals = dict(params)
    opt32, opt64 = cls(weight_decay=0.01, clip_norm=5.0), cls(weight_decay=0.01, clip_norm=5.0)
    for _ in range(3):
        grads = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
        opt32.update(params, grads)
        opt64.update(params64, {k: g.astype(np.float64) for k, g in grads.items()})
    for key, value in params.items():
        assert value is originals[key]
        assert value.dtype == np.float32
        for array in opt32.state[key].values():
            if isinstance(array, np.ndarray):
                assert array.dtype == np.float32
        # Same mathematics in float32 and float64.
        np.testing.assert_allclose(value, params64[key], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_float64_gradients_update_float32_parameters(cls):
    p = np.ones(3, dtype=np.float32)
    cls().update({"w": p}, {"w": np.array([0.5, -0.5, 0.0])})
    assert p.dtype == np.float32
    assert p[0] < 1.0 < p[1]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_grads_are_not_modified(cls):
    rng = np.random.default_rng(1)
    params = {"dense_1.W": rng.standard_normal((3, 2)), "dense_1.b": rng.standard_normal(2)}
    grads = {"dense_1.W": 10 * rng.standard_normal((3, 2)), "dense_1.b": 10 * rng.standard_normal(2)}
    before = {k: g.copy() for k, g in grads.items()}
    opt = cls(weight_decay=0.1, clip_norm=0.5)
    for _ in range(3):
        opt.update(params, grads)
    for key in grads:
        np.testing.assert_array_equal(grads[key], before[key])


_BLOCK_SHAPES = {
    "conv2d_1.W": (4, 3, 3, 3),
    "conv2d_1.b": (4,),
    "dense_1.W": (5, 2),
    "batchnorm_1.gamma": (2,),
}


def _block_and_apart(seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The same float32 parameters twice: as consecutive parts of one array (as a model keeps them), and apart."""
    rng = np.random.default_rng(seed)
    apart = {k: rng.standard_normal(s).astype(np.float32) for k, s in _BLOCK_SHAPES.items()}
    block = {k: v.copy() for k, v in apart.items()}
    pack([block], np.float32)
    return block, apart


@pytest.mark.parametrize("cls", ALL_CLASSES)
@pytest.mark.parametrize("settings", [{}, {"weight_decay": 0.05, "clip_norm": 2.0}])
def test_parameters_in_one_block_step_exactly_as_apart(cls, settings):
    block, apart = _block_and_apart(3)
    assert block_of(list(block.values())) is not None
    in_block, one_by_one = cls(**settings), cls(**settings)
    rng = np.random.default_rng(4)
    for _ in range(4):
        grads = {k: rng.standard_normal(s).astype(np.float32) for k, s in _BLOCK_SHAPES.items()}
        in_block.update(block, grads)
        one_by_one.update(apart, grads)
    for key in _BLOCK_SHAPES:
        np.testing.assert_array_equal(block[key], apart[key])
        assert set(in_block.state[key]) == set(one_by_one.state[key])
        for name, value in one_by_one.state[key].items():
            np.testing.assert_array_equal(in_block.state[key][name], value)
    assert in_block._last_block is not None  # the block was used


def test_a_block_whose_parameters_stepped_apart_steps_them_apart_again():
    block, apart = _block_and_apart(5)
    in_block, one_by_one = Adam(lr=0.01), Adam(lr=0.01)
    rng = np.random.default_rng(6)
    steps = [  # (keys, gradients' type)
        (list(_BLOCK_SHAPES), np.float32),
        (list(_BLOCK_SHAPES), np.float64),  # float64 gradients: each parameter apart
        (list(_BLOCK_SHAPES), np.float32),
        (["dense_1.W"], np.float32),  # one parameter alone: it has counted a step more than the others
        (list(_BLOCK_SHAPES), np.float32),
    ]
    for keys, dtype in steps:
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in _BLOCK_SHAPES.items()}
        in_block.update({k: block[k] for k in keys}, grads)
        one_by_one.update({k: apart[k] for k in keys}, grads)
    for key in _BLOCK_SHAPES:
        np.testing.assert_array_equal(block[key], apart[key])
        assert in_block.state[key]["t"] == one_by_one.state[key]["t"]
    assert in_block.state["dense_1.W"]["t"] == 5 and in_block.state["conv2d_1.W"]["t"] == 4


@pytest.mark.parametrize("cls", [Momentum, Adam])
def test_a_parameter_new_to_the_optimizer_beside_a_block_it_knows(cls):
    block, apart = _block_and_apart(9)
    in_block, one_by_one = cls(lr=0.01), cls(lr=0.01)
    rng = np.random.default_rng(10)
    for keys in (list(_BLOCK_SHAPES)[:3], list(_BLOCK_SHAPES), list(_BLOCK_SHAPES)):
        grads = {k: rng.standard_normal(s).astype(np.float32) for k, s in _BLOCK_SHAPES.items()}
        in_block.update({k: block[k] for k in keys}, grads)
        one_by_one.update({k: apart[k] for k in keys}, grads)
    for key in _BLOCK_SHAPES:
        np.testing.assert_array_equal(block[key], apart[key])
        assert in_block.state[key]["t"] == one_by_one.state[key]["t"]


def test_a_rebuilt_model_in_a_new_block_keeps_the_state_of_its_keys():
    first, apart = _block_and_apart(7)
    in_block, one_by_one = Momentum(lr=0.1), Momentum(lr=0.1)
    rng = np.random.default_rng(8)
    grads = [
        {k: rng.standard_normal(s).astype(np.float32) for k, s in _BLOCK_SHAPES.items()} for _ in range(3)
    ]
    in_block.update(first, grads[0])
    one_by_one.update(apart, grads[0])
    again = {k: v.copy() for k, v in first.items()}  # the same weights in a new model
    pack([again], np.float32)
    for g in grads[1:]:
        in_block.update(again, g)
        one_by_one.update(apart, g)
    for key in _BLOCK_SHAPES:
        np.testing.assert_array_equal(again[key], apart[key])


def test_state_is_keyed_by_name_and_survives_reloading():
    rng = np.random.default_rng(2)
    start = {"dense_1.W": rng.standard_normal((3, 2)), "dense_1.b": rng.standard_normal(2)}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(3)]

    reference = {k: v.copy() for k, v in start.items()}
    ref_opt = Momentum(lr=0.1)
    for g in grads:
        ref_opt.update(reference, g)

    # Same optimizer, but the parameters are new arrays (a reloaded model) after every step.
    opt = Momentum(lr=0.1)
    params = {k: v.copy() for k, v in start.items()}
    for g in grads:
        opt.update(params, g)
        params = {k: v.copy() for k, v in params.items()}
    for key in start:
        np.testing.assert_allclose(params[key], reference[key], rtol=1e-14)
    assert set(opt.state) == {"dense_1.W", "dense_1.b"}
    assert opt.step_count == 3


def test_two_dicts_with_the_same_keys_share_state():
    opt = Momentum(lr=1.0, momentum=0.5)
    a = {"w": np.array([0.0])}
    b = {"w": np.array([0.0])}
    opt.update(a, {"w": np.array([1.0])})  # v = -1
    opt.update(b, {"w": np.array([0.0])})  # v = 0.5 * -1 = -0.5, b moves by the shared velocity
    assert a["w"][0] == -1.0
    assert b["w"][0] == -0.5


def test_state_is_recreated_when_a_parameter_changes_shape():
    opt = Momentum(lr=1.0, momentum=0.5)
    opt.update({"dense_1.W": np.zeros(2)}, {"dense_1.W": np.ones(2)})
    p = np.zeros(3)
    opt.update({"dense_1.W": p}, {"dense_1.W": np.ones(3)})
    np.testing.assert_array_equal(p, [-1.0, -1.0, -1.0])  # a fresh velocity, not 0.5 * old - 1


def test_reset_clears_state_and_step_count():
    opt = Adam(lr=0.1)
    p = np.array([1.0])
    opt.update({"w": p}, {"w": np.array([1.0])})
    opt.update({"w": p}, {"w": np.array([-3.0])})
    opt.reset()
    assert opt.step_count == 0 and opt.state == {}
    q = np.array([1.0])
    opt.update({"w": q}, {"w": np.array([2.0])})
    assert q[0] == pytest.approx(1.0 - 0.1 * 2.0 / (2.0 + 1e-8), rel=1e-14)  # a first Adam step again


def test_lr_is_mutable_and_validated():
    opt = SGD(lr=0.1)
    p = np.array([1.0])
    opt.lr = 0.5
    opt.update({"w": p}, {"w": np.array([1.0])})
    assert p[0] == 0.5
    assert opt.step_count == 1
    with pytest.raises(ValueError, match=r"-0\.5"):
        opt.lr = -0.5
    assert opt.lr == 0.5


def test_weight_decay_applies_to_weights_only():
    # L2: g <- g + wd * p for keys ending in ".W" only; lr = 0.1, wd = 0.5, g = g1.
    opt = SGD(lr=0.1, weight_decay=0.5)
    keys = ["dense_1.W", "W", "dense_1.b", "batchnorm_1.gamma", "batchnorm_1.beta", "xy", "dense_1.Wx"]
    params = {k: np.array(P0) for k in keys}
    opt.update(params, {k: np.array(G1) for k in keys})
    decayed = [1.0 - 0.1 * (0.6 + 0.5), -2.0 - 0.1 * (-0.8 - 1.0)]  # (0.89, -1.82)
    plain = [0.94, -1.92]
    for key in keys:
        assert_close(params[key], decayed if key in ("dense_1.W", "W") else plain)
    assert optimizers.is_weight_key("conv2d_3.W") and not optimizers.is_weight_key("conv2d_3.b")


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient, AdamW shrinks weights by exactly (1 - lr * wd) per step;
    # Adam with L2 decay instead normalises the decay term and moves the weight by about lr.
    w = np.array([2.0, -4.0])
    AdamW(lr=0.1, weight_decay=0.1).update({"dense.W": w}, {"dense.W": np.zeros(2)})
    assert_close(w, [2.0 * 0.99, -4.0 * 0.99])

    w = np.array([2.0, -4.0])
    Adam(lr=0.1, weight_decay=0.1).update({"dense.W": w}, {"dense.W": np.zeros(2)})
    np.testing.assert_allclose(w, [1.9, -3.9], rtol=1e-7)

    b = np.array([2.0, -4.0])
    AdamW(lr=0.1, weight_decay=0.1).update({"dense.b": b}, {"dense.b": np.zeros(2)})
    assert_close(b, [2.0, -4.0])


def test_clipping_scales_all_gradients_by_the_global_norm():
    # Global norm of {(3, 0), (0, 4)} is 5; clip_norm 1 scales both by 0.2.
    params = {"a.W": np.array([1.0, 1.0]), "a.b": np.array([1.0, 1.0])}
    grads = {"a.W": np.array([3.0, 0.0]), "a.b": np.array([0.0, 4.0])}
    SGD(lr=1.0, clip_norm=1.0).update(params, grads)
    assert_close(params["a.W"], [0.4, 1.0])
    assert_close(params["a.b"], [1.0, 0.2])

    # Below the limit nothing changes.
    params = {"a.W": np.array([1.0, 1.0]), "a.b": np.array([1.0, 1.0])}
    SGD(lr=1.0, clip_norm=10.0).update(params, grads)
    assert_close(params["a.W"], [-2.0, 1.0])
    assert_close(params["a.b"], [1.0, -3.0])


def test_clipping_happens_before_weight_decay():
    params = {"a.W": np.array([1.0, 1.0]), "a.b": np.array([1.0, 1.0])}
    grads = {"a.W": np.array([3.0, 0.0]), "a.b": np.array([0.0, 4.0])}
    SGD(lr=1.0, clip_norm=1.0, weight_decay=0.5).update(params, grads)
    assert_close(params["a.W"], [1.0 - (0.6 + 0.5), 1.0 - (0.0 + 0.5)])
    assert_close(params["a.b"], [1.0, 0.2])


def test_only_the_keys_of_params_are_updated_and_clipped():
    # Passing a subset of the parameters freezes the rest; their gradients do not count towards the norm.
    params = {"a.W": np.array([0.0])}
    grads = {"a.W": np.array([3.0]), "b.W": np.array([4.0])}
    opt = SGD(lr=1.0, clip_norm=1.0)
    opt.update(params, grads)
    assert_close(params["a.W"], [-1.0])  # norm 3 (not 5) clipped to 1
    assert set(opt.state) == {"a.W"}


def test_update_rejects_missing_or_misshaped_gradients_and_integer_parameters():
    opt = SGD()
    with pytest.raises(ValueError, match=r"dense_1\.b"):
        opt.update({"dense_1.b": np.zeros(2)}, {})
    with pytest.raises(ValueError, match=r"\(3,\)"):
        opt.update({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(TypeError, match="int64"):
        opt.update({"w": np.zeros(2, dtype=np.int64)}, {"w": np.zeros(2)})
    assert opt.step_count == 0


# ----------------------------------------------------------------------------------------------------------
# Validation, registry, configuration, metadata
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "shown"),
    [
        (SGD, {"lr": -0.1}, "-0.1"),
        (SGD, {"lr": float("nan")}, "nan"),
        (SGD, {"lr": "0.1"}, "'0.1'"),
        (SGD, {"lr": True}, "True"),
        (SGD, {"weight_decay": -1e-4}, "-0.0001"),
        (SGD, {"clip_norm": 0.0}, "0.0"),
        (Momentum, {"momentum": 1.0}, "1.0"),
        (Nesterov, {"momentum": -0.5}, "-0.5"),
        (AdaGrad, {"eps": 0.0}, "0.0"),
        (RMSprop, {"rho": 1.5}, "1.5"),
        (AdaDelta, {"rho": -0.1}, "-0.1"),
        (Adam, {"beta1": 1.0}, "1.0"),
        (Adam, {"beta2": 2}, "2"),
        (AdamW, {"weight_decay": -0.01}, "-0.01"),
    ],
)
def test_bad_hyperparameters_raise_settings_error_naming_the_optimizer_and_the_value(cls, kwargs, shown):
    name = next(iter(kwargs))
    with pytest.raises(SettingsError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert message.startswith(f"{cls.__name__}: {name} must be ") and message.endswith(f"got {shown}")
    assert_one_short_line(info.value)


def test_registry_and_get():
    assert list(OPTIMIZERS) == [
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adadelta",
        "adam",
        "adamw",
    ]
    opt = optimizers.get("Adam", lr=0.01)
    assert type(opt) is Adam and opt.lr == 0.01
    assert optimizers.get(opt) is opt and type(optimizers.get({"type": "SGD", "lr": 0.5})) is SGD
    with pytest.raises(ValueError, match="'adamax'"):
        optimizers.get("adamax")
    with pytest.raises(ValueError, match="'momentum'"):
        optimizers.get("sgd", momentum=0.9)
    with pytest.raises(ValueError, match="-1"):
        optimizers.get("sgd", lr=-1)
    with pytest.raises(ValueError, match="type"):
        optimizers.from_config({"lr": 0.1})


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_get_config_round_trip(cls):
    # Non-default values for every hyperparameter, so the round trip cannot pass by defaults alone.
    kwargs = {}
    for setting in cls.SETTINGS:
        low, high = setting.editor_range
        kwargs[setting.name] = 0.5 if setting.optional else (low + high) / 3
    opt = cls(**kwargs)
    config = opt.get_config()
    assert config["type"] == cls.name
    assert json.loads(json.dumps(config)) == config
    rebuilt = optimizers.from_config(config)
    assert type(rebuilt) is cls
    assert rebuilt.get_config() == config
    for name, value in kwargs.items():
        assert config[name] == pytest.approx(value)

    # The rebuilt optimizer behaves the same.
    a = {"dense.W": np.array([1.0, -2.0]), "dense.b": np.array([0.5])}
    b = {k: v.copy() for k, v in a.items()}
    g = {"dense.W": np.array([0.3, 0.1]), "dense.b": np.array([-0.2])}
    for _ in range(2):
        opt.update(a, g)
        rebuilt.update(b, g)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_settings_match_the_constructor(cls):
    parameters = inspect.signature(cls).parameters
    assert [s.name for s in cls.SETTINGS] == list(parameters)
    assert [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY] == ["weight_decay", "clip_norm"]
    for setting in cls.SETTINGS:
        assert setting.kind == "float" and setting.default == parameters[setting.name].default
        low, high = setting.editor_range
        assert low < high
        assert not setting.log_scale or low > 0
        assert setting.help and "\n" not in setting.help and setting.label
        if setting.default is not None:
            assert low <= setting.default <= high
        assert (setting.default is None) == setting.optional
        cls(**{setting.name: low})  # the editor's whole range is accepted by the constructor
        cls(**{setting.name: high})
    lr = cls.SETTINGS[0]
    assert lr.name == "lr" and lr.log_scale and lr.label == "Learning rate"
    assert cls.DESCRIPTION and "\n" not in cls.DESCRIPTION
    assert cls().get_config() == {"type": cls.name, **{s.name: s.default for s in cls.SETTINGS}}
    assert cls(0.125).lr == 0.125  # the learning rate is the first value by position


def test_values_by_position_follow_the_signature():
    assert Momentum(0.1, 0.5).momentum == 0.5
    assert_settings_error(lambda: SGD(0.1, 0.2), "SGD takes at most 1 values by position (lr), got 2")
    assert_settings_error(lambda: Adam(0.1, lr=0.2), "Adam: lr is given twice, by position and by name")


def test_labels_use_the_usual_symbols():
    labels = {s.name: s.label for cls in ALL_CLASSES for s in cls.SETTINGS}
    assert labels == {
        "lr": "Learning rate",
        "momentum": "Momentum",
        "rho": "ρ",
        "eps": "ε",
        "beta1": "β₁",
        "beta2": "β₂",
        "weight_decay": "Weight decay",
        "clip_norm": "Clip norm",
    }


# --- every bad setting is a SettingsError of one short line ---------------------------------------------------


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: optimizers.get(LONG), "unknown optimizer 'xxx"),
        (lambda: optimizers.get(None), "unknown optimizer None (known: sgd, momentum, "),
        (lambda: optimizers.get("adam", **{LONG: 1}), "Adam: unknown setting 'xxx"),
        (lambda: optimizers.get("adam", beta1="x"), "Adam: beta1 must be a finite number, got 'x'"),
        (lambda: optimizers.get("adam", beta1=1), "Adam: beta1 must be below 1, got 1"),
        (lambda: optimizers.get("adam", eps=0), "Adam: eps must be above 0, got 0"),
        (lambda: optimizers.get("adam", lr=LONG), "lr must be"),
        (lambda: optimizers.get("adam", lr=10**400), "lr must be"),
        (lambda: optimizers.get("adam", lr=math.inf), "got inf"),
        (lambda: optimizers.get("momentum", momentum=math.nan), "got nan"),
        (
            lambda: optimizers.get("sgd", clip_norm=[1.0]),
            "SGD: clip_norm must be a finite number or None (off)",
        ),
        (lambda: optimizers.get("sgd", weight_decay=True), "got True"),
        (lambda: optimizers.get(SGD(), lr=0.1), "settings cannot be given with an optimizer that is made"),
        (lambda: optimizers.from_config({"type": "adam", 1: 2}), "Adam: unknown setting 1 (allowed: lr, "),
        (lambda: optimizers.from_config([LONG]), "An optimizer config must be a dict"),
        (lambda: optimizers.from_config({"lr": 0.1}), "'type' key"),
        (lambda: setattr(SGD(), "lr", -1.0), "lr must be"),
    ],
)
def test_bad_settings_raise_settings_error(make, shown):
    assert_settings_error(make, shown)


HYPERPARAMETER_NAMES = sorted({s.name for cls in ALL_CLASSES for s in cls.SETTINGS})
# Integers stay below 4300 digits, the longest Python prints (errors.quote could not show them).
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.floats(), max_size=2),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    name=st.one_of(st.sampled_from(sorted(OPTIMIZERS)), st.text(max_size=12)),
    kwargs=st.dictionaries(
        st.one_of(st.sampled_from(HYPERPARAMETER_NAMES), st.text(max_size=12)), ANY_VALUE, max_size=4
    ),
)
def test_get_builds_an_optimizer_or_raises_settings_error(name, kwargs):
    try:
        optimizer = optimizers.get(name, **kwargs)
    except SettingsError as exc:
        assert_one_short_line(exc)
    else:
        assert isinstance(optimizer, Optimizer)
        assert all(math.isfinite(v) for v in optimizer.get_config().values() if isinstance(v, float))
