"""The Draw panel: strokes drawn with the mouse on the canvas, prepared like MNIST and read live by the model."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import dllab
from dllab.digit_input import centre_of_mass, prepare_drawing, read_input
from ui.inspect.draw_panel import DrawPanel
from ui.state import AppState

SMALL_CONV = {
    "name": "TinyConv",
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2D", "filters": 6, "kernel_size": 5},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 20},
        {"type": "ReLU"},
        {"type": "Dense", "units": 10},
    ],
}


def _model(spec: dict = SMALL_CONV) -> dllab.Sequential:
    model = dllab.build(spec, seed=2)
    model.preprocessing = {"kind": "scale", "input_shape": [1, 28, 28], "low": [0.0], "high": [255.0]}
    model.class_names = [f"digit {k}" for k in range(10)]
    return model


def _line(a: tuple[float, float], b: tuple[float, float], n: int = 10) -> list[tuple[float, float]]:
    return [(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for t in np.linspace(0, 1, n)]


def _stroke(qtbot, view: DrawPanel, points: list[tuple[float, float]]) -> None:
    canvas = view.canvas
    positions = [canvas.to_widget(x, y).toPoint() for x, y in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[0])
    for position in positions[1:]:
        QTest.mouseMove(canvas, position)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[-1])


@pytest.fixture
def view(qtbot) -> DrawPanel:
    state = AppState()
    view = DrawPanel(state)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    state.set_model(_model())
    return view


def test_without_an_image_model_it_says_why(qtbot) -> None:
    state = AppState()
    view = DrawPanel(state)
    qtbot.addWidget(view)
    assert view.stack.currentWidget() is view.placeholder
    assert "no trained model" in view.placeholder.text()
    state.set_model(dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}))
    assert view.stack.currentWidget() is view.placeholder
    assert "single-channel image" in view.placeholder.text()
    state.set_model(_model())
    assert view.stack.currentWidget() is view.scroll


def test_strokes_drawn_with_the_mouse_are_prepared_centred_and_read(qtbot, view) -> None:
    _stroke(qtbot, view, _line((0.2, 0.2), (0.8, 0.2)) + _line((0.8, 0.2), (0.45, 0.9))[1:])
    assert len(view.canvas.strokes) == 1 and len(view.canvas.strokes[0]) > 10
    prepared = view.prepared
    assert prepared is not None and prepared.ink.shape == (28, 28)
    row, col = centre_of_mass(prepared.ink)
    assert row == pytest.approx(14, abs=0.5) and col == pytest.approx(14, abs=0.5)
    reading = view.reading
    assert reading.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    # the numbers shown are the engine's for the same strokes
    expected = read_input(view._state.model, prepare_drawing(view.canvas.strokes, view._state.model).x)
    np.testing.assert_allclose(reading.probabilities, expected.probabilities, rtol=1e-6)
    np.testing.assert_allclose(view.bars.probabilities, reading.probabilities)
    best = int(np.argmax(reading.probabilities))
    assert f"digit {best}" in view.prediction_label.text()
    assert len(view.map_tiles.tiles) == 6 and view.map_tiles.tiles[0].shape == (24, 24)
    assert len(view.activation_tiles.tiles) == 1 and view.activation_tiles.tiles[0].shape == (20,)
    assert f"({row:.1f}, {col:.1f})" in view.input_caption.text()


def test_probabilities_follow_the_stroke_as_it_grows(qtbot, view) -> None:
    canvas = view.canvas
    points = [canvas.to_widget(x, y).toPoint() for x, y in _line((0.5, 0.1), (0.5, 0.9), 20)]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    passes = view.forward_passes
    for point in points[1:8]:
        QTest.mouseMove(canvas, point)
    qtbot.waitUntil(lambda: view.forward_passes > passes, timeout=2000)  # while the mouse is still down
    first = view.prepared.ink.copy()
    for point in points[8:]:
        QTest.mouseMove(canvas, point)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
    assert view.forward_passes <= passes + 4  # throttled: not one pass per mouse move
    assert not np.allclose(view.prepared.ink, first)


def test_undo_stroke_and_clear(qtbot, view) -> None:
    _stroke(qtbot, view, _line((0.3, 0.3), (0.7, 0.3)))
    one = view.reading.probabilities.copy()
    _stroke(qtbot, view, _line((0.5, 0.3), (0.5, 0.9)))
    assert len(view.canvas.strokes) == 2
    assert not np.allclose(view.reading.probabilities, one)
    qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: np.allclose(view.reading.probabilities, one), timeout=2000)
    assert len(view.canvas.strokes) == 1
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.reading is None, timeout=2000)
    assert view.canvas.strokes == [] and not view.prepared.has_ink
    assert not view.undo_button.isEnabled() and "Nothing drawn" in view.input_caption.text()


def test_a_multilayer_perceptron_of_flat_images_reads_drawings_too(qtbot, view) -> None:
    mlp = _model(
        {
            "input_shape": [784],
            "layers": [{"type": "Dense", "units": 30}, {"type": "Sigmoid"}, {"type": "Dense", "units": 10}],
        }
    )
    view._state.set_model(mlp)
    _stroke(qtbot, view, _line((0.5, 0.1), (0.5, 0.9)))
    assert view.reading.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert view.prepared.x.shape == (1, 784)
    assert not view.map_tiles.isVisible() and len(view.activation_tiles.tiles) == 1


def test_narrow_it_stacks_the_drawing_above_the_reading_and_wide_it_sets_them_side_by_side(
    qtbot, view
) -> None:
    def top_left(widget):
        return widget.mapTo(view, widget.rect().topLeft())

    def bottom_right(widget):
        return widget.mapTo(view, widget.rect().bottomRight())

    view.resize(400, 860)
    qtbot.waitUntil(lambda: view.wide is False and top_left(view.bars).y() > bottom_right(view.canvas).y())
    assert view.canvas.height() == 280 and view.canvas.width() > 300
    assert top_left(view.bars).x() > bottom_right(view.input_tiles).x()  # the input beside the probabilities
    view.resize(1100, 600)
    qtbot.waitUntil(lambda: view.wide is True and top_left(view.bars).x() > bottom_right(view.canvas).x())
    assert top_left(view.map_tiles).x() > bottom_right(view.bars).x()
