"""A drawing made ready for a model as MNIST's digits were: ink, box, centre of mass, the model's normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.book_weights import import_book_weights
from dllab.data import load_dataset, model_inputs
from dllab.digit_input import (
    centre_of_mass,
    drawing_image_shape,
    drawing_problem,
    fit_like_mnist,
    ink_range,
    prepare_drawing,
    prepare_image,
    read_input,
    render_strokes,
)

CONV = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
        {"type": "Tanh"},
        {"type": "Dense", "units": 10},
    ],
}
SEVEN = [[(0.2, 0.2), (0.8, 0.2), (0.45, 0.9)]]
ONE = [[(0.5, 0.1), (0.5, 0.5), (0.52, 0.9)]]


def _conv_model(preprocessing: dict | None = None) -> dllab.Sequential:
    model = dllab.build(CONV, seed=1)
    model.preprocessing = preprocessing or {
        "kind": "scale",
        "input_shape": [1, 28, 28],
        "low": [0],
        "high": [255],
    }
    return model


def test_a_stroke_is_ink_along_its_path_with_a_round_pen() -> None:
    ink = render_strokes([[(0.25, 0.5), (0.75, 0.5)]], pixels=40, width=0.1)
    assert ink.shape == (40, 40)
    assert ink[20, 20] == 1.0 and ink[20, 10] == 1.0
    assert ink[5, 20] == 0.0 and ink[20, 2] == 0.0  # far above, and beyond the end cap
    assert 0 < ink[22, 20] < 1 or ink[22, 20] == 1.0
    assert render_strokes([[(0.5, 0.5)]], pixels=40, width=0.1)[20, 20] == 1.0  # a click is a dot
    assert not render_strokes([]).any()


def test_a_fitted_drawing_has_its_mass_at_the_centre_and_fills_the_box() -> None:
    for strokes in (SEVEN, ONE, [[(0.05, 0.05), (0.3, 0.2)]]):
        fitted = fit_like_mnist(render_strokes(strokes))
        assert fitted.shape == (28, 28)
        row, col = centre_of_mass(fitted)
        # at the centre, to a fraction of a pixel (a digit whose mass is far from its box's middle, as the 7's
        # bar, loses a sliver of its box over the edge, as MNIST's did)
        assert row == pytest.approx(14.0, abs=0.1) and col == pytest.approx(14.0, abs=0.1)
        rows = np.flatnonzero((fitted > 0.05).any(axis=1))
        cols = np.flatnonzero((fitted > 0.05).any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (
            20,
            21,
            22,
        )  # the box, give or take a fringe
        assert fitted.min() >= 0 and fitted.max() <= 1


def test_a_narrow_stroke_keeps_its_aspect_ratio() -> None:
    fitted = fit_like_mnist(render_strokes(ONE))
    cols = np.flatnonzero((fitted > 0.05).any(axis=0))
    rows = np.flatnonzero((fitted > 0.05).any(axis=1))
    assert cols[-1] - cols[0] < 8 < rows[-1] - rows[0]


def test_other_image_sizes_scale_the_box_and_the_centre() -> None:
    fitted = fit_like_mnist(render_strokes(ONE), (14, 14))
    assert centre_of_mass(fitted) == pytest.approx((7.0, 7.0), abs=1e-6)
    assert not fit_like_mnist(np.zeros((50, 50))).any()


def test_a_drawing_is_normalised_as_the_models_data_were() -> None:
    model = _conv_model()
    prepared = prepare_drawing(SEVEN, model)
    assert prepared.x.shape == (1, 1, 28, 28) and prepared.x.dtype == np.float32
    np.testing.assert_allclose(prepared.x[0, 0], prepared.ink, atol=1e-6)  # bytes / 255 = ink
    standardized = _conv_model(
        {"kind": "standardize", "input_shape": [1, 28, 28], "mean": [33.3], "std": [78.6]}
    )
    x = prepare_drawing(SEVEN, standardized).x
    np.testing.assert_allclose(x[0, 0], (prepared.ink * 255 - 33.3) / 78.6, rtol=1e-5, atol=1e-5)
    assert ink_range({"kind": "standardize", "mean": [0.13], "std": [0.3]}) == (0.0, 1.0)
    assert ink_range({}) == (0.0, 255.0)


def test_probabilities_of_a_drawing_sum_to_one_and_every_layer_is_read() -> None:
    model = _conv_model()
    reading = read_input(model, prepare_drawing(SEVEN, model).x)
    assert reading.probabilities.shape == (10,)
    assert reading.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(
        reading.probabilities, model.predict(prepare_drawing(SEVEN, model).x)[0], rtol=1e-5
    )
    assert [name for name, _, _ in reading.outputs] == [layer.name for layer in model.layers]
    name, maps = reading.first_feature_maps()
    assert maps.shape == (4, 26, 26) and name == "conv2d_1 → ReLU" and maps.min() >= 0
    assert [name for name, _ in reading.hidden_activations()] == ["dense_1 → Tanh"]


def test_which_models_take_a_drawing() -> None:
    assert drawing_image_shape(_conv_model()) == (28, 28)
    mlp = dllab.build({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]})
    assert drawing_image_shape(mlp) == (28, 28) and drawing_problem(mlp) is None
    mlp.preprocessing = {"kind": "scale", "input_shape": [1, 16, 49], "low": [0], "high": [255]}
    assert drawing_image_shape(mlp) == (16, 49)
    color = dllab.build(
        {"input_shape": [3, 8, 8], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 2}]}
    )
    spiral = dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]})
    for model in (color, spiral):
        problem = drawing_problem(model)
        assert problem is not None and problem.count(".") == 1 and "single-channel" in problem
    assert "no trained model" in drawing_problem(None)
    with pytest.raises(ValueError, match="single-channel"):
        prepare_drawing(SEVEN, spiral)


def test_mnist_test_digits_prepared_like_drawings_keep_the_models_prediction(
    mnist_dir: Path, book_weights_dir: Path
) -> None:
    """The book's trained SimpleConvNet sees MNIST's own digits fitted again by the drawing's preparation and
    answers as it does for the originals: the preparation is MNIST's."""
    model = import_book_weights(book_weights_dir / "ch07_params.pkl").model
    images = load_dataset(mnist_dir).x_test[:300]
    original = model.predict(model_inputs(images, model.preprocessing, model.input_shape)).argmax(axis=1)
    again = np.array([read_input(model, prepare_image(image, model).x).predicted for image in images])
    assert np.mean(original == again) >= 0.97
    fitted = prepare_image(images[0], model).ink
    assert centre_of_mass(fitted) == pytest.approx((14.0, 14.0), abs=1e-6)
