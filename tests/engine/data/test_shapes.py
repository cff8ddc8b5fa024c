"""The generated image set: format, balance, seeds, and images that really show their class."""

from __future__ import annotations

import numpy as np
import pytest

from dllab.data import SHAPE_CLASSES, DatasetError, load_dataset, make_shapes
from dllab.data.shapes import draw_shapes


@pytest.fixture(scope="module")
def per_class() -> np.ndarray:
    """Noise-free images, 40 per class, as float ``(10, 40, 28, 28)``."""
    labels = np.repeat(np.arange(10), 40)
    return draw_shapes(labels, np.random.default_rng(0), noise=0.0)[:, 0].reshape(10, 40, 28, 28) / 255.0


def test_format() -> None:
    ds = load_dataset("shapes", n_samples=600, seed=1)
    assert ds.x_train.shape == (500, 1, 28, 28) and ds.x_test.shape == (100, 1, 28, 28)
    assert ds.x_train.dtype == np.uint8 and ds.input_shape == (1, 28, 28)
    assert ds.class_names == SHAPE_CLASSES and ds.num_classes == 10
    assert np.bincount(ds.y_test).tolist() == [10] * 10
    assert ds.x_train.max() > 200  # strokes are bright
    assert np.median(ds.x_train) < 40  # the background is dark


def test_seeded() -> None:
    a, b, c = (
        make_shapes(n_samples=100, seed=5),
        make_shapes(n_samples=100, seed=5),
        make_shapes(n_samples=100),
    )
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def _moments(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intensity-weighted variance along x and y and covariance of each image (y pointing down)."""
    grid = np.arange(28, dtype=np.float64)
    mass = images.sum(axis=(-2, -1))
    mx = (images * grid).sum(axis=(-2, -1)) / mass
    my = (images * grid[:, None]).sum(axis=(-2, -1)) / mass
    dx, dy = grid - mx[..., None, None], grid[:, None] - my[..., None, None]
    var_x = (images * dx**2).sum(axis=(-2, -1)) / mass
    var_y = (images * dy**2).sum(axis=(-2, -1)) / mass
    cov = (images * dx * dy).sum(axis=(-2, -1)) / mass
    return var_x, var_y, cov


def test_bars_have_their_orientation(per_class: np.ndarray) -> None:
    var_x, var_y, cov = _moments(per_class[:4])
    assert np.all(var_x[0] > 4 * var_y[0])  # horizontal bar
    assert np.all(var_y[1] > 4 * var_x[1])  # vertical bar
    assert np.all(cov[2] < -3)  # "/" rises to the right: y (down) falls as x grows
    assert np.all(cov[3] > 3)  # "\"


def test_edges_have_their_orientation(per_class: np.ndarray) -> None:
    gy = np.abs(np.diff(per_class[4:6], axis=-2)).sum(axis=(-2, -1))
    gx = np.abs(np.diff(per_class[4:6], axis=-1)).sum(axis=(-2, -1))
    assert np.all(gy[0] > 2 * gx[0])  # horizontal edge: intensity changes from row to row
    assert np.all(gx[1] > 2 * gy[1])  # vertical edge
    bright = per_class[4:6].mean(axis=(-2, -1))
    assert np.all((bright > 0.15) & (bright < 0.85))  # one side bright, one dark


def test_shapes_differ(per_class: np.ndarray) -> None:
    """Filled or hollow at the centre of mass, and no preferred direction."""
    grid = np.arange(28)
    mass = per_class.sum(axis=(-2, -1))
    cx = np.rint((per_class * grid).sum(axis=(-2, -1)) / mass).astype(int)
    cy = np.rint((per_class * grid[:, None]).sum(axis=(-2, -1)) / mass).astype(int)
    at_centre = np.take_along_axis(per_class.reshape(10, 40, -1), (cy * 28 + cx)[..., None], axis=-1)[..., 0]
    assert np.all(at_centre[6] < 0.05)  # square outline: hollow
    assert np.all(at_centre[7] > 0.6)  # disc: filled
    assert np.all(at_centre[8] < 0.05)  # ring: hollow
    assert np.all(at_centre[9] > 0.6)  # cross: its centre is where the bars meet
    var_x, var_y, _ = _moments(per_class[6:10])
    assert np.allclose(var_x / var_y, 1.0, atol=0.35)


def test_classes_are_learnable_by_a_linear_model() -> None:
    """Ridge regression on the pixels already separates most classes; a CNN does much better."""
    ds = make_shapes(n_samples=3000, seed=2)
    x = ds.x_train.reshape(len(ds.x_train), -1) / 255.0
    onehot = np.eye(10)[ds.y_train]
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.linalg.solve(design.T @ design + np.eye(design.shape[1]), design.T @ onehot)  # ridge regression
    test = np.hstack([ds.x_test.reshape(len(ds.x_test), -1) / 255.0, np.ones((len(ds.x_test), 1))])
    accuracy = (np.argmax(test @ w, axis=1) == ds.y_test).mean()
    assert accuracy > 0.5


def test_bad_arguments() -> None:
    with pytest.raises(DatasetError, match="at least 20 samples"):
        make_shapes(n_samples=5)
    with pytest.raises(DatasetError, match="noise must be"):
        make_shapes(noise=float("nan"))
