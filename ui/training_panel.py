"""The Training panel: optimizer and its hyperparameters, learning-rate schedule, batch size, epochs, seed,
and the Train button.

Train is enabled only when the engine can build the network and the data fit it; otherwise its tooltip and
the line under it say why. Pressing it asks the state to start (:meth:`ui.state.AppState.request_training`,
which emits ``train_requested``); running the training is the job of the training worker, which sets
``training_active`` while it runs (the button then reads Stop and emits ``stop_requested``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dllab import optimizers, schedules
from dllab.optimizers import Hyperparameter
from ui.formatting import humanize
from ui.icons import action_icon
from ui.state import AppState
from ui.widgets import FloatSpinBox, hint_label, section_title, style_form

OPTIMIZER_TITLES = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSprop",
    "adadelta": "AdaDelta",
    "adam": "Adam",
    "adamw": "AdamW",
}
SCHEDULE_TITLES = {
    "constant": "Constant",
    "step": "Step decay",
    "exponential": "Exponential decay",
    "inverse_time": "Inverse time decay",
    "cosine": "Cosine decay",
}
PARAMETER_TITLES = {
    "lr": "Learning rate",
    "beta1": "β1",
    "beta2": "β2",
    "eps": "ε",
    "rho": "ρ",
    "clip_norm": "Clip norm",
    "min_lr": "Minimum rate",
}


def parameter_title(name: str) -> str:
    """Display name of a hyperparameter: ``"lr"`` -> ``"Learning rate"``."""
    return PARAMETER_TITLES.get(name, humanize(name))


class ParameterEditor(QWidget):
    """An editor for one :class:`dllab.optimizers.Hyperparameter`: a spin box (1-2-5 steps on a log scale),
    and for optional ones a check box that switches it on."""

    def __init__(
        self,
        hyper: Hyperparameter,
        value: float | None,
        on_change: Callable[[str, float | None], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._hyper = hyper
        self._on_change = on_change
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.check: QCheckBox | None = None
        if hyper.optional:
            self.check = QCheckBox(self)
            self.check.setToolTip("Switch on")
            layout.addWidget(self.check)
        if hyper.integer:
            self.spin: QSpinBox | FloatSpinBox = QSpinBox(self)
            self.spin.setRange(max(0, int(hyper.minimum)), max(int(hyper.maximum) * 10, 1000))
            self.spin.setKeyboardTracking(False)
        else:
            self.spin = FloatSpinBox(log_scale=hyper.log_scale, parent=self)
            self.spin.setRange(0.0, max(hyper.maximum * 100, 1e6))
        self.spin.setToolTip(hyper.help)
        layout.addWidget(self.spin, 1)
        self.set_value(value)
        self.spin.valueChanged.connect(self._on_spin_value_changed)
        if self.check is not None:
            self.check.toggled.connect(self._on_check_toggled)

    def set_value(self, value: float | None) -> None:
        """Show ``value`` (None: switched off) without reporting a change."""
        with QSignalBlocker(self.spin):
            shown = value if value is not None else (self._hyper.default or self._hyper.minimum)
            self.spin.setValue(shown if not self._hyper.integer else int(shown))
        if self.check is not None:
            with QSignalBlocker(self.check):
                self.check.setChecked(value is not None)
            self.spin.setEnabled(value is not None)

    def value(self) -> float | None:
        """The value shown (None when an optional parameter is off)."""
        if self.check is not None and not self.check.isChecked():
            return None
        return float(self.spin.value()) if not self._hyper.integer else int(self.spin.value())

    def _on_spin_value_changed(self) -> None:
        self._on_change(self._hyper.name, self.value())

    def _on_check_toggled(self, checked: bool) -> None:
        self.spin.setEnabled(checked)
        self._on_change(self._hyper.name, self.value())


class TrainingPanel(QScrollArea):
    """The Training dock's content."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(self)
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(8)

        # The Train button comes first, so it is visible in a short dock.
        self.train_button = QPushButton("Train", body)
        self.train_button.setObjectName("trainButton")
        self.train_button.setIcon(action_icon("train_on_accent"))
        self.train_button.setIconSize(QSize(16, 16))
        self.train_button.setMinimumHeight(36)
        self.train_button.clicked.connect(self._on_train_button_clicked)
        layout.addWidget(self.train_button)
        self.reason = QLabel(body)
        self.reason.setObjectName("errorText")
        self.reason.setWordWrap(True)
        layout.addWidget(self.reason)

        layout.addWidget(section_title("Optimizer", body))
        self.optimizer_combo = QComboBox(body)
        for name, cls in optimizers.OPTIMIZERS.items():
            self.optimizer_combo.addItem(OPTIMIZER_TITLES.get(name, name), name)
            self.optimizer_combo.setItemData(
                self.optimizer_combo.count() - 1, cls.DESCRIPTION, Qt.ItemDataRole.ToolTipRole
            )
        self.optimizer_combo.activated.connect(self._on_optimizer_combo_activated)
        layout.addWidget(self.optimizer_combo)
        self.optimizer_hint = hint_label("", body)
        layout.addWidget(self.optimizer_hint)
        self.optimizer_form_host = QWidget(body)
        self.optimizer_form = QFormLayout(self.optimizer_form_host)
        self.optimizer_form.setContentsMargins(0, 0, 0, 0)
        style_form(self.optimizer_form)
        layout.addWidget(self.optimizer_form_host)
        self.optimizer_error = QLabel(body)
        self.optimizer_error.setObjectName("errorText")
        self.optimizer_error.setWordWrap(True)
        self.optimizer_error.hide()
        layout.addWidget(self.optimizer_error)

        layout.addSpacing(4)
        layout.addWidget(section_title("Learning-rate schedule", body))
        self.schedule_combo = QComboBox(body)
        for name, cls in schedules.SCHEDULES.items():
            self.schedule_combo.addItem(SCHEDULE_TITLES.get(name, humanize(name)), name)
            self.schedule_combo.setItemData(
                self.schedule_combo.count() - 1, cls.DESCRIPTION, Qt.ItemDataRole.ToolTipRole
            )
        self.schedule_combo.activated.connect(self._on_schedule_combo_activated)
        layout.addWidget(self.schedule_combo)
        self.schedule_hint = hint_label("", body)
        layout.addWidget(self.schedule_hint)
        self.schedule_form_host = QWidget(body)
        self.schedule_form = QFormLayout(self.schedule_form_host)
        self.schedule_form.setContentsMargins(0, 0, 0, 0)
        style_form(self.schedule_form)
        layout.addWidget(self.schedule_form_host)

        layout.addSpacing(4)
        layout.addWidget(section_title("Run", body))
        run_form = QFormLayout()
        style_form(run_form)
        self.batch_spin = QSpinBox(body)
        self.batch_spin.setRange(1, 100_000)
        self.batch_spin.setToolTip("Samples per mini-batch: one gradient step each.")
        self.epochs_spin = QSpinBox(body)
        self.epochs_spin.setRange(1, 100_000)
        self.epochs_spin.setToolTip("Passes over the whole training set.")
        self.seed_spin = QSpinBox(body)
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip(
            "Seeds the initial weights, dropout and shuffling: the same seed, the same run."
        )
        for spin in (self.batch_spin, self.epochs_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
        run_form.addRow("Batch size", self.batch_spin)
        run_form.addRow("Epochs", self.epochs_spin)
        run_form.addRow("Seed", self.seed_spin)
        layout.addLayout(run_form)
        self.batch_spin.valueChanged.connect(lambda v: state.set_training_settings(batch_size=int(v)))
        self.epochs_spin.valueChanged.connect(lambda v: state.set_training_settings(epochs=int(v)))
        self.seed_spin.valueChanged.connect(lambda v: state.set_training_settings(seed=int(v)))
        layout.addStretch(1)

        self._optimizer_shown: str | None = None
        self._schedule_shown: str | None = None
        self.parameter_editors: dict[str, ParameterEditor] = {}
        self.schedule_editors: dict[str, ParameterEditor] = {}
        state.training_settings_changed.connect(self._on_state_training_settings_changed)
        state.readiness_changed.connect(self._on_state_readiness_changed)
        state.training_active_changed.connect(self._on_state_training_active_changed)
        self._on_state_training_settings_changed()
        self._on_state_readiness_changed()

    # --- optimizer and schedule -----------------------------------------------------------------------------

    def _on_optimizer_combo_activated(self, row: int) -> None:
        self._state.set_training_settings(optimizer=self.optimizer_combo.itemData(row))

    def _on_schedule_combo_activated(self, row: int) -> None:
        self._state.set_training_settings(schedule=self.schedule_combo.itemData(row))

    def _on_optimizer_parameter_changed(self, name: str, value: float | None) -> None:
        self._state.set_hyperparameter(name, value)

    def _on_schedule_parameter_changed(self, name: str, value: float | None) -> None:
        self._state.set_schedule_parameter(name, value)

    def _rebuild(
        self,
        form: QFormLayout,
        editors: dict[str, ParameterEditor],
        hypers: Sequence[Hyperparameter],
        values: Mapping[str, float | None],
        on_change: Callable[[str, float | None], None],
    ) -> None:
        while form.rowCount():
            form.removeRow(0)
        editors.clear()
        host = form.parentWidget()
        for hyper in hypers:
            editor = ParameterEditor(hyper, values.get(hyper.name, hyper.default), on_change, host)
            label = QLabel(parameter_title(hyper.name), host)
            label.setToolTip(hyper.help)
            form.addRow(label, editor)
            editors[hyper.name] = editor

    def _on_state_training_settings_changed(self) -> None:
        t = self._state.training
        with QSignalBlocker(self.optimizer_combo):
            self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(t.optimizer))
        with QSignalBlocker(self.schedule_combo):
            self.schedule_combo.setCurrentIndex(self.schedule_combo.findData(t.schedule))
        opt_cls = optimizers.OPTIMIZERS[t.optimizer]
        self.optimizer_hint.setText(opt_cls.DESCRIPTION)
        values = t.hyperparameters
        if self._optimizer_shown != t.optimizer:
            self._optimizer_shown = t.optimizer
            self._rebuild(
                self.optimizer_form,
                self.parameter_editors,
                opt_cls.HYPERPARAMETERS,
                values,
                self._on_optimizer_parameter_changed,
            )
        else:
            for name, editor in self.parameter_editors.items():
                editor.set_value(values.get(name))
        sched_cls = schedules.SCHEDULES[t.schedule]
        self.schedule_hint.setText(sched_cls.DESCRIPTION)
        sched_values = t.schedule_params.get(t.schedule, {})
        if self._schedule_shown != t.schedule:
            self._schedule_shown = t.schedule
            self._rebuild(
                self.schedule_form,
                self.schedule_editors,
                sched_cls.HYPERPARAMETERS,
                sched_values,
                self._on_schedule_parameter_changed,
            )
        else:
            for name, editor in self.schedule_editors.items():
                editor.set_value(sched_values.get(name))
        self.schedule_form_host.setVisible(bool(sched_cls.HYPERPARAMETERS))
        for spin, value in (
            (self.batch_spin, t.batch_size),
            (self.epochs_spin, t.epochs),
            (self.seed_spin, t.seed),
        ):
            with QSignalBlocker(spin):
                spin.setValue(value)
        try:
            self._state.make_optimizer()
            self._state.make_schedule()
        except ValueError as exc:
            self.optimizer_error.setText(str(exc))
            self.optimizer_error.show()
        else:
            self.optimizer_error.hide()

    # --- the Train button -----------------------------------------------------------------------------------

    def _on_train_button_clicked(self) -> None:
        if self._state.training_active:
            self._state.request_stop()
        else:
            self._state.request_training()

    def _on_state_readiness_changed(self) -> None:
        active = self._state.training_active
        blocker = self._state.training_blocker()
        if active:
            self.train_button.setEnabled(True)
            self.train_button.setToolTip("Stop training after the current batch.")
            self.reason.hide()
            return
        self.train_button.setEnabled(blocker is None)
        self.train_button.setToolTip(blocker or "Start training with these settings (F5).")
        self.reason.setText(blocker or "")
        self.reason.setVisible(blocker is not None)

    def _on_state_training_active_changed(self, active: bool) -> None:
        self.train_button.setText("Stop" if active else "Train")
        self.train_button.setIcon(action_icon("stop" if active else "train_on_accent"))
        self.train_button.setProperty("running", active)
        self.train_button.style().unpolish(self.train_button)
        self.train_button.style().polish(self.train_button)
        for widget in (
            self.optimizer_combo,
            self.optimizer_form_host,
            self.schedule_combo,
            self.schedule_form_host,
        ):
            widget.setEnabled(not active)
        self._on_state_readiness_changed()
