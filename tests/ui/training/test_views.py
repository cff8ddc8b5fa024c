"""The training views fed synthetic items: bounded curves over 100 000 iterations, the hover readout, histograms,
filters, the decision boundary, the evaluation, exports and the "does not apply" placeholders."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

import dllab
from dllab.experiments.comparison_results import VariantResult
from dllab.fit_reading import read_accuracies
from dllab.metrics import evaluate
from dllab.trainer import (
    BatchEnded,
    EpochEnded,
    Finished,
    LayerStatistics,
    LayerStats,
    ParamStats,
    RunStarted,
    SettingsChanged,
)
from ui.common import view as base
from ui.common.histogram_plots import (
    histogram_item,
    nice_ceiling,
    set_histogram,
    set_iterations,
    set_x_range,
    small_plot,
)
from ui.common.plotting import pg
from ui.common.view import PlotCanvas
from ui.training.session import (
    BoundarySnapshot,
    FeatureMapSnapshot,
    FilterSnapshot,
    FinalEvaluation,
    LayerInfo,
    SessionStarted,
)
from ui.training.views import (
    ActivationsView,
    BoundaryView,
    CurvesView,
    EvaluationView,
    FiltersView,
    WeightsView,
)
from ui.training.views.curves import level_changes, loss_ceiling
from ui.training.views.filters import filter_tiles, grid_columns, mosaic
from ui.training.views.weights import DECADE_MARGIN, set_decades

LAYERS = (
    LayerInfo("dense_1", "Dense", (8,), ("dense_1.W", "dense_1.b")),
    LayerInfo("sigmoid_1", "Sigmoid", (8,), ()),
    LayerInfo("dense_2", "Dense", (3,), ("dense_2.W", "dense_2.b")),
)


def started(**changes: object) -> SessionStarted:
    values: dict[str, object] = {
        "folder": Path("run"),
        "network": "Net",
        "layers": LAYERS,
        "parameters": 99,
        "task": "classification",
        "class_names": ("a", "b", "c"),
        "input_shape": (2,),
        "image_shape": None,
        "train_samples": 90,
        "val_samples": 10,
        "test_samples": 30,
        "batch_size": 10,
        "test_inputs": np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32),
        "test_labels": np.arange(30) % 3,
        "points": np.random.default_rng(1).normal(size=(90, 2)).astype(np.float32),
        "point_labels": np.arange(90) % 3,
        "extent": (-3.0, 3.0, -3.0, 3.0),
    }
    values.update(changes)
    return SessionStarted(**values)  # type: ignore[arg-type]


def layer_statistics(step: int) -> LayerStatistics:
    edges = np.linspace(0, 1, 11)
    counts = np.arange(10)

    def dense(name: str, grad_norm: float) -> LayerStats:
        weights = ParamStats(
            f"{name}.W", 1.0 + step, grad_norm, 1e-3, counts, edges - 0.5, counts[::-1], edges - 0.5
        )
        return LayerStats(name, "Dense", counts, edges * 4 - 2, 0.0, 1.0, np.nan, np.nan, (weights,))

    return LayerStatistics(
        step,
        1,
        (
            dense("dense_1", 1e-4),
            LayerStats("sigmoid_1", "Sigmoid", counts, edges, 0.5, 0.2, np.nan, 0.25, ()),
            dense("dense_2", 1e-1),
        ),
    )


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


@pytest.fixture
def shown(qtbot):
    def show(view):
        qtbot.addWidget(view)
        view.resize(1000, 700)
        view.show()
        qtbot.waitExposed(view)
        return view

    return show


def test_curves_keep_100_000_iterations_in_bounded_memory(shown):
    view = shown(CurvesView())
    assert view.stack.currentWidget() is view.placeholder and "No run yet" in view.placeholder.text()
    view.begin_run(started())
    view.handle_items([RunStarted(1000, 100, 100_000, 1000, 100, 100)])
    rng = np.random.default_rng(0)
    for first in range(1, 100_001, 500):
        items: list[object] = [
            BatchEnded(
                s,
                (s - 1) // 100 + 1,
                (s - 1) % 100 + 1,
                2.0 * np.exp(-s / 3e4) + 0.1 * rng.random(),
                0.01,
                5e3,
            )
            for s in range(first, first + 500)
        ]
        epoch = (first + 499) // 100
        items.append(
            EpochEnded(epoch, first + 499, 0.5, 0.8, 0.6, 0.75, 0.01, 1.0, 5e3, True, "high variance")
        )
        view.handle_items(items)
    assert view.iterations.seen == 100_000 and len(view.iterations) <= view.iterations.capacity
    assert len(view.epochs) == 200
    view.flush()
    x = view.raw_curve.getData()[0]
    assert len(x) == len(view.iterations) and x[-1] > 99_000
    assert np.all(np.isfinite(view.smooth_curve.getData()[1]))
    assert view.stack.currentWidget() is view.content
    assert (
        "Fit after epoch 1000" in view.status_label.text()
        and "avoidable bias is the largest gap" in view.status_label.text()
    )
    text = view.show_readout(50_000.4)
    assert "iteration" in text and "validation loss 0.6" in text
    view.log_check.setChecked(True)
    view.flush()
    assert np.all(np.isfinite(view.iterations.column(1)))  # smoothed over the stored, thinned losses


def test_curves_mark_each_change_of_the_optimizers_settings_until_the_next_run(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    view.handle_items([RunStarted(2, 10, 20, 90, 10, 30)])
    batches = [BatchEnded(s, 1, s, 1.0 / s, 0.01 if s <= 6 else 0.0, 1e3) for s in range(1, 13)]
    change = SettingsChanged(6, 1, {"lr": 0.0, "clip_norm": 1.0}, {"lr": 0.01, "clip_norm": None}, True)
    view.handle_items([*batches[:6], change, *batches[6:]])
    view.flush()
    assert view.changes == [change]
    (loss_plot, label), (lr_plot, below) = view.change_lines
    assert (loss_plot, lr_plot) == (view.loss_plot, view.lr_plot)
    assert label.value() == below.value() == 6.5  # between the last batch before it and the first after
    assert label.label.toPlainText() == "lr 0.01 → 0, clip_norm off → 1" and not hasattr(below, "label")
    assert label in view.loss_plot.items and below in view.lr_plot.items
    view.begin_run(started())
    assert view.changes == [] and view.change_lines == [] and label not in view.loss_plot.items


def test_curves_smooth_a_runs_loss_as_compare_does(shown):
    """The same losses give the same smoothed loss in the Curves view and in Compare, live and at the end,
    a diverged (non-finite) loss included."""
    view = shown(CurvesView())
    view.begin_run(started())
    result = VariantResult(0, "run", {})
    rng = np.random.default_rng(1)
    losses = 2.0 * np.exp(-np.arange(3000) / 800) + rng.random(3000) * 0.3
    losses[1700] = np.inf
    events = [BatchEnded(s, 1, s, float(loss), 0.1, 1.0) for s, loss in enumerate(losses, start=1)]
    for first in range(0, len(events), 700):
        chunk = events[first : first + 700]
        view.handle_items(chunk)
        for event in chunk:
            result.record(event)
        np.testing.assert_allclose(view.smoothed_losses(), result.smoothed_losses())
    view.flush()
    np.testing.assert_allclose(view.smooth_curve.getData()[1], result.smoothed_losses())


def test_curves_name_their_lines_above_the_plots_never_over_them(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 21)])
    view.handle_items([EpochEnded(1, 20, 0.5, 0.8, 0.6, 0.75, 0.1, 1.0, 1.0, True, "good fit")])
    view.flush()
    assert view.loss_plot.legend is None and view.accuracy_plot.legend is None
    loss_key, accuracy_key = view.loss_plot.titleLabel.text, view.accuracy_plot.titleLabel.text
    assert "loss (moving average)" in loss_key and "validation loss" in loss_key
    assert "training accuracy" in accuracy_key and "validation accuracy" in accuracy_key
    assert "train-dev" not in accuracy_key  # no train-dev set in this run: no line, no name


def test_curves_export_png_and_csv(shown, tmp_path):
    view = shown(CurvesView())
    view.begin_run(started())
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 21)])
    view.handle_items([EpochEnded(1, 20, 0.5, 0.8, 0.6, 0.75, 0.1, 1.0, 1.0, True, "good fit")])
    png = view.export_png(tmp_path / "curves.png")
    assert not QImage(str(png)).isNull()
    rows = read_csv(view.export_csv(tmp_path / "curves.csv"))
    assert rows[0][:4] == ["step", "loss", "smoothed_loss", "lr"] and len(rows) == 21
    assert rows[-1][4:6] == ["1", "0.5"] and float(rows[1][1]) == 1.0


def test_activation_histograms_per_layer_and_the_saturated_share(shown, tmp_path):
    view = shown(ActivationsView())
    view.begin_run(started())
    assert view.shown == ["sigmoid_1"]  # activation layers by default
    for step in (10, 20, 30):
        view.handle_items([layer_statistics(step)])
    view.flush()
    x, y = view._items["sigmoid_1"].getData()
    assert len(x) == 11 and y.sum() == pytest.approx(100.0)  # share of values per bin
    assert "saturated 25%" in view._plots["sigmoid_1"].titleLabel.text
    assert "most saturated outputs" in view.status_label.text()
    view.slider.set_position(0)
    view.flush()
    assert "iteration 10" in view.slider.label.text() and not view.slider.live
    view.filter_combo.setCurrentIndex(1)
    view.filter_combo.activated.emit(1)
    assert view.shown == ["dense_1", "sigmoid_1", "dense_2"]
    rows = read_csv(view.export_csv(tmp_path / "a.csv"))
    assert len(rows) == 1 + 3 * 10 and rows[1][0] == "10"


def test_weight_and_gradient_histograms_and_norms_over_time(shown, tmp_path):
    view = shown(WeightsView())
    view.begin_run(started())
    assert view.keys == ["dense_1.W", "dense_2.W"] and view.applicable
    for step in (10, 20):
        view.handle_items([layer_statistics(step)])
    view.flush()
    assert len(view._norm_curves[(1, "dense_1.W")].getData()[0]) == 2
    assert view.selected().step == 20 and "iteration 20 · live" in view.slider.label.text()
    assert view.slider.label.toolTip() == "Iteration 20, epoch 1"
    view.handle_items([layer_statistics(30)])
    view.flush()  # a live slider follows the run
    assert view.selected().step == 30 and "iteration 30" in view.slider.label.text()
    view.slider.set_position(0)  # looking back stays put while the run goes on
    view.handle_items([layer_statistics(40)])
    view.flush()
    assert view.selected().step == 10 and "· live" not in view.slider.label.text()
    assert "vanish" in view.status_label.text()  # 1e-4 in the first layer against 1e-1 in the last
    rows = read_csv(view.export_csv(tmp_path / "w.csv"))
    assert rows[0] == ["step", "parameter", "norm", "grad_norm", "update_ratio"] and len(rows) == 1 + 4 * 2


@pytest.mark.parametrize("make", [ActivationsView, WeightsView])
def test_a_new_run_of_the_same_layers_keeps_the_plots_empty_and_hidden_until_its_statistics(shown, make):
    view = shown(make())
    view.begin_run(started())
    view.handle_items([layer_statistics(10)])
    view.flush()
    plots = [item for item in view.graphics.ci.items if isinstance(item, pg.PlotItem)]
    histograms = list(view.histogram_items())
    assert plots and histograms and all(plot.isVisible() for plot in plots)

    view.begin_run(started())  # the same layers: nothing built, the last run's bars gone
    view.flush()
    assert [item for item in view.graphics.ci.items if isinstance(item, pg.PlotItem)] == plots
    assert not any(plot.isVisible() for plot in plots)
    assert all(item.getData()[1].tolist() == [0.0] for item in histograms)
    view.handle_items([layer_statistics(10)])
    view.flush()
    assert all(plot.isVisible() for plot in plots) and list(view.histogram_items()) == histograms

    other = (
        *LAYERS,
        LayerInfo("tanh_2", "Tanh", (3,), ()),
        LayerInfo("dense_3", "Dense", (3,), ("dense_3.W",)),
    )
    view.begin_run(started(layers=other))  # other layers: other plots
    view.flush()
    assert not set(view.graphics.ci.items) & set(plots)


def test_views_that_do_not_apply_say_why(shown):
    filters, boundary, weights = shown(FiltersView()), shown(BoundaryView()), shown(WeightsView())
    mlp_on_images = started(
        input_shape=(784,), image_shape=(1, 28, 28), points=None, point_labels=None, extent=None
    )
    for view in (filters, boundary):
        view.begin_run(mlp_on_images)
    assert "does not apply" in filters.placeholder.text() and "no Conv2D layer" in filters.placeholder.text()
    assert "two input features" in boundary.placeholder.text() and "784" in boundary.placeholder.text()
    assert not filters.png_button.isEnabled() and not filters.csv_button.isEnabled()
    weights.begin_run(started(layers=(LayerInfo("relu_1", "ReLU", (2,), ()),)))
    assert "no Dense or Conv2D" in weights.placeholder.text()
    evaluation = shown(EvaluationView())
    evaluation.begin_run(started(task="regression", class_names=()))
    assert "regression" in evaluation.placeholder.text()


def test_filter_grids_before_and_now_and_feature_maps(shown):
    view = shown(FiltersView())
    info = started(
        layers=(LayerInfo("conv2d_1", "Conv2D", (6, 24, 24), ("conv2d_1.W",)),),
        input_shape=(1, 28, 28),
        image_shape=(1, 28, 28),
        test_inputs=np.zeros((5, 1, 28, 28), np.uint8),
        test_labels=np.arange(5) % 3,
        first_conv="conv2d_1",
        feature_layers=("conv2d_1",),
        points=None,
        extent=None,
    )
    view.begin_run(info)
    weights = np.random.default_rng(0).normal(size=(6, 1, 5, 5)).astype(np.float32)
    maps = {"conv2d_1": np.random.default_rng(1).random((6, 24, 24)).astype(np.float32)}
    view.handle_items([FilterSnapshot(0, "conv2d_1", weights), FeatureMapSnapshot(0, 2, maps)])
    view.handle_items([FilterSnapshot(50, "conv2d_1", weights * 2)])
    view.flush()
    columns = grid_columns(6, aspect=1.6)
    rows = -(-6 // columns)
    assert view.now_box.item.image.shape == (rows * 6 - 1, columns * 6 - 1, 4)
    assert view.before.step == 0 and view.now.step == 50
    assert view.maps_box.item.image is not None and "Test sample 2 (label c)" in view.input_box.label.text
    header, table = view.csv_table()
    assert header[-2:] == ["before", "now"] and len(table) == weights.size


def test_mosaic_and_filter_tiles():
    tiles, meaning = filter_tiles(np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2))
    assert tiles.shape == (2, 2, 2, 3) and "colour" in meaning
    image = mosaic(tiles, 2, (10, 20, 30))
    assert image.shape == (2, 5, 4) and tuple(image[0, 2, :3]) == (10, 20, 30)
    assert image[..., :3].max() == 255 and image[..., :3].min() == 0


def test_the_decision_boundary_colours_the_plane(shown, tmp_path):
    view = shown(BoundaryView())
    view.begin_run(started())
    classes = np.tile(np.arange(3).repeat(10), (30, 1)).astype(np.int16)
    view.handle_items(
        [BoundarySnapshot(12, 2, (-3.0, 3.0, -3.0, 3.0), classes, np.full(classes.shape, 0.9, np.float32))]
    )
    view.flush()
    assert view.image.image.shape == (30, 30, 4)
    assert len(view.points.data) == 90
    assert "iteration 12, epoch 2" in view.plot.titleLabel.text
    assert len(read_csv(view.export_csv(tmp_path / "b.csv"))) == 1 + 30 * 30


def test_the_evaluation_shows_the_confusion_matrix_and_the_samples_of_a_cell(shown, tmp_path):
    model = dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}, seed=0)
    info = started()
    evaluation = evaluate(model, info.test_inputs, info.test_labels)
    view = shown(EvaluationView())
    view.begin_run(info)
    assert "evaluated when the run ends" in view.placeholder.text()
    view.handle_items([FinalEvaluation("finished", evaluation)])
    view.flush()
    assert view.confusion.sum() == 30 and view.matrix_image.image.shape == (3, 3, 4)
    wrong = int(30 - np.trace(view.confusion))
    assert view.gallery.count() == wrong and f"{wrong} of 30 misclassified" in view.status_label.text()
    true_class, predicted = np.unravel_index(np.argmax(view.confusion), view.confusion.shape)
    chosen = view.select_cell(int(true_class), int(predicted))
    assert len(chosen) == view.confusion[true_class, predicted] == view.gallery.count()
    assert all(int(info.test_labels[i]) == true_class for i in chosen)
    rows = read_csv(view.export_csv(tmp_path / "e.csv"))
    assert rows[0] == ["true_class", "predicted_a", "predicted_b", "predicted_c", "samples", "accuracy"]
    assert sum(int(r[4]) for r in rows[1:]) == 30


class FakeClick:
    def __init__(self, position: QPointF) -> None:
        self._position = position

    def scenePos(self) -> QPointF:
        return self._position


def test_a_click_on_a_confusion_cell_and_the_mouse_over_the_curves(shown, qtbot):
    model = dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}, seed=0)
    info = started()
    view = shown(EvaluationView())
    view.begin_run(info)
    view.handle_items([FinalEvaluation("finished", evaluate(model, info.test_inputs, info.test_labels))])
    view.flush()
    i, j = np.unravel_index(np.argmax(view.confusion), view.confusion.shape)
    centre = view.matrix_plot.getViewBox().mapViewToScene(QPointF(j + 0.5, i + 0.5))
    view._on_scene_mouse_clicked(FakeClick(centre))
    assert view.selected_cell == (i, j) and view.gallery.count() == view.confusion[i, j]
    view._on_scene_mouse_clicked(FakeClick(centre))  # a second click goes back to the mistakes
    assert view.selected_cell is None
    curves = shown(CurvesView())
    curves.begin_run(info)
    curves.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 51)])
    curves.flush()
    qtbot.wait(50)  # the plots are laid out once shown
    curves.graphics.scene().sigMouseMoved.emit(
        curves.loss_plot.getViewBox().mapViewToScene(QPointF(25, 0.05))
    )
    qtbot.waitUntil(lambda: "iteration 25" in curves.readout.text(), timeout=2_000)


def test_histogram_axes_stay_steady_while_the_bars_move(shown):
    values = (0.0, 0.7, 1.0, 1.3, 2.2, 4.5, 31.0, 85.0)
    assert [nice_ceiling(v) for v in values] == [1, 0.8, 1, 1.5, 2.5, 5, 40, 100]
    canvas = shown(PlotCanvas())
    plot = small_plot(canvas, 0, 0, title="dense_1.W")
    item = histogram_item(plot, QColor("steelblue"))
    edges = np.linspace(-1.0, 1.0, 11)
    set_histogram(item, np.array([0, 0, 1, 2, 3, 3, 2, 1, 0, 0]), edges)  # peak 25 %
    set_x_range(plot, edges)
    shown_range = plot.getViewBox().viewRange()
    assert shown_range == [[-1.0, 1.0], [0.0, 30.0]]  # round, and symmetric as the weights are
    set_histogram(item, np.array([0, 1, 1, 2, 3, 3, 2, 1, 1, 0]), edges * 0.9)  # peak 21 %, bins inside
    set_x_range(plot, edges * 0.9)
    assert plot.getViewBox().viewRange() == shown_range  # nothing to lay out again
    set_histogram(item, np.array([0, 0, 0, 0, 10, 0, 0, 0, 0, 0]), edges * 3)  # peak 100 %, wider bins
    set_x_range(plot, edges * 3)
    assert plot.getViewBox().viewRange() == [[-3.0, 3.0], [0.0, 100.0]]
    set_x_range(plot, np.linspace(0.0, 0.35, 11))  # far narrower, one-signed (ReLU outputs)
    assert plot.getViewBox().viewRange()[0] == [0.0, 0.4]


def test_a_view_of_many_plots_draws_a_few_per_turn_showing_each_as_it_is_first_drawn(
    shown, qtbot, monkeypatch
):
    monkeypatch.setattr(base, "DRAW_SLICE_S", 0.0)  # one plot per turn of the event loop
    view = shown(WeightsView())
    view.begin_run(started())
    assert "Waiting for the first statistics" in view.status_label.text()
    qtbot.waitUntil(lambda: not view.building, timeout=5_000)
    plots = [*view._weight_plots.values(), *view._grad_plots.values(), *view._norm_plots]
    assert not any(plot.isVisible() for plot in plots)  # built hidden
    turns: list[tuple[tuple[bool, ...], str]] = []  # per turn: which plots show, and the status
    places = []
    redraw_now = view._redraw_now

    def counted() -> None:
        redraw_now()
        turns.append((tuple(plot.isVisible() for plot in plots), view.status_label.text()))
        if len(turns) == 2:  # the content shows from the first turn on, its plots laid out in their places
            places.extend(plot.geometry() for plot in plots)

    monkeypatch.setattr(view, "_redraw_now", counted)
    view.handle_items([layer_statistics(10)])
    qtbot.waitUntil(lambda: bool(turns), timeout=5_000)
    view.handle_items([layer_statistics(20)])  # waits for the drawing of step 10 to end
    qtbot.waitUntil(lambda: "Iteration 20:" in view.status_label.text(), timeout=5_000)
    first_pass = next(i for i, (shows, _) in enumerate(turns) if all(shows))
    assert first_pass + 1 >= len(plots) and not any(turns[0][0])  # the status first, then a plot per turn
    assert all("Iteration 10:" in status for _, status in turns[: first_pass + 1])
    assert [plot.geometry() for plot in plots] == places  # showing a plot lays nothing out again


def test_a_slice_of_steps_starts_no_step_that_the_longest_so_far_says_would_overrun_it():
    done: list[int] = []

    def steps(count: int, seconds: float) -> Iterator[None]:
        for i in range(count):
            time.sleep(seconds)
            done.append(i)
            yield

    two = steps(2, 0.02)
    # 20 ms taken of 30: another step like it would end at 40 ms at the earliest, so none starts.
    assert not base.run_steps(two, time.perf_counter() + 0.03) and done == [0]
    assert base.run_steps(two, math.inf) and done == [0, 1]  # the rest, and then the steps are over
    assert base.run_steps(steps(0, 0.0), 0.0)  # nothing to do: done at once


def test_a_status_only_grows_during_a_run(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    view.set_status("One line.")
    one = view.status_label.minimumHeight()
    view.set_status("<br>".join(["A status of several lines"] * 4))
    four = view.status_label.minimumHeight()
    view.set_status("One line again.")
    assert 0 < one < four and view.status_label.minimumHeight() == four  # the plots below keep their size
    view.begin_run(started())
    assert view.status_label.minimumHeight() == 0


def test_norm_plots_keep_whole_decades_and_round_iteration_counts(shown):
    canvas = shown(PlotCanvas())
    plot = canvas.addPlot()
    set_decades(plot, np.array([[-3.2, np.nan], [-1.5, -2.0]]))
    (y0, y1) = plot.getViewBox().viewRange()[1]
    assert y0 == pytest.approx(-4 - DECADE_MARGIN) and y1 == pytest.approx(-1 + DECADE_MARGIN)
    ticks = plot.getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == ["0.0001", "0.001", "0.01", "0.1"]
    set_decades(plot, np.array([[-3.9, -1.1]]))
    assert plot.getViewBox().viewRange()[1] == [y0, y1]  # within the same decades: nothing to lay out
    set_iterations(plot, 130)
    assert plot.getViewBox().viewRange()[0] == [0.0, 150.0]
    set_iterations(plot, 149)
    assert plot.getViewBox().viewRange()[0] == [0.0, 150.0]
    set_iterations(plot, 151)
    assert plot.getViewBox().viewRange()[0] == [0.0, 200.0]


def test_curves_run_their_iterations_to_a_round_number_until_a_person_pans_them(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    x_range = lambda: view.loss_plot.getViewBox().viewRange()[0]  # noqa: E731
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 131)])
    view.flush()
    assert x_range() == [0.0, 150.0]
    assert view.lr_plot.getViewBox().viewRange()[0] == [0.0, 150.0]  # the three plots share the axis
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(131, 151)])
    view.flush()
    assert x_range() == [0.0, 150.0]  # grown into, not stretched
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(151, 161)])
    view.flush()
    assert x_range() == [0.0, 200.0]

    box = view.loss_plot.getViewBox()
    box.setXRange(20.0, 60.0, padding=0.0)
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])  # as a drag or the wheel does
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(161, 260)])
    view.flush()
    assert x_range() == [20.0, 60.0]  # a person's zoom stays
    view.begin_run(started())
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 161)])
    view.flush()
    assert x_range() == [0.0, 200.0]  # the next run starts anew, the zoom gone
    view.end_run("finished")
    view.flush()
    assert x_range() == [0.0, 160.0]  # a run that ended fills the axis


def test_curves_keep_steady_loss_and_accuracy_ranges_numbered_once_below(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    loss_range = lambda: view.loss_plot.getViewBox().viewRange()[1]  # noqa: E731
    view.handle_items([BatchEnded(s, 1, s, 2.302 / s, 0.1, 1.0) for s in range(1, 21)])
    fit = read_accuracies(0.42, 0.47)
    view.handle_items([EpochEnded(1, 20, 0.5, 0.42, 0.6, 0.47, 0.1, 1.0, 1.0, True, fit.sentence, fit=fit)])
    view.flush()
    assert loss_range() == pytest.approx([0.0, 2.4])  # the largest loss, 2.302, to two digits
    accuracy = view.accuracy_plot.getViewBox()
    assert accuracy.viewRange()[1] == pytest.approx([34.0, 106.0])  # 40 % to 100 %, and 10 % of that around
    view.handle_items([BatchEnded(s, 2, s - 20, 0.1, 0.1, 1.0) for s in range(21, 41)])
    fit = read_accuracies(0.95, 0.96)
    view.handle_items([EpochEnded(2, 40, 0.1, 0.95, 0.1, 0.96, 0.1, 2.0, 1.0, True, fit.sentence, fit=fit)])
    view.flush()
    assert loss_range() == pytest.approx([0.0, 2.4]) and accuracy.viewRange()[1] == pytest.approx([34, 106])
    view.handle_items([BatchEnded(41, 3, 1, 3.1, 0.1, 1.0)])  # a loss above the top
    view.flush()
    assert loss_range() == pytest.approx([0.0, 3.1])
    view.log_check.setChecked(True)
    view.flush()
    assert loss_range() == pytest.approx([-1.0, 1.0])  # the decades of 0.1 ... 3.1
    view.log_check.setChecked(False)
    view.flush()
    assert loss_range() == pytest.approx([0.0, 3.1])
    assert not view.loss_plot.getAxis("bottom").style["showValues"]  # the three plots' iterations, numbered
    assert not view.accuracy_plot.getAxis("bottom").style["showValues"]  # under the last one
    assert view.lr_plot.getAxis("bottom").style["showValues"]


def test_level_changes_keep_the_points_that_draw_the_same_steps():
    x = np.arange(1.0, 11.0)
    y = np.array([0.1, 0.1, 0.1, 0.05, 0.05, np.nan, 0.05, 0.05, 0.05, 0.05])
    kx, ky = level_changes(x, y)
    np.testing.assert_array_equal(kx, [1, 3, 4, 5, 6, 7, 10])
    np.testing.assert_array_equal(ky, [0.1, 0.1, 0.05, 0.05, np.nan, 0.05, 0.05])
    short = np.array([1.0, 2.0])
    assert [list(a) for a in level_changes(short, short)] == [[1.0, 2.0], [1.0, 2.0]]


def test_loss_ceiling_rounds_up_to_two_significant_digits():
    assert [loss_ceiling(v) for v in (1.12, 2.302, 0.0567, 3.0, 250.0)] == pytest.approx(
        [1.2, 2.4, 0.057, 3.0, 250.0]
    )
    assert loss_ceiling(0.0) == loss_ceiling(math.nan) == 1.0


def test_curves_read_the_fit_four_ways_and_never_call_a_negative_gap_good(shown):
    view = shown(CurvesView())
    view.begin_run(started())
    view.handle_items([BatchEnded(s, 1, s, 1.0 / s, 0.1, 1.0) for s in range(1, 21)])
    easier = read_accuracies(0.90, 0.958)  # validation 5.8 points above training
    view.handle_items(
        [EpochEnded(1, 20, 0.5, 0.90, 0.4, 0.958, 0.1, 1.0, 1.0, True, easier.sentence, fit=easier)]
    )
    view.flush()
    text = view.status_label.text()
    assert "Fit after epoch 1" in text and "training 10.0%" in text and "dev 4.2%" in text
    assert "<b>variance and data mismatch -5.8</b>" in text and "not a good fit" in text
    assert "— good fit" not in text
    fit = read_accuracies(0.99, 0.80, train_dev=0.97, human_error=0.005)
    view.handle_items([BatchEnded(s, 2, s - 20, 1.0 / s, 0.1, 1.0) for s in range(21, 41)])
    view.handle_items(
        [EpochEnded(2, 40, 0.1, 0.99, 0.9, 0.80, 0.1, 2.0, 1.0, True, fit.sentence, 0.2, 0.97, fit)]
    )
    final = read_accuracies(0.99, 0.80, train_dev=0.97, test=0.79, human_error=0.005)
    view.handle_items([Finished("completed", 40, 2, 0.9, 0.79, 2, 0.9, 2.0, None, final)])
    view.flush()
    text = view.status_label.text()
    assert "Fit at the end" in text
    assert "human-level 0.5% · training 1.0% · train-dev 3.0% · dev 20.0% · test 21.0%" in text
    assert (
        "avoidable bias +0.5 · variance +2.0 · <b>data mismatch +17.0</b> · overfitting to dev +1.0" in text
    )
    assert "make the training data more like the dev data" in text
    assert len(view.train_dev_acc_curve.getData()[0]) == 2
    assert "train-dev 97.0%" in view.show_readout(40)
