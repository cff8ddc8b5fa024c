"""One model evaluated in float64, float32 and float16: accuracy, time and memory; the book's DeepConvNet keeps its
99.35 % in float16."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.book_weights import import_book_weights
from dllab.data import Normalizer, load_dataset
from dllab.errors import SettingsError
from dllab.experiments.precision import (
    PrecisionProgress,
    PrecisionResult,
    compare_precisions,
    precision_rows,
    precision_steps,
)
from dllab.metrics import evaluate
from dllab.precision import at_precision

SPEC = {
    "input_shape": [1, 8, 8],
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3},
    ],
}


@pytest.fixture(scope="module")
def problem() -> tuple[dllab.Sequential, np.ndarray, np.ndarray]:
    """A float32 model and 250 samples labelled by its own float64 predictions with some noise flipped in."""
    rng = np.random.default_rng(1)
    model = dllab.build(SPEC, seed=2)
    x = rng.normal(size=(250, 1, 8, 8)).astype(np.float32)
    y = at_precision(model, "float64").predict(x).argmax(axis=1)
    y[::5] = (y[::5] + 1) % 3
    return model, x, y


def test_each_precision_gets_its_accuracy_and_its_bytes(problem) -> None:
    model, x, y = problem
    results = compare_precisions(model, x, y, batch_size=100)
    assert [r.precision for r in results] == ["float64", "float32", "float16"]
    for r in results:
        assert r.accuracy == evaluate(at_precision(model, r.precision), x, y).accuracy
        assert r.samples == 250 and r.batch_size == 100
        assert r.seconds > 0 and r.peak_bytes > 0
    assert results[0].accuracy == pytest.approx(0.8)  # labels are its predictions, every fifth flipped
    assert results[0].changed == 0
    params = model.param_count
    assert [r.parameter_bytes for r in results] == [8 * params, 4 * params, 2 * params]
    # The largest input plus output of a layer for a batch of 100: the ReLU's, 100 x (4 x 64 + 4 x 64) values
    # (the Conv2D before it takes 1 x 64 + 4 x 64).
    assert [r.activation_bytes for r in results] == [size * 100 * (256 + 256) for size in (8, 4, 2)]


def test_changed_counts_predictions_that_differ_from_the_first_precision(problem) -> None:
    model, x, y = problem
    results = compare_precisions(model, x, y, ("float16", "float64"))
    reference = at_precision(model, "float16").predict(x).argmax(axis=1)
    other = at_precision(model, "float64").predict(x).argmax(axis=1)
    assert results[1].changed == int(np.count_nonzero(reference != other))


def test_progress_comes_after_every_batch_and_each_result_after_its_last(problem) -> None:
    model, x, y = problem
    steps = list(precision_steps(model, x, y, ("float32", "float16"), batch_size=100))
    kinds = ["P" if isinstance(s, PrecisionProgress) else "R" for s in steps]
    assert "".join(kinds) == "PPPRPPPR"
    assert [s.done for s in steps if isinstance(s, PrecisionProgress)] == [1, 2, 3, 4, 5, 6]
    assert all(s.total == 6 for s in steps if isinstance(s, PrecisionProgress))
    assert isinstance(steps[-1], PrecisionResult) and steps[-1].precision == "float16"


def test_the_table_has_a_row_per_precision(problem) -> None:
    model, x, y = problem
    rows = precision_rows(compare_precisions(model, x, y, ("float32", "float16")))
    assert rows[0][:5] == ("precision", "accuracy", "changed", "time", "vs float32")
    assert [row[0] for row in rows[1:]] == ["float32", "float16"]
    assert rows[1][4] == "1.00x"


@pytest.mark.parametrize(
    ("precisions", "batch_size", "samples", "problem_text"),
    [
        (("float32", "float32"), 100, 10, "name each precision once"),
        ((), 100, 10, "name each precision once"),
        (("float8",), 100, 10, "precision must be one of"),
        (("float32",), 0, 10, "batch size must be a whole number of at least 1"),
        (("float32",), 100, 0, "needs samples with labels"),
    ],
)
def test_bad_requests_are_refused(problem, precisions, batch_size, samples, problem_text) -> None:
    model, x, y = problem
    with pytest.raises(SettingsError, match=problem_text):
        compare_precisions(model, x[:samples], y[:samples], precisions, batch_size=batch_size)


@pytest.mark.slow
def test_the_books_deep_conv_net_keeps_its_accuracy_in_float16(
    book_weights_dir: Path, mnist_dir: Path
) -> None:
    """The book's section 8.3.4: the DeepConvNet in float16 scores as in float64 (99.35 %)."""
    model = import_book_weights(book_weights_dir / "ch08_deep_convnet_params.pkl").model
    data = load_dataset(mnist_dir)
    x = Normalizer.from_dict(model.preprocessing).transform(data.x_test).reshape(-1, 1, 28, 28)
    wide, half = compare_precisions(model, x, data.y_test, ("float64", "float16"))
    assert wide.accuracy == pytest.approx(0.9935, abs=1e-9)
    assert abs(half.accuracy - wide.accuracy) <= 0.001
    assert half.changed <= 10
    assert half.parameter_bytes * 4 == wide.parameter_bytes
