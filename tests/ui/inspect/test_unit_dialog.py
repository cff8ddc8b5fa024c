"""Inside one prediction: a click on a block of the Architecture view shows one unit for one test sample."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

import dllab
from dllab.data import Dataset, model_inputs
from dllab.unit_inspection import inspect_unit
from ui.design.architecture_view import ArchitectureView
from ui.inspect.unit_dialog import UnitDialog, number
from ui.state import AppState

SPEC = {
    "format": "dllab.network/1",
    "name": "TinyConv",
    "input_shape": [1, 12, 12],
    "layers": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3},
        {"type": "ReLU"},
        {"type": "MaxPool2D"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 8},
        {"type": "Tanh"},
        {"type": "Dense", "units": 4},
    ],
    "loss": "softmax_cross_entropy",
}


def _dataset() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 1, 12, 12), dtype=np.uint8)
    y = rng.integers(0, 4, 24)
    return Dataset("tiny", x[:16], y[:16], x[16:], y[16:], class_names=["a", "b", "c", "d"])


def _model() -> dllab.Sequential:
    model = dllab.build(SPEC, seed=4)
    rng = np.random.default_rng(1)
    for value in model.params.values():
        value[...] = rng.normal(0, 0.5, value.shape)
    model.preprocessing = {"kind": "scale", "input_shape": [1, 12, 12], "low": [0.0], "high": [255.0]}
    return model


@pytest.fixture
def diagram(qtbot):
    state = AppState(SPEC)
    view = ArchitectureView(state)
    dialog = UnitDialog(state)
    qtbot.addWidget(view)
    qtbot.addWidget(dialog)
    view.unit_clicked.connect(dialog.show_unit)
    view.resize(1000, 380)
    view.show()
    view.grab()  # lays the diagram out
    return state, view, dialog


def _block_point(view: ArchitectureView, producer: str, fx: float, fy: float) -> QPointF:
    layout, scale, dx, dy = view._placed
    front = next(item.front for item in layout.items if item.tensor.producer == producer)
    return QPointF(
        (front.left() + fx * front.width()) * scale + dx, (front.top() + fy * front.height()) * scale + dy
    )


def test_a_click_on_a_block_names_the_unit_under_the_mouse(diagram) -> None:
    _, view, _ = diagram
    assert view.unit_at(_block_point(view, "Conv2D", 0.05, 0.95)) == (0, (0, 9, 0))  # 10 x 10 maps
    assert view.unit_at(_block_point(view, "Conv2D", 0.95, 0.05)) == (0, (0, 0, 9))
    assert view.orientation == "horizontal"  # Dense bars stand upright: units from top to bottom
    assert view.unit_at(_block_point(view, "Dense", 0.5, 0.99)) == (4, (7,))
    assert view.unit_at(_block_point(view, "Dense", 0.5, 0.01)) == (4, (0,))
    assert view.unit_at(QPointF(2, 2)) is None
    layout, scale, dx, dy = view._placed
    pool = next(item.front for item in layout.items if item.tensor.producer == "MaxPool2D")
    assert view.unit_at(QPointF(pool.center().x() * scale + dx, pool.center().y() * scale + dy)) is None


def test_without_a_model_or_data_the_dialog_says_what_is_needed(qtbot, diagram) -> None:
    state, view, dialog = diagram
    QTest.mouseClick(
        view,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        _block_point(view, "Conv2D", 0.5, 0.5).toPoint(),
    )
    assert dialog.isVisible() and dialog.inspection is None
    assert "train the network or open a model" in dialog.problem_label.text()
    state.set_model(_model())
    assert "Load the data" in dialog.problem_label.text()
    state.set_dataset(_dataset())
    assert dialog.inspection is not None and dialog.problem_label.isHidden()
    state.replace_spec({**SPEC, "layers": [*SPEC["layers"][:-1], {"type": "Dense", "units": 5}]})
    assert dialog.inspection is None and "not the model's" in dialog.problem_label.text()


def test_the_clicked_unit_is_written_out_with_the_engines_numbers(qtbot, diagram) -> None:
    state, view, dialog = diagram
    model, dataset = _model(), _dataset()
    state.set_model(model)
    state.set_dataset(dataset)
    point = _block_point(view, "Conv2D", 0.55, 0.35)
    layer, unit = view.unit_at(point)
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point.toPoint())
    found = dialog.inspection
    assert found is not None and (found.layer_index, found.unit) == (layer, unit) == (0, (0, 3, 5))
    x = model_inputs(dataset.x_test[:1], model.preprocessing, model.input_shape)
    expected = inspect_unit(model, x, int(dataset.y_test[0]), layer, unit)
    assert found.weighted_sum == pytest.approx(expected.weighted_sum)
    assert found.sum_gradient == pytest.approx(expected.sum_gradient)
    text = dialog.text.toPlainText()
    for value in (found.weighted_sum, found.bias, found.loss, found.output):
        assert number(value) in text
    assert "∂L/∂a" in text and "A = XW + B" in text
    assert dialog.sample_tiles.highlight == found.receptive_field == (3, 6, 5, 8)
    assert "rows 3–5 and columns 5–7" in dialog.sample_caption.text()

    dialog.layer_combo.setCurrentIndex(1)  # the first Dense layer, chosen in the dialog
    dialog.layer_combo.activated.emit(1)
    dialog.unit_spins[0].setValue(6)
    dialog.sample_spin.setValue(5)
    found = dialog.inspection
    assert (found.layer_type, found.unit, found.label) == ("Dense", (6,), int(dataset.y_test[5]))
    assert found.receptive_field is None and dialog.sample_tiles.highlight is None
    assert [step.type_name for step in found.after] == ["Tanh"]
    assert number(found.sum_gradient) in dialog.text.toPlainText()


def test_the_window_opens_a_unit_from_the_architecture_view_and_has_a_draw_panel(qtbot, window) -> None:
    """The spiral MLP of the window's start, its model made from the design: a click on its first Dense bar
    shows that unit for a spiral test sample; the Draw panel says why a 2D model takes no drawing."""
    state = window.state
    state.set_model(dllab.build(state.spec, seed=0))
    view = window.architecture_view
    window.views.setCurrentWidget(view)
    view.grab()
    point = _block_point(view, "Dense", 0.5, 0.5)
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point.toPoint())
    dialog = window.unit_dialog
    assert dialog.isVisible() and dialog.inspection is not None
    assert dialog.inspection.layer_type == "Dense" and dialog.inspection.inputs.shape == (2,)
    assert dialog.sample_tiles.isHidden()  # the spiral's samples are points, not images
    assert window.dock_draw.widget() is window.draw_panel
    assert "single-channel image" in window.draw_panel.placeholder.text()
    dialog.close()
