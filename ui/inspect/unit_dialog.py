"""Inside one prediction: one unit of the current model for one test sample, its arithmetic written out.

Opened by a click on a Dense or Conv2D block of the Architecture view. The engine
(:func:`dllab.unit_inspection.inspect_unit`) computes everything: the unit's inputs, weights and bias, the
weighted sum ``a = Σ xᵢwᵢ + b`` (the book's ``A = XW + B`` for one unit), the activation after it, and the
gradient of the sample's loss that flows back to it. This dialog chooses the layer, the unit and the sample, and
writes the numbers out; for a convolution it outlines the unit's receptive field on the input image.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dllab.data import DatasetError, model_inputs
from dllab.model import Sequential
from dllab.unit_inspection import UnitInspection, design_problem, inspect_unit, unit_layers, unit_problem
from ui.common.widgets import error_label, hint_label
from ui.inspect.pictures import TileGrid
from ui.state import AppState

#: Terms of a weighted sum listed one by one (the largest first); the rest are added up.
LISTED_TERMS = 10
#: A convolution's window is shown as grids of numbers up to this many input channels.
GRID_CHANNELS = 3


def number(value: float) -> str:
    """A number as the dialog writes it: four significant digits, a true minus sign."""
    if value == 0:
        return "0"
    return f"{value:.4g}".replace("-", "−")


def _signed(value: float) -> str:
    """``value`` as a factor that follows ``×``: in parentheses when negative."""
    return f"({number(value)})" if number(value).startswith("−") else number(value)


def _index_text(index: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in index)


def unit_html(found: UnitInspection, class_names: list[str]) -> str:
    """The unit's arithmetic for one sample as HTML: the weighted sum written out, the terms, the activation and
    the gradient flowing back."""
    terms = found.terms()
    flat = terms.reshape(-1)
    order = np.argsort(-np.abs(flat), kind="stable")
    listed = order[:LISTED_TERMS]
    rest = float(flat.sum() - flat[listed].sum())
    shape = found.inputs.shape
    parts = []
    what = (
        f"unit {found.unit[0]} of {found.layer_name} (Dense)"
        if found.layer_type == "Dense"
        else f"channel {found.unit[0]} at row {found.unit[1]}, column {found.unit[2]} of {found.layer_name} (Conv2D)"
    )
    parts.append(f"<h3>{html.escape(what)}</h3>")
    written = " + ".join(
        f"{_signed(float(found.inputs.reshape(-1)[k]))}×{_signed(float(found.weights.reshape(-1)[k]))}"
        for k in listed[:4]
    )
    more = flat.size - min(4, flat.size)
    parts.append(
        "<p><b>Weighted sum</b> (the book's <i>A = XW + B</i> for one unit): "
        f"a = Σ x<sub>i</sub>w<sub>i</sub> + b over {flat.size} inputs<br>"
        f"a = {written}{f' + … ({more} more terms)' if more else ''} + {_signed(found.bias)}<br>"
        f"&nbsp;&nbsp;= {number(float(flat.sum()))} + {_signed(found.bias)} = <b>{number(found.weighted_sum)}</b></p>"
    )
    value = "a"
    steps = []
    for step in found.after:
        steps.append(f"{html.escape(step.type_name)}({value}) = <b>{number(step.value)}</b>")
        value = html.escape(step.type_name.lower())
    parts.append(
        "<p><b>Activation</b>: "
        + ("; ".join(steps) if steps else "none follows: the unit's output is a itself")
        + (f" ({html.escape(', '.join(s.name for s in found.after))})" if found.after else "")
        + "</p>"
    )
    label = found.label
    label_text = class_names[label] if label is not None and label < len(class_names) else str(label)
    probability = (
        f", the model gives it {100 * found.probabilities[label]:.1f} %"
        if label is not None and label < len(found.probabilities)
        else ""
    )
    chain = "".join(
        f"∂L/∂{html.escape(step.type_name)} = {number(step.gradient)}<br>" for step in reversed(found.after)
    )
    parts.append(
        f"<p><b>Gradient</b> of this sample's loss L = {number(found.loss)} (label {html.escape(label_text)}"
        f"{probability}), flowing back from the output:<br>{chain}"
        f"∂L/∂a = <b>{number(found.sum_gradient)}</b><br>"
        f"∂L/∂b = ∂L/∂a = {number(found.sum_gradient)}; ∂L/∂w<sub>i</sub> = x<sub>i</sub> · ∂L/∂a (the last "
        "column of the table below). Gradient descent moves each weight against its gradient.</p>"
    )
    if found.layer_type == "Conv2D" and shape[0] <= GRID_CHANNELS and shape[1] * shape[2] <= 49:
        parts.append(_window_grids(found))
    rows = "".join(
        f"<tr><td>{_index_text(np.unravel_index(k, shape))}</td><td align=right>{number(float(found.inputs.reshape(-1)[k]))}</td>"
        f"<td align=right>{number(float(found.weights.reshape(-1)[k]))}</td><td align=right>{number(float(flat[k]))}</td>"
        f"<td align=right>{number(float(found.weight_gradients.reshape(-1)[k]))}</td></tr>"
        for k in listed
    )
    if flat.size > len(listed):
        rows += (
            f"<tr><td colspan=3>the other {flat.size - len(listed)} terms</td><td align=right>{number(rest)}</td>"
            "<td></td></tr>"
        )
    parts.append(
        "<p><b>The largest terms</b></p><table cellspacing=0 cellpadding=3>"
        "<tr><th align=left>input</th><th align=right>x<sub>i</sub></th><th align=right>w<sub>i</sub></th>"
        "<th align=right>x<sub>i</sub>·w<sub>i</sub></th><th align=right>∂L/∂w<sub>i</sub></th></tr>"
        f"{rows}</table>"
    )
    return "".join(parts)


def _window_grids(found: UnitInspection) -> str:
    """A convolution's window and filter as grids of numbers, channel by channel."""
    blocks = []
    for c in range(found.inputs.shape[0]):
        for name, values in (("x (window)", found.inputs[c]), ("w (filter)", found.weights[c])):
            cells = "".join(
                "<tr>" + "".join(f"<td align=right>{number(float(v))}</td>" for v in row) + "</tr>"
                for row in values
            )
            blocks.append(
                f"<td valign=top><small>channel {c}: {name}</small>"
                f"<table cellspacing=0 cellpadding=2 border=1>{cells}</table></td>"
            )
    return "<table cellspacing=8><tr>" + "".join(blocks) + "</tr></table>"


class UnitDialog(QDialog):
    """One unit of the current model for one test sample (non-modal, beside the Architecture view)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unitDialog")
        self.setWindowTitle("Inside One Prediction")
        self.setModal(False)
        self.resize(980, 620)
        self._state = state
        self.inspection: UnitInspection | None = None
        self._layers: list[int] = []

        self.layer_combo = QComboBox(self)
        self.unit_spins = [QSpinBox(self) for _ in range(3)]
        self.sample_spin = QSpinBox(self)
        self.sample_spin.setMaximum(0)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer", self))
        controls.addWidget(self.layer_combo)
        self.unit_labels = [QLabel(text, self) for text in ("Unit", "Row", "Column")]
        for label, spin in zip(self.unit_labels, self.unit_spins, strict=True):
            controls.addWidget(label)
            controls.addWidget(spin)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Test sample", self))
        controls.addWidget(self.sample_spin)
        controls.addStretch(1)

        self.problem_label = error_label(self)
        self.sample_tiles = TileGrid(self, tile_size=220, columns=1)
        self.sample_tiles.setFixedWidth(230)
        self.sample_caption = hint_label("", self)
        left = QVBoxLayout()
        left.addWidget(self.sample_tiles)
        left.addWidget(self.sample_caption)
        left.addStretch(1)
        self.text = QTextBrowser(self)
        self.text.setObjectName("unitArithmetic")
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(self.text, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(
            hint_label(
                "One unit for one sample: the numbers that reach it, its weights and bias, the weighted sum, the "
                "activation, and the gradient of the sample's loss flowing back to it. Click another block in "
                "the Architecture view, or choose here.",
                self,
            )
        )
        layout.addLayout(controls)
        layout.addWidget(self.problem_label)
        layout.addLayout(body, 1)

        self.layer_combo.activated.connect(self._on_layer_combo_activated)
        for spin in self.unit_spins:
            spin.valueChanged.connect(self._on_choice_changed)
        self.sample_spin.valueChanged.connect(self._on_choice_changed)
        state.model_changed.connect(self._on_state_changed)
        state.dataset_changed.connect(self._on_state_changed)
        state.network_changed.connect(self._on_state_changed)

    @property
    def model(self) -> Sequential | None:
        model = self._state.model
        return model if isinstance(model, Sequential) else None

    # --- choosing -----------------------------------------------------------------------------------------------

    def show_unit(self, layer_index: int, unit: tuple[int, ...], sample: int | None = None) -> None:
        """Show unit ``unit`` of layer ``layer_index`` (as the Architecture view numbers them) for test sample
        ``sample`` (None: the one chosen) and raise the dialog."""
        self._fill_layers()
        if sample is not None:
            with QSignalBlocker(self.sample_spin):
                self.sample_spin.setValue(sample)
        if layer_index in self._layers:
            with QSignalBlocker(self.layer_combo):
                self.layer_combo.setCurrentIndex(self._layers.index(layer_index))
            self._fit_unit_spins()
            for spin, value in zip(self.unit_spins, unit, strict=False):
                with QSignalBlocker(spin):
                    spin.setValue(int(value))
        self.refresh(layer_index)
        self.show()
        self.raise_()

    def _fill_layers(self) -> None:
        model = self.model
        layers = unit_layers(model) if model is not None else []
        if layers != self._layers or self.layer_combo.count() != len(layers):
            self._layers = layers
            with QSignalBlocker(self.layer_combo):
                self.layer_combo.clear()
                for index in layers:
                    layer = model.layers[index]
                    self.layer_combo.addItem(f"{layer.name} ({layer.type_name})")
        self._fit_unit_spins()
        dataset = self._state.dataset
        with QSignalBlocker(self.sample_spin):
            self.sample_spin.setMaximum(max(len(dataset.x_test) - 1, 0) if dataset is not None else 0)

    def _fit_unit_spins(self) -> None:
        model = self.model
        row = self.layer_combo.currentIndex()
        shape: tuple[int, ...] = ()
        if model is not None and 0 <= row < len(self._layers):
            shape = tuple(model.layers[self._layers[row]].output_shape or ())
        names = ("Channel", "Row", "Column") if len(shape) == 3 else ("Unit",)
        for k, (label, spin) in enumerate(zip(self.unit_labels, self.unit_spins, strict=True)):
            visible = k < len(shape)
            label.setVisible(visible)
            spin.setVisible(visible)
            if visible:
                label.setText(names[k])
                with QSignalBlocker(spin):
                    spin.setMaximum(shape[k] - 1)

    def current_unit(self) -> tuple[int, tuple[int, ...]]:
        row = self.layer_combo.currentIndex()
        layer_index = self._layers[row] if 0 <= row < len(self._layers) else -1
        count = sum(1 for spin in self.unit_spins if not spin.isHidden())
        return layer_index, tuple(spin.value() for spin in self.unit_spins[:count])

    def _on_layer_combo_activated(self, row: int) -> None:
        self._fit_unit_spins()
        self.refresh()

    def _on_choice_changed(self, *_: Any) -> None:
        self.refresh()

    def _on_state_changed(self) -> None:
        if self.isVisible():
            self._fill_layers()
            self.refresh()

    # --- showing -----------------------------------------------------------------------------------------------

    def problem(self, layer_index: int | None = None) -> str | None:
        """Why nothing can be shown now, in one sentence (None: the unit is shown)."""
        model = self.model
        if model is None:
            return unit_problem(None, 0, (0,))
        mismatch = design_problem(model, self._state.spec)
        if mismatch is not None:
            return mismatch
        if layer_index is not None and layer_index >= 0 and layer_index not in self._layers:
            return unit_problem(model, layer_index, (0,)) or "That block has no units of its own."
        if self._state.dataset is None or not len(self._state.dataset.x_test):
            return "Load the data the model was trained on in the Data panel, to choose a test sample."
        return None

    def refresh(self, clicked_layer: int | None = None) -> None:
        """Inspect the chosen unit for the chosen sample and write it out (or say why not)."""
        self.inspection = None
        problem = self.problem(clicked_layer)
        model = self.model
        if problem is None and model is not None:
            layer_index, unit = self.current_unit()
            problem = unit_problem(model, layer_index, unit)
            if problem is None:
                dataset = self._state.dataset
                k = self.sample_spin.value()
                try:
                    x = model_inputs(dataset.x_test[k : k + 1], model.preprocessing, model.input_shape)
                except DatasetError:
                    problem = (
                        f"The loaded data's samples ({dataset.name}) do not fit this model's input: load the data it "
                        "was trained on in the Data panel."
                    )
                else:
                    label = dataset.y_test[k]  # a class index, or a regression target's row
                    label = int(label) if np.ndim(label) == 0 and dataset.task == "classification" else label
                    self.inspection = inspect_unit(model, x, label, layer_index, unit)
                    self._show(dataset.x_test[k], dataset.class_names or list(model.class_names), k)
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(problem is not None)
        if problem is not None:
            self.text.setHtml("")
            self.sample_tiles.set_tiles([])
            self.sample_caption.setText("")

    def _show(self, raw: np.ndarray, class_names: list[str], k: int) -> None:
        found = self.inspection
        assert found is not None
        image = np.asarray(raw, dtype=np.float64)
        if image.ndim == 3 and image.shape[0] == 1:
            image = image[0]
        if image.ndim == 2:
            self.sample_tiles.set_tiles([image], highlight=found.receptive_field)
            self.sample_tiles.show()
        else:
            self.sample_tiles.set_tiles([])
            self.sample_tiles.hide()
        predicted = int(np.argmax(found.probabilities)) if found.probabilities.size > 1 else None

        def name(c: int | None) -> str:
            return class_names[c] if c is not None and c < len(class_names) else str(c)

        field = found.receptive_field
        self.sample_caption.setText(
            f"Test sample {k}: label {name(found.label)}, the model says {name(predicted)}"
            + (
                f". Outlined: the rows {field[0]}–{field[1] - 1} and columns {field[2]}–{field[3] - 1} this unit sees."
                if field is not None
                else "."
            )
        )
        self.text.setHtml(unit_html(found, class_names))
