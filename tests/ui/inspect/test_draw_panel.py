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


def _stroke(qtbot, panel: DrawPanel, points: list[tuple[float, float]]) -> None:
    canvas = panel.canvas
    positions = [canvas.to_widget(x, y).toPoint() for x, y in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[0])
    for position in positions[1:]:
        QTest.mouseMove(canvas, position)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[-1])


@pytest.fixture
def panel(qtbot) -> DrawPanel:
    state = AppState()
    panel = DrawPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1100, 600)
    panel.show()
    state.set_model(_model())
    return panel


def test_without_an_image_model_it_says_why(qtbot) -> None:
    state = AppState()
    panel = DrawPanel(state)
    qtbot.addWidget(panel)
    assert panel.stack.currentWidget() is panel.placeholder
    assert "no trained model" in panel.placeholder.text()
    state.set_model(dllab.build({"input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}))
    assert panel.stack.currentWidget() is panel.placeholder
    assert "single-channel image" in panel.placeholder.text()
    state.set_model(_model())
    assert panel.stack.currentWidget() is panel.scroll


def test_strokes_drawn_with_the_mouse_are_prepared_centred_and_read(qtbot, panel) -> None:
    _stroke(qtbot, panel, _line((0.2, 0.2), (0.8, 0.2)) + _line((0.8, 0.2), (0.45, 0.9))[1:])
    assert len(panel.canvas.strokes) == 1 and len(panel.canvas.strokes[0]) > 10
    prepared = panel.prepared
    assert prepared is not None and prepared.ink.shape == (28, 28)
    row, col = centre_of_mass(prepared.ink)
    assert row == pytest.approx(14, abs=0.5) and col == pytest.approx(14, abs=0.5)
    reading = panel.reading
    assert reading.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    # the numbers shown are the engine's for the same strokes
    expected = read_input(panel._state.model, prepare_drawing(panel.canvas.strokes, panel._state.model).x)
    np.testing.assert_allclose(reading.probabilities, expected.probabilities, rtol=1e-6)
    np.testing.assert_allclose(panel.bars.probabilities, reading.probabilities)
    best = int(np.argmax(reading.probabilities))
    assert f"digit {best}" in panel.prediction_label.text()
    assert len(panel.map_tiles.tiles) == 6 and panel.map_tiles.tiles[0].shape == (24, 24)
    assert len(panel.activation_tiles.tiles) == 1 and panel.activation_tiles.tiles[0].shape == (20,)
    assert f"({row:.1f}, {col:.1f})" in panel.input_caption.text()


def test_probabilities_follow_the_stroke_as_it_grows(qtbot, panel) -> None:
    canvas = panel.canvas
    points = [canvas.to_widget(x, y).toPoint() for x, y in _line((0.5, 0.1), (0.5, 0.9), 20)]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    passes = panel.forward_passes
    for point in points[1:8]:
        QTest.mouseMove(canvas, point)
    qtbot.waitUntil(lambda: panel.forward_passes > passes, timeout=2000)  # while the mouse is still down
    first = panel.prepared.ink.copy()
    for point in points[8:]:
        QTest.mouseMove(canvas, point)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
    assert panel.forward_passes <= passes + 4  # throttled: not one pass per mouse move
    assert not np.allclose(panel.prepared.ink, first)


def test_undo_stroke_and_clear(qtbot, panel) -> None:
    _stroke(qtbot, panel, _line((0.3, 0.3), (0.7, 0.3)))
    one = panel.reading.probabilities.copy()
    _stroke(qtbot, panel, _line((0.5, 0.3), (0.5, 0.9)))
    assert len(panel.canvas.strokes) == 2
    assert not np.allclose(panel.reading.probabilities, one)
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: np.allclose(panel.reading.probabilities, one), timeout=2000)
    assert len(panel.canvas.strokes) == 1
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.reading is None, timeout=2000)
    assert panel.canvas.strokes == [] and not panel.prepared.has_ink
    assert not panel.undo_button.isEnabled() and "Nothing drawn" in panel.input_caption.text()


def test_a_multilayer_perceptron_of_flat_images_reads_drawings_too(qtbot, panel) -> None:
    mlp = _model(
        {
            "input_shape": [784],
            "layers": [{"type": "Dense", "units": 30}, {"type": "Sigmoid"}, {"type": "Dense", "units": 10}],
        }
    )
    panel._state.set_model(mlp)
    _stroke(qtbot, panel, _line((0.5, 0.1), (0.5, 0.9)))
    assert panel.reading.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    assert panel.prepared.x.shape == (1, 784)
    assert not panel.map_tiles.isVisible() and len(panel.activation_tiles.tiles) == 1


def test_narrow_it_stacks_the_drawing_above_the_reading_and_wide_it_sets_them_side_by_side(
    qtbot, panel
) -> None:
    def top_left(widget):
        return widget.mapTo(panel, widget.rect().topLeft())

    def bottom_right(widget):
        return widget.mapTo(panel, widget.rect().bottomRight())

    panel.resize(400, 860)
    qtbot.waitUntil(lambda: panel.wide is False and top_left(panel.bars).y() > bottom_right(panel.canvas).y())
    assert panel.canvas.height() == 280 and panel.canvas.width() > 300
    assert (
        top_left(panel.bars).x() > bottom_right(panel.input_tiles).x()
    )  # the input beside the probabilities
    panel.resize(1100, 600)
    qtbot.waitUntil(lambda: panel.wide is True and top_left(panel.bars).x() > bottom_right(panel.canvas).x())
    assert top_left(panel.map_tiles).x() > bottom_right(panel.bars).x()
