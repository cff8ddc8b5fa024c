"""The optimizer playground: what it draws is what the engine's optimizers do, step for step."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from dllab import optimizers, testfns
from ui.playground.contours import contour_segments, field_for_view, reference_field
from ui.playground.player import SPEEDS
from ui.playground.runs import CSV_HEADER, MAX_STEPS, PRESETS
from ui.playground.view import PlaygroundView


def select(view: PlaygroundView, chosen: dict[str, dict[str, float]]) -> None:
    """Check exactly the optimizers in ``chosen`` and set their hyperparameters, as a user would (an optional
    one is switched on first)."""
    for name, row in view.settings.optimizer_panel.rows.items():
        row.checkbox.setChecked(name in chosen)
        for hyper, value in chosen.get(name, {}).items():
            editor = row.editors[hyper]
            if editor.check is not None:
                editor.check.setChecked(True)
            editor.spin.setValue(value)


def curve_points(view: PlaygroundView, name: str, plot=None) -> np.ndarray:
    x, y = (plot or view.overlay).curves[name].getData()
    return np.column_stack([x, y])


def manual_path(fn, name: str, hyper: dict, start, steps: int) -> np.ndarray:
    """Step the engine optimizer by hand, exactly as a training loop would."""
    opt = optimizers.get(name, **hyper)
    p = np.array(start, dtype=np.float64)
    path = [p.copy()]
    for _ in range(steps):
        gx, gy = fn.gradient(p[0], p[1])
        opt.update({"xy": p}, {"xy": np.array([gx, gy], dtype=np.float64)})
        path.append(p.copy())
    return np.array(path)


def first_non_finite_step(fn, opt, start, steps: int) -> int | None:
    """The step at which a hand-driven optimizer first meets a non-finite gradient, point or value."""
    p = np.array(start, dtype=np.float64)
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            g = np.array(fn.gradient(p[0], p[1]))
            if not np.all(np.isfinite(g)):
                return step
            opt.update({"xy": p}, {"xy": g})
            if not (np.all(np.isfinite(p)) and np.isfinite(fn.value(p[0], p[1]))):
                return step
    return None


def wait_for_runs(qtbot, view: PlaygroundView) -> None:
    qtbot.waitUntil(lambda: not view.busy, timeout=20_000)


def table_column(view: PlaygroundView, column: int) -> list[str]:
    table = view.results_table
    return [table.item(row, column).text() for row in range(table.rowCount())]


# ----------------------------------------------------------------------------------------------------------


def test_opens_on_the_book_figure(view):
    assert view.function.name == "book"
    assert view.start == (-7.0, 2.0)
    assert view.player.length == 30 and view.player.frame == 30
    assert [run.name for run in view.runs] == ["sgd", "momentum", "adagrad", "adam"]
    assert table_column(view, 0) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    assert view.settings.preset_combo.currentData() == "book_6_8"


def test_drawn_trajectories_are_the_engine_optimizers_own_steps(view):
    fn = testfns.get("rosenbrock")
    view.set_function("rosenbrock")
    view.set_start(-1.2, 1.0)
    view.settings.steps_spin.setValue(60)
    chosen = {
        "sgd": {"lr": 0.001},
        "momentum": {"lr": 0.0005, "momentum": 0.8},
        "nesterov": {"lr": 0.0005},
        "adagrad": {"lr": 0.3},
        "rmsprop": {"lr": 0.01, "rho": 0.9},
        "adadelta": {"lr": 1.0},
        "adam": {"lr": 0.05, "beta1": 0.8},
        "adamw": {"lr": 0.05, "clip_norm": 2.0},
    }
    select(view, chosen)
    assert [run.name for run in view.runs] == list(chosen)
    for name in chosen:
        hyper = view.settings.optimizer_panel.rows[name].values()
        for key, value in chosen[name].items():
            assert hyper[key] == value
        expected = manual_path(fn, name, hyper, (-1.2, 1.0), 60)
        assert np.all(np.isfinite(expected))
        np.testing.assert_array_equal(curve_points(view, name), expected)
    # The hyperparameters not touched keep the engine's defaults, and clip_norm is off unless set.
    assert view.settings.optimizer_panel.rows["adam"].values()["beta2"] == 0.999
    assert view.settings.optimizer_panel.rows["adam"].values()["clip_norm"] is None


def test_book_preset_matches_a_scalar_computation(view, qtbot):
    view.apply_preset("rosenbrock_valley")  # somewhere else first, so the preset has work to do
    wait_for_runs(qtbot, view)
    view.apply_preset("book_6_8")
    assert view.function.name == "book" and view.start == (-7.0, 2.0) and view.player.length == 30

    def grad(x, y):
        return x / 10.0, 2.0 * y

    def sgd(lr):
        x, y = -7.0, 2.0
        for _ in range(30):
            gx, gy = grad(x, y)
            x, y = x - lr * gx, y - lr * gy
        return x, y

    def momentum(lr, m=0.9):
        x, y, vx, vy = -7.0, 2.0, 0.0, 0.0
        for _ in range(30):
            gx, gy = grad(x, y)
            vx, vy = m * vx - lr * gx, m * vy - lr * gy
            x, y = x + vx, y + vy
        return x, y

    def adagrad(lr, eps=1e-7):
        x, y, hx, hy = -7.0, 2.0, 0.0, 0.0
        for _ in range(30):
            gx, gy = grad(x, y)
            hx, hy = hx + gx * gx, hy + gy * gy
            x, y = x - lr * gx / (math.sqrt(hx) + eps), y - lr * gy / (math.sqrt(hy) + eps)
        return x, y

    def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
        p = [-7.0, 2.0]
        m, v = [0.0, 0.0], [0.0, 0.0]
        for t in range(1, 31):
            g = grad(*p)
            for i in range(2):
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
                m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
                p[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)
        return tuple(p)

    expected = {"sgd": sgd(0.95), "momentum": momentum(0.1), "adagrad": adagrad(1.5), "adam": adam(0.3)}
    assert [run.name for run in view.runs] == list(expected)
    fn = testfns.get("book")
    for row, (name, (x, y)) in enumerate(expected.items()):
        drawn = curve_points(view, name)
        assert len(drawn) == 31
        np.testing.assert_allclose(drawn[-1], (x, y), rtol=1e-12, atol=1e-15)
        assert view.results_table.item(row, 1).text() == f"{x:.4g}"
        assert view.results_table.item(row, 2).text() == f"{y:.4g}"
        assert view.results_table.item(row, 3).text() == f"{float(fn.value(x, y)):.4g}"
        assert view.results_table.item(row, 4).text() == f"{math.hypot(x, y):.4g}"
    # The book's picture: SGD still zig-zags far out in x, AdaGrad is closest to the minimum.
    assert abs(expected["sgd"][0]) > abs(expected["adagrad"][0])


def test_clicking_the_plot_moves_the_start_point(view, qtbot):
    box = view.overlay.plot.getViewBox()
    target = QPointF(3.0, -1.5)
    widget = view.overlay_widget
    pixel = widget.mapFromScene(box.mapViewToScene(target))
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel)
    qtbot.waitUntil(lambda: view.start != (-7.0, 2.0))
    per_pixel = box.viewPixelSize()
    assert view.start[0] == pytest.approx(3.0, abs=2 * per_pixel[0] + 1e-3)
    assert view.start[1] == pytest.approx(-1.5, abs=2 * per_pixel[1] + 1e-3)
    for run in view.runs:
        np.testing.assert_array_equal(run.trajectory.positions[0], view.start)
        np.testing.assert_array_equal(curve_points(view, run.name)[0], view.start)
    x, y = view.overlay.start.getData()
    assert (x[0], y[0]) == view.start
    assert view.settings.preset_combo.currentData() == ""  # no longer the book's figure


def test_a_click_on_a_small_multiples_panel_moves_the_start_of_every_panel(view, qtbot):
    view.set_small_multiples(True)
    panel = view.plots()[2]
    box = panel.plot.getViewBox()
    pixel = view.grid_widget.mapFromScene(box.mapViewToScene(QPointF(-2.0, 1.0)))
    QTest.mouseClick(
        view.grid_widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel
    )
    qtbot.waitUntil(lambda: view.start != (-7.0, 2.0))
    assert view.start == pytest.approx((-2.0, 1.0), abs=0.1)
    for plot in view.plots():
        assert plot.start.getData()[0][0] == view.start[0]


def test_hover_shows_x_y_and_f(view, qtbot):
    box = view.overlay.plot.getViewBox()
    pixel = view.overlay_widget.mapFromScene(box.mapViewToScene(QPointF(1.0, 1.0)))
    QTest.mouseMove(view.overlay_widget.viewport(), pixel)
    qtbot.waitUntil(lambda: "f(x, y)" in view.status_label.text())
    text = view.status_label.text()
    x = float(text.split("x = ")[1].split()[0])
    y = float(text.split("y = ")[1].split()[0])
    f = float(text.split("f(x, y) = ")[1].split()[0])
    assert f == pytest.approx(x**2 / 20 + y**2, rel=1e-3)
    assert (x, y) == pytest.approx((1.0, 1.0), abs=0.1)


def test_play_step_and_reset_drive_the_animation(view, qtbot):
    view.player.reset()
    assert view.player.frame == 0 and not view.player.playing
    assert all(len(curve_points(view, run.name)) == 1 for run in view.runs)
    view.player.step_button.click()
    view.player.step_button.click()
    assert view.player.frame == 2
    np.testing.assert_array_equal(curve_points(view, "sgd"), view.runs[0].trajectory.positions[:3])
    assert view.player.label.text() == "Step 2 / 30"

    view.player.speed_combo.setCurrentIndex(SPEEDS.index(100))
    view.player.play_button.click()
    assert view.player.playing and view.player.play_button.text() == "Pause"
    qtbot.waitUntil(
        lambda: 2 < view.player.frame < 30, timeout=3000
    )  # it moves on its own, a few steps per tick
    qtbot.waitUntil(lambda: view.player.frame == 30 and not view.player.playing, timeout=5000)
    assert view.player.play_button.text() == "Play"
    assert len(curve_points(view, "adam")) == 31

    view.player.play()  # at the end, play starts over
    assert view.player.frame < 30
    view.player.pause()
    paused_at = view.player.frame
    qtbot.wait(100)
    assert view.player.frame == paused_at

    view.player.reset_button.click()
    assert view.player.frame == 0
    view.player.slider.setValue(17)  # scrubbing
    assert view.player.frame == 17 and len(curve_points(view, "momentum")) == 18


def test_small_multiples_has_one_panel_per_selected_optimizer(view):
    view.set_small_multiples(True)
    assert view.plot_stack.currentWidget() is view.grid_widget
    panels = view.plots()
    assert len(panels) == 4
    for panel, run in zip(panels, view.runs, strict=True):
        assert list(panel.curves) == [run.name]
        assert run.setting.title in panel.plot.titleLabel.text
        np.testing.assert_array_equal(curve_points(view, run.name, panel), run.trajectory.positions)

    view.settings.optimizer_panel.rows["adam"].checkbox.setChecked(False)
    assert len(view.plots()) == 3
    select(view, {name: {} for name in optimizers.OPTIMIZERS})
    assert len(view.plots()) == 8
    assert [next(iter(p.curves)) for p in view.plots()] == list(optimizers.OPTIMIZERS)
    # Panels fill the grid row by row, in as many columns as give the function's window the most room.
    columns = view.grid_widget.columns()
    for k, panel in enumerate(view.plots()):
        assert view.grid_widget.ci.getItem(k // columns, k % columns) is panel.plot
    view.grid_widget.resize(1600, 400)  # wide and short: more columns
    assert view.grid_widget.columns() > columns
    assert view.grid_widget.ci.getItem(0, columns) is view.plots()[columns].plot

    view.player.step()
    view.player.reset()
    assert all(
        len(curve_points(view, name, p)) == 1
        for p, name in zip(view.plots(), optimizers.OPTIMIZERS, strict=True)
    )
    view.set_small_multiples(False)
    assert view.plots() == [view.overlay]


def test_ten_thousand_steps_of_eight_optimizers(view, qtbot):
    view.set_function("booth")
    select(
        view, {name: {"lr": 0.01} for name in optimizers.OPTIMIZERS if name != "adadelta"} | {"adadelta": {}}
    )
    view.settings.steps_spin.setValue(MAX_STEPS)
    assert view.settings.steps_spin.value() == 10_000
    assert view.busy  # long requests are computed off the GUI thread
    wait_for_runs(qtbot, view)
    assert view.player.length == 10_000 and view.player.frame == 10_000
    assert len(view.runs) == 8
    for run in view.runs:
        assert len(run.trajectory.positions) == 10_001
        assert len(curve_points(view, run.name)) == 10_001
    fn = testfns.get("booth")
    expected = manual_path(
        fn, "adam", view.settings.optimizer_panel.rows["adam"].values(), fn.default_start, MAX_STEPS
    )
    np.testing.assert_array_equal(curve_points(view, "adam"), expected)
    assert "Converged" in table_column(view, 6)
    view.player.slider.setValue(5000)
    assert len(curve_points(view, "sgd")) == 5001


def test_a_new_request_replaces_one_still_computing(view, qtbot):
    view.settings.steps_spin.setValue(8000)
    assert view.busy
    view.settings.steps_spin.setValue(40)  # small: computed at once, the long job is dropped
    assert not view.busy and view.player.length == 40
    qtbot.wait(400)  # long enough for the dropped job to have finished its current optimizer
    assert view.player.length == 40 and len(curve_points(view, "sgd")) == 41


def test_a_diverging_learning_rate_says_where_it_diverged(view):
    view.set_function("rosenbrock")
    select(view, {"sgd": {"lr": 0.01}, "adam": {"lr": 0.01}})
    view.settings.steps_spin.setValue(200)
    fn = testfns.get("rosenbrock")
    sgd = view.runs[0].trajectory
    assert sgd.diverged
    step = first_non_finite_step(fn, optimizers.get("sgd", lr=0.01), fn.default_start, 200)
    assert sgd.diverged_at == step
    assert table_column(view, 6)[0] == f"Diverged at step {step}"
    assert "Diverged" not in table_column(view, 6)[1]
    assert len(curve_points(view, "sgd")) == step  # the points before the one that overflowed
    assert view.overlay.heads.data["symbol"][0] == "x"


def test_tolerance_sets_steps_to_reach_it(view):
    view.settings.tol_spin.setValue(1e-2)
    tol_1e2 = [run.trajectory.steps_to_tol for run in view.runs]
    view.settings.tol_spin.setValue(1e-6)
    tol_1e6 = [run.trajectory.steps_to_tol for run in view.runs]
    adagrad = view.runs[2].trajectory
    expected = int(np.flatnonzero(adagrad.values <= 1e-2)[0])
    assert tol_1e2[2] == expected
    assert tol_1e6[2] is None or tol_1e6[2] > expected
    view.settings.tol_spin.setValue(1e-2)
    assert table_column(view, 5)[2] == f"{expected:,}"
    assert table_column(view, 6)[2] == "Converged"


def test_export_writes_a_png_and_a_csv(view, fake_dialogs, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    png, table = out / "plot.png", out / "paths.csv"
    fake_dialogs.save_paths[:] = [png, table]
    view.export_png_action.trigger()
    view.export_csv_action.trigger()
    assert fake_dialogs.names() == ["get_save_path", "get_save_path"]
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 400 and image.height() > 200

    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + 4 * 31
    fn = testfns.get("book")
    for run in view.runs:
        mine = [r for r in rows[1:] if r[0] == run.name]
        assert [int(r[1]) for r in mine] == list(range(31))
        points = np.array([[float(r[2]), float(r[3])] for r in mine])
        np.testing.assert_array_equal(points, run.trajectory.positions)  # repr() round-trips exactly
        assert [float(r[4]) for r in mine] == [float(fn.value(x, y)) for x, y in points]

    fake_dialogs.save_paths[:] = [None]  # cancelled: nothing written, nothing shown
    view.export_csv_action.trigger()
    assert sorted(p.name for p in out.iterdir()) == ["paths.csv", "plot.png"]
    assert fake_dialogs.errors() == []

    fake_dialogs.save_paths[:] = [out / "missing" / "a.csv", out / "missing" / "a.png"]
    view.export_csv_action.trigger()
    view.export_png_action.trigger()
    assert [title for title, _ in fake_dialogs.errors()] == ["Export failed", "Export failed"]
    assert "a.csv" in fake_dialogs.errors()[0][1]


@pytest.mark.parametrize("name", list(testfns.FUNCTIONS))
def test_every_function_can_be_selected(view, name):
    index = view.settings.function_combo.findData(name)
    view.settings.function_combo.setCurrentIndex(index)
    fn = testfns.get(name)
    assert view.function is fn
    assert view.start == fn.default_start
    assert view.settings.function_hint.text() == fn.description
    assert [run.trajectory.positions[0].tolist() for run in view.runs] == [list(fn.default_start)] * 4
    mx, my = view.overlay.minima.getData()
    assert sorted(zip(mx, my, strict=True)) == sorted(fn.minima)
    field = reference_field(name)
    assert field.lines.shape[0] > 0 and np.all(np.isfinite(field.lines))
    assert view.overlay.function is fn and view.overlay.image.image is not None
    assert len(view.overlay.contours.getData()[0]) > 0
    if fn.minima:
        assert table_column(view, 4)[0] != "—"
    else:
        assert table_column(view, 6) == ["No minimum"] * 4


@pytest.mark.parametrize("key", list(PRESETS))
def test_presets_load_their_function_start_and_optimizers(view, qtbot, key):
    preset = PRESETS[key]
    view.settings.preset_combo.setCurrentIndex(view.settings.preset_combo.findData(key))
    view.settings.preset_combo.activated.emit(view.settings.preset_combo.currentIndex())
    wait_for_runs(qtbot, view)
    assert view.function.name == preset.function and view.start == preset.start
    assert [(run.name, run.setting.hyperparameters["lr"]) for run in view.runs] == preset.runs()
    assert view.settings.request().h == preset.h
    for run in view.runs:
        assert len(run.trajectory.positions) == preset.steps + 1


def test_contour_segments_lie_on_the_level_set():
    x = np.linspace(-2, 2, 81)
    y = np.linspace(-2, 2, 81)
    z = x[None, :] ** 2 + y[:, None] ** 2
    points = contour_segments(x, y, z, [1.0])
    assert len(points) > 0 and len(points) % 2 == 0
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_allclose(radius, 1.0, atol=2e-3)
    # Saddle cells (two crossings on every edge) give two segments each.
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert len(contour_segments(np.array([0.0, 1.0]), np.array([0.0, 1.0]), z, [0.5])) == 4


def test_zooming_out_resamples_the_contours_with_the_same_levels():
    from PySide6.QtCore import QRectF

    reference = reference_field("book")
    assert field_for_view("book", QRectF(-5, -2, 10, 4)) is reference
    wide = field_for_view("book", QRectF(-40, -20, 80, 40))
    assert wide.rect.contains(QRectF(-40, -20, 80, 40))
    assert wide.shade_limits == reference.shade_limits
    offsets = (wide.levels - reference.levels[0]) / reference.level_step
    np.testing.assert_allclose(offsets, np.round(offsets), atol=1e-9)


def test_view_follows_a_theme_change(view, qtbot):
    from PySide6.QtWidgets import QApplication

    from ui.common import theme

    app = QApplication.instance()
    original = app.palette()
    try:
        app.setPalette(theme.make_palette(dark=True))
        qtbot.waitUntil(lambda: view.overlay_widget.backgroundBrush().color().lightness() < 80)
    finally:
        app.setPalette(original)


# ----------------------------------------------------------------------------------------------------------
# One optimizer at several learning rates (the book's chapter 4)
# ----------------------------------------------------------------------------------------------------------

#: The book's gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=..., step_num=100).
BOOK_ENDPOINTS = {
    0.1: (-6.11110793e-10, 8.14814391e-10),
    10.0: (-2.58983747e13, -1.29524862e12),
    1e-10: (-2.99999994, 3.99999992),
}


def test_the_learning_rate_preset_races_sgd_to_the_books_endpoints(view, qtbot, tmp_path):
    combo = view.settings.preset_combo
    combo.setCurrentIndex(combo.findData("book_4_learning_rate"))
    combo.activated.emit(combo.currentIndex())
    assert view.function.name == "sphere" and view.start == (-3.0, 4.0) and view.player.length == 100
    assert view.settings.gradient_combo.currentData() == "numerical" and view.settings.h == 1e-4
    assert [run.name for run in view.runs] == ["sgd"] * 3
    assert [run.setting.hyperparameters["lr"] for run in view.runs] == list(BOOK_ENDPOINTS)
    for run, book in zip(view.runs, BOOK_ENDPOINTS.values(), strict=True):
        np.testing.assert_allclose(run.trajectory.positions[-1], book, rtol=1e-6)
        assert len(run.trajectory.positions) == 101
    titles = ["SGD (lr 0.1)", "SGD (lr 10)", "SGD (lr 1e-10)"]
    assert table_column(view, 0) == titles
    assert table_column(view, 1) == ["-6.111e-10", "-2.59e+13", "-3"]
    assert table_column(view, 6) == ["Converged", "Not converged", "Not converged"]
    assert [label.text for _, label in view.overlay.legend.items][:3] == titles
    # Three lines told apart: shades of SGD's colour, solid, dashed and dotted.
    pens = [view.overlay.curves[run.key].opts["pen"] for run in view.runs]
    assert len({pen.color().name() for pen in pens}) == 3
    assert [pen.style() for pen in pens] == [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine]
    view.set_small_multiples(True)
    assert [panel.plot.titleLabel.text for panel in view.plots()] == [
        "SGD  (lr 0.1)",
        "SGD  (lr 10)",
        "SGD  (lr 1e-10)",
    ]
    path = tmp_path / "paths.csv"
    assert view.export_csv(path) == 3 * 101
    with open(path, newline="", encoding="utf-8") as handle:
        names = {row[0] for row in list(csv.reader(handle))[1:]}
    assert names == {"sgd lr=0.1", "sgd lr=10", "sgd lr=1e-10"}


def test_more_learning_rates_typed_for_an_optimizer(view, qtbot):
    select(view, {"adam": {"lr": 0.3}})
    row = view.settings.optimizer_panel.rows["adam"]
    row.more.click()
    assert row.details.isVisible() and row.more_lrs.isEnabled()
    row.more_lrs.setFocus()
    QTest.keyClicks(row.more_lrs, "0.01; 1 0.3")
    QTest.keyClick(row.more_lrs, Qt.Key.Key_Return)
    assert row.more_learning_rates == (0.01, 1.0, 0.3)
    assert row.more_lrs.text() == "0.01, 1, 0.3"
    # Its own learning rate is not raced twice.
    assert [run.title for run in view.runs] == ["Adam (lr 0.3)", "Adam (lr 0.01)", "Adam (lr 1)"]
    fn = testfns.get("book")
    expected = manual_path(fn, "adam", {**row.values(), "lr": 1.0}, (-7.0, 2.0), 30)
    np.testing.assert_array_equal(curve_points(view, "adam lr=1"), expected)
    assert view.settings.preset_combo.currentData() == ""

    row.more_lrs.selectAll()
    QTest.keyClicks(row.more_lrs, "2, fast")
    QTest.keyClick(row.more_lrs, Qt.Key.Key_Return)
    assert row.more_lrs.error == "more learning rates must be numbers separated by commas, got 'fast'"
    assert row.more_lrs.property("invalid") and row.more_lrs.toolTip() == row.more_lrs.error
    assert len(view.runs) == 3  # nothing changed

    row.more_lrs.selectAll()
    QTest.keyClicks(row.more_lrs, "-1")
    assert "lr" in row.more_lrs.error and "-1" in row.more_lrs.error
    row.more_lrs.selectAll()
    QTest.keyClicks(row.more_lrs, "1 2 3 4 5 6")
    assert row.more_lrs.error == "at most 5 more learning rates, got 6"
    row.more_lrs.clear()
    QTest.keyClick(row.more_lrs, Qt.Key.Key_Return)
    assert not row.more_lrs.error and [run.title for run in view.runs] == ["Adam"]

    row.checkbox.setChecked(False)
    assert not row.more_lrs.isEnabled()


def test_the_settings_go_under_the_plots_when_both_do_not_fit_side_by_side(qtbot):
    from ui.playground.view import PlaygroundView

    view = PlaygroundView()
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    assert not view.stacked
    view.resize(600, 900)
    qtbot.waitUntil(lambda: view.stacked)
    qtbot.waitUntil(lambda: view._main.geometry().right() <= view.width())  # the plots' right edge shows
