"""Play, pause, step and reset for the optimizer playground: a timer reveals precomputed trajectories a few
steps per tick, so drawing never waits for computing and never blocks the window."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QWidget,
)

from ui.common.flow_layout import FlowLayout
from ui.common.widgets import tool_button

#: Animation speeds offered, in steps per second.
SPEEDS = (5, 10, 30, 100, 300, 1000, 3000)
DEFAULT_SPEED = 30
#: The shortest timer interval: about 33 frames a second; faster speeds reveal several steps per tick.
TICK_MS = 30


class PlaybackBar(QWidget):
    """Transport controls over steps ``0 .. length``: Play/Pause, Step, Reset, a speed and a scrubber.

    Signals
    -------
    frame_changed(int)
        Show the trajectories up to this step.
    """

    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame = 0
        self._length = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)

        icon = self.style().standardIcon
        self.play_button = tool_button("Play", self, icon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play the trajectories step by step, or pause them")
        self.play_button.clicked.connect(self.toggle_playing)
        self.step_button = tool_button("Step", self, icon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.step_button.setToolTip("Show one more step")
        self.step_button.clicked.connect(self.step)
        self.reset_button = tool_button("Reset", self, icon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.reset_button.setToolTip("Back to the start point")
        self.reset_button.clicked.connect(self.reset)
        self.speed_combo = QComboBox(self)
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:,} steps/s", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self.speed_combo.setToolTip("Animation speed")
        self.speed_combo.currentIndexChanged.connect(self._on_speed_combo_changed)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setToolTip("Drag to show the trajectories up to any step")
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.label = QLabel(self)

        # The slider and its step take the rest of the line; in a narrow view, a line of their own.
        position = QWidget(self)
        position.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(position)
        row.setContentsMargins(4, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.slider.setMinimumWidth(120)
        layout = FlowLayout(self, spacing=4, line_spacing=4)
        for widget in (self.play_button, self.step_button, self.reset_button, self.speed_combo, position):
            layout.addWidget(widget)
        self._sync()

    @property
    def frame(self) -> int:
        """The step shown."""
        return self._frame

    @property
    def length(self) -> int:
        """The last step."""
        return self._length

    @property
    def playing(self) -> bool:
        """Whether the animation runs."""
        return self._timer.isActive()

    def set_length(self, length: int) -> None:
        """New trajectories of ``length`` steps: stay at the end if there, else keep the step shown."""
        at_end = self._frame >= self._length
        self._length = length
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, length)
        # Wide enough for every step of this length, so the slider does not jump while playing.
        self.label.setMinimumWidth(
            self.label.fontMetrics().horizontalAdvance(f"Step {length:,} / {length:,}")
        )
        self.seek(length if at_end else min(self._frame, length), pause=False)

    def seek(self, frame: int, *, pause: bool = True) -> None:
        """Show step ``frame`` (pausing unless told otherwise)."""
        if pause:
            self.pause()
        self._frame = max(0, min(frame, self._length))
        self._sync()
        self.frame_changed.emit(self._frame)

    def play(self) -> None:
        """Animate from the step shown (from the start when at the end)."""
        if self._frame >= self._length:
            self.seek(0, pause=False)
        speed = self.speed_combo.currentData()
        self._timer.start(max(TICK_MS, round(1000 / speed)))
        self._sync()

    def pause(self) -> None:
        """Stop where it is."""
        self._timer.stop()
        self._sync()

    def toggle_playing(self) -> None:
        """Play or pause."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        """Pause and show one more step."""
        self.seek(self._frame + 1)

    def reset(self) -> None:
        """Pause and show only the start point."""
        self.seek(0)

    def _on_timer_timeout(self) -> None:
        speed = self.speed_combo.currentData()
        self.seek(self._frame + max(1, round(speed * self._timer.interval() / 1000)), pause=False)
        if self._frame >= self._length:
            self.pause()

    def _on_speed_combo_changed(self, index: int) -> None:
        if self.playing:
            self.play()

    def _on_slider_value_changed(self, value: int) -> None:
        self.seek(value)

    def _sync(self) -> None:
        playing = self.playing
        self.play_button.setText("Pause" if playing else "Play")
        pixmap = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(pixmap))
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._frame)
        self.label.setText(f"Step {self._frame:,} / {self._length:,}")
