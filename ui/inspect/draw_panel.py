"""The Draw panel: draw a digit with the mouse and watch the trained model read it.

The strokes are prepared as MNIST's digits were (:func:`dllab.digit_input.prepare_drawing`: the bounding box to
20 x 20, the centre of mass at the centre of 28 x 28, the model's own normalisation) and shown as the network
sees them; while the stroke grows, one forward pass (:func:`dllab.digit_input.read_input`) at most every
:data:`UPDATE_MS` milliseconds gives the class probabilities, the first convolution's feature maps and the
hidden layers' activations, in three columns when the panel is wide and one above the other when it is narrow
(docked beside the views). It works with the app's current model (trained here or opened) when that takes a
single-channel image, and says in one sentence why not otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from dllab.digit_input import (
    InputReading,
    PreparedDrawing,
    centre_of_mass,
    drawing_problem,
    ink_range,
    prepare_drawing,
    read_input,
)
from dllab.model import Sequential
from ui.common.widgets import empty_state_label, hint_label, section_title
from ui.inspect.canvas import DrawingCanvas
from ui.inspect.pictures import ProbabilityBars, TileGrid
from ui.state import AppState

#: The shortest time between two forward passes while a stroke grows (longer for a model slower than half of it).
UPDATE_MS = 40
#: From this width on, the panel's three columns stand side by side.
WIDE = 860
#: Feature maps shown at the most.
MAX_MAPS = 32

HINT = (
    "Draw a digit with the mouse. It is prepared as MNIST's digits were (bounding box to 20×20, centre of mass "
    "at the centre of 28×28, the model's normalisation) and read by the current model as you draw."
)


class DrawPanel(QWidget):
    """Draw, see the input as the network does, and read the model's probabilities and activations live."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawPanel")
        self._state = state
        self.prepared: PreparedDrawing | None = None
        self.reading: InputReading | None = None
        #: Forward passes made so far (one per update).
        self.forward_passes = 0

        self.hint_label = hint_label(HINT, self)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("viewStatus")
        self.status_label.setWordWrap(True)

        self.canvas = DrawingCanvas(self)
        self.clear_button = QPushButton("Clear", self)
        self.undo_button = QPushButton("Undo Stroke", self)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo_stroke)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        left_host = QWidget(self)
        left = QVBoxLayout(left_host)
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(buttons)
        left.addWidget(self.canvas, 1)

        self.input_tiles = TileGrid(self, tile_size=168, columns=1)
        self.input_caption = hint_label("", self)
        self.prediction_label = QLabel(self)
        self.prediction_label.setObjectName("drawPrediction")
        self.prediction_label.setTextFormat(Qt.TextFormat.RichText)
        self.bars = ProbabilityBars(self)
        seen = QVBoxLayout()
        seen.addWidget(_wrapped(section_title("As the network sees it", self)))
        seen.addWidget(self.input_tiles)
        seen.addWidget(self.input_caption)
        seen.addStretch(1)
        read = QVBoxLayout()
        read.addWidget(_wrapped(section_title("Class probabilities", self)))
        read.addWidget(self.prediction_label)
        read.addWidget(self.bars, 1)
        middle_host = QWidget(self)
        self.middle = QBoxLayout(QBoxLayout.Direction.TopToBottom, middle_host)
        self.middle.setContentsMargins(0, 0, 0, 0)
        self.middle.addLayout(seen)
        self.middle.addLayout(read, 1)

        self.maps_title = _wrapped(section_title("First convolution's feature maps", self))
        self.map_tiles = TileGrid(self, tile_size=46)
        self.activations_title = _wrapped(section_title("Hidden activations", self))
        self.activation_tiles = TileGrid(self, tile_size=360, columns=1, min_tile_height=22)
        right_host = QWidget(self)
        right = QVBoxLayout(right_host)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.maps_title)
        right.addWidget(self.map_tiles)
        right.addSpacing(8)
        right.addWidget(self.activations_title)
        right.addWidget(self.activation_tiles)
        right.addStretch(1)

        self.content = QWidget(self)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.content)
        self.body.setContentsMargins(12, 4, 12, 12)
        self.body.setSpacing(18)
        for host in (left_host, middle_host, right_host):
            self.body.addWidget(host)
        self.columns = (left_host, middle_host, right_host)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self.content)
        self.wide: bool | None = None

        self.placeholder = empty_state_label(parent=self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QVBoxLayout()
        header.setContentsMargins(12, 8, 12, 4)
        header.setSpacing(2)
        header.addWidget(self.hint_label)
        header.addWidget(self.status_label)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_MS)
        self._timer.timeout.connect(self.refresh)
        self.canvas.strokes_changed.connect(self._on_canvas_strokes_changed)
        self.canvas.stroke_finished.connect(self.refresh)
        state.model_changed.connect(self._on_state_model_changed)
        self._on_state_model_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.arrange(event.size().width())

    def arrange(self, width: int) -> None:
        """Three columns side by side when ``width`` allows (:data:`WIDE`), else one above the other, the drawing
        on top and the input beside the probabilities."""
        wide = width >= WIDE
        canvas_side = min(max(width - 40, 120), 280)
        if wide:
            self.canvas.setMinimumHeight(100)
            self.canvas.setMaximumHeight(16777215)
        else:
            self.canvas.setFixedHeight(canvas_side)
        if wide == self.wide:
            return
        self.wide = wide
        self.body.setDirection(QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom)
        self.middle.setDirection(
            QBoxLayout.Direction.TopToBottom if wide else QBoxLayout.Direction.LeftToRight
        )
        for k, stretch in enumerate((3, 2, 3) if wide else (0, 0, 1)):
            self.body.setStretch(k, stretch)
        self.input_tiles.tile_size = 168 if wide else 112
        self.input_tiles.setFixedWidth(self.input_tiles.tile_size + 4)
        self.input_tiles.updateGeometry()

    @property
    def model(self) -> Sequential | None:
        """The app's current model (trained here or opened), when it is a dllab model."""
        model = self._state.model
        return model if isinstance(model, Sequential) else None

    @property
    def problem(self) -> str | None:
        """Why the current model cannot read a drawing (None: it can)."""
        return drawing_problem(self.model)

    def _on_state_model_changed(self) -> None:
        problem = self.problem
        model = self.model
        if problem is not None:
            self.placeholder.setText(problem)
            self.stack.setCurrentWidget(self.placeholder)
            self.status_label.setText("")
            return
        self.stack.setCurrentWidget(self.scroll)
        summary = model.training_summary or {}
        data = summary.get("dataset") or ""
        data = Path(data).name if isinstance(data, str) else ""  # a local data set by its folder's name
        self.status_label.setText(
            f"Model: {model.name}, {model.param_count:,} parameters"
            + (f", trained on {data}" if data else "")
            + "."
        )
        self.refresh()

    def _on_canvas_strokes_changed(self) -> None:
        self.undo_button.setEnabled(bool(self.canvas.strokes))
        self.clear_button.setEnabled(bool(self.canvas.strokes))
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Prepare the drawing, run one forward pass and show what the model makes of it."""
        self._timer.stop()
        self.undo_button.setEnabled(bool(self.canvas.strokes))
        self.clear_button.setEnabled(bool(self.canvas.strokes))
        model = self.model
        if model is None or self.problem is not None:
            return
        started = time.perf_counter()
        self.prepared = prepare_drawing(self.canvas.strokes, model)
        names = list(model.class_names) or [str(k) for k in range(int(np.prod(model.output_shape)))]
        self.input_tiles.set_tiles([self.prepared.ink], value_range=(0.0, 1.0))
        if not self.prepared.has_ink:
            self.reading = None
            self.input_caption.setText("Nothing drawn yet.")
            self.prediction_label.setText("")
            self.bars.set_probabilities(np.zeros(len(names)), names)
            self.map_tiles.set_tiles([])
            self.activation_tiles.set_tiles([])
            self._show_sections()
            return
        self.reading = read_input(model, self.prepared.x)
        self.forward_passes += 1
        # A large model takes longer than the stroke's pace: wait twice the update's time, so the mouse keeps up.
        self._timer.setInterval(max(UPDATE_MS, round(2000 * (time.perf_counter() - started))))
        low, high = ink_range(model.preprocessing)
        row, col = centre_of_mass(self.prepared.ink)
        kind = (model.preprocessing or {}).get("kind", "none")
        norm = {"scale": "scaled to [0, 1]", "standardize": "standardised"}.get(kind, "not normalised")
        h, w = self.prepared.ink.shape
        self.input_caption.setText(
            f"{h}×{w}, centre of mass at ({row:.1f}, {col:.1f}); ink as {low:g}–{high:g}, {norm} as the "
            f"training data (input from {self.prepared.x.min():.2f} to {self.prepared.x.max():.2f})."
        )
        probabilities = self.reading.probabilities
        best = self.reading.predicted
        self.prediction_label.setText(
            f"The model reads <b>{names[best] if best < len(names) else best}</b> "
            f"({100 * probabilities[best]:.1f} %)"
        )
        self.bars.set_probabilities(probabilities, names)
        maps = self.reading.first_feature_maps()
        if maps is not None:
            name, values = maps
            shown = values[:MAX_MAPS]
            self.maps_title.setText(f"First convolution's feature maps: {name}, {len(values)} maps")
            self.map_tiles.set_tiles(
                list(shown), value_range=(float(values.min()), float(values.max()) or 1.0)
            )
        else:
            self.map_tiles.set_tiles([])
        hidden = self.reading.hidden_activations()
        self.activation_tiles.set_tiles(
            [values for _, values in hidden],
            [
                f"{name}: {len(values)} units, {values.min():.2g} (black) to {values.max():.2g}"
                for name, values in hidden
            ],
        )
        self._show_sections()

    def _show_sections(self) -> None:
        has_maps = bool(self.map_tiles.tiles)
        self.maps_title.setVisible(has_maps)
        self.map_tiles.setVisible(has_maps)
        has_hidden = bool(self.activation_tiles.tiles)
        self.activations_title.setVisible(has_hidden)
        self.activation_tiles.setVisible(has_hidden)


def _wrapped(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    return label
