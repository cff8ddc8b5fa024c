"""The Training panel: the run controls (Train/Stop, Pause, Step) with a progress bar, the optimizer and its
hyperparameters, the learning-rate schedule and its own, batch size, epochs and seed, and the saved model a run
may start from (its layers whose names and shapes match give their weights: transfer learning, as
:func:`dllab.transfer.build_started` does it; after a run starts, what was copied, frozen and new shows under
it). Each hyperparameter gets
the editor of :func:`ui.common.setting_editor.add_editor_row` (log-scaled ones, such as the learning rate, a slider
across the decades with an exact field). The settings are saved with the design (:meth:`ui.state.AppState.design_document`).

Train is enabled only when the engine can build the network and the data fit it; otherwise its tooltip and
the line under it say why. Pressing it asks the state to start (:meth:`ui.state.AppState.request_training`,
which emits ``train_requested``); the :class:`ui.training.controller.TrainingController` runs the training
and sets ``training_active`` while it runs (the button then reads Stop and emits ``stop_requested``). Pause
and Step talk to the controller, whose progress fills the bar.

While a run trains the network and the other settings are locked, but the optimizer's hyperparameters (the
learning rate, weight decay, ...) stay editable: a value committed then changes the running network's optimizer
from its next mini-batch (:meth:`ui.training.controller.TrainingController.change_settings`), not the design,
whose values come back when the run ends; the run's ``config.json`` records the change at its step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dllab import optimizers, schedules
from dllab.errors import DllabError
from dllab.io import read_model_info
from dllab.runs import runs_root
from dllab.settings import Setting
from ui.common import dialogs
from ui.common.formatting import humanize
from ui.common.icons import action_icon
from ui.common.scroll_panel import scroll_body
from ui.common.setting_editor import SettingEditor, add_editor_row
from ui.common.widgets import (
    ProgressBar,
    add_section_form,
    add_section_title,
    error_label,
    hint_label,
    let_shrink,
    section_title,
    style_form,
)
from ui.state import AppState

if TYPE_CHECKING:
    from ui.training.controller import Progress, TrainingController
    from ui.training.session import SessionStarted

SCHEDULE_TITLES = {
    "constant": "Constant",
    "step": "Step decay",
    "exponential": "Exponential decay",
    "inverse_time": "Inverse time decay",
    "cosine": "Cosine decay",
}
LOCKED_SETTINGS = (
    "The network and the other settings are locked while the network trains; the optimizer's settings change "
    "the run from its next mini-batch (the design keeps its own)."
)
MODEL_FILTERS = "dllab models (*.dllab.npz *.npz);;All files (*)"
FRESH_START = "Fresh weights: every layer starts from its initialiser."


def _choice_section(
    layout: QVBoxLayout, body: QWidget, registry: Mapping[str, Any], title: Callable[[str], str]
) -> tuple[QComboBox, QLabel, QFormLayout]:
    """A combo box of the ``registry``'s entries (their ``DESCRIPTION`` as tooltips), a hint under it and a form
    for the chosen entry's settings, added to ``layout``."""
    combo = let_shrink(QComboBox(body))
    for name, cls in registry.items():
        combo.addItem(title(name), name)
        combo.setItemData(combo.count() - 1, cls.DESCRIPTION, Qt.ItemDataRole.ToolTipRole)
    layout.addWidget(combo)
    hint = hint_label("", body)
    layout.addWidget(hint)
    host = QWidget(body)
    form = QFormLayout(host)
    form.setContentsMargins(0, 0, 0, 0)
    style_form(form)
    layout.addWidget(host)
    return combo, hint, form


class TrainingPanel(QScrollArea):
    """The Training dock's content."""

    def __init__(
        self, state: AppState, parent: QWidget | None = None, controller: TrainingController | None = None
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._controller: TrainingController | None = None
        body, layout = scroll_body(self)

        # The Train button comes first, so it is visible in a short dock.
        self.train_button = QPushButton("Train", body)
        self.train_button.setObjectName("trainButton")
        self.train_button.setIcon(action_icon("train_on_accent"))
        self.train_button.setIconSize(QSize(16, 16))
        self.train_button.setMinimumHeight(36)
        self.train_button.clicked.connect(self._on_train_button_clicked)
        self.pause_button = QPushButton("Pause", body)
        self.pause_button.setIcon(action_icon("pause"))
        self.pause_button.setMinimumHeight(36)
        self.pause_button.setToolTip("Pause after the current batch; press again to go on.")
        self.pause_button.clicked.connect(self._on_pause_button_clicked)
        self.step_button = QPushButton("Step", body)
        self.step_button.setIcon(action_icon("step"))
        self.step_button.setMinimumHeight(36)
        self.step_button.setToolTip("While paused: train exactly one more mini-batch and pause again.")
        self.step_button.clicked.connect(self._on_step_button_clicked)
        for button in (self.pause_button, self.step_button):
            button.setMinimumWidth(
                64
            )  # not Qt's 80 pixels for a button with text: the row fits a narrow dock
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.train_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.step_button, 1)
        layout.addLayout(buttons)
        self.progress_bar = ProgressBar(body)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        layout.addWidget(self.progress_bar)
        self.progress_label = hint_label("", body)
        # Two lines, always: a text that wraps onto another line would lay the whole panel out again (and show
        # or hide its scroll bar, resizing every field) several times a second while training.
        self.progress_label.ensurePolished()
        self.progress_label.setFixedHeight(2 * self.progress_label.fontMetrics().lineSpacing() + 2)
        self.progress_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.progress_label)
        self.locked_label = hint_label(LOCKED_SETTINGS, body)
        self.locked_label.hide()
        layout.addWidget(self.locked_label)
        self.reason = error_label(body, hidden=False)
        layout.addWidget(self.reason)

        layout.addWidget(section_title("Optimizer", body))
        self.optimizer_combo, self.optimizer_hint, self.optimizer_form = _choice_section(
            layout, body, optimizers.OPTIMIZERS, lambda name: optimizers.OPTIMIZERS[name].__name__
        )
        self.optimizer_form_host = self.optimizer_form.parentWidget()
        self.optimizer_combo.activated.connect(self._on_optimizer_combo_activated)
        self.optimizer_error = error_label(body)
        layout.addWidget(self.optimizer_error)

        add_section_title(layout, "Learning-rate schedule", body)
        self.schedule_combo, self.schedule_hint, self.schedule_form = _choice_section(
            layout, body, schedules.SCHEDULES, lambda name: SCHEDULE_TITLES.get(name, humanize(name))
        )
        self.schedule_form_host = self.schedule_form.parentWidget()
        self.schedule_combo.activated.connect(self._on_schedule_combo_activated)
        self.schedule_error = error_label(body)
        layout.addWidget(self.schedule_error)

        run_form = add_section_form(layout, "Run", body)
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
        self.human_error_spin = QDoubleSpinBox(body)
        self.human_error_spin.setRange(0.0, 99.9)
        self.human_error_spin.setDecimals(1)
        self.human_error_spin.setSingleStep(0.5)
        self.human_error_spin.setSuffix(" %")
        self.human_error_spin.setToolTip(
            "Human-level error: your estimate of the lowest error possible (Bayes error). Training error above "
            "it is avoidable bias; the Curves view reads the fit against it."
        )
        for spin in (self.batch_spin, self.epochs_spin, self.seed_spin, self.human_error_spin):
            spin.setKeyboardTracking(False)
        run_form.addRow("Batch size", self.batch_spin)
        run_form.addRow("Epochs", self.epochs_spin)
        run_form.addRow("Seed", self.seed_spin)
        run_form.addRow("Human-level error", self.human_error_spin)
        self.batch_spin.valueChanged.connect(lambda v: state.set_training_settings(batch_size=int(v)))
        self.epochs_spin.valueChanged.connect(lambda v: state.set_training_settings(epochs=int(v)))
        self.seed_spin.valueChanged.connect(lambda v: state.set_training_settings(seed=int(v)))
        self.human_error_spin.valueChanged.connect(
            lambda v: state.set_training_settings(human_error=round(v / 100, 6))
        )

        add_section_title(layout, "Starting weights", body)
        self.init_label = QLabel(FRESH_START, body)
        self.init_label.setWordWrap(True)
        self.init_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.init_label)
        self.init_error = error_label(body)
        layout.addWidget(self.init_error)
        self.init_button = QPushButton("Start from a saved model…", body)
        self.init_button.setToolTip(
            "Transfer learning: the layers whose names and shapes match a layer of a saved model (.dllab.npz) "
            "start from its weights, the others (a new head) from their initialisers. Freeze layers with a "
            "right-click in the Network panel."
        )
        self.init_button.clicked.connect(self._on_init_button_clicked)
        self.init_clear_button = QPushButton("Clear", body)
        self.init_clear_button.setToolTip("Start from fresh weights again.")
        self.init_clear_button.clicked.connect(lambda: state.set_training_settings(init_from=None))
        self.init_clear_button.setMinimumWidth(60)
        init_buttons = QHBoxLayout()
        init_buttons.setSpacing(6)
        init_buttons.addWidget(self.init_button, 1)
        init_buttons.addWidget(self.init_clear_button)
        layout.addLayout(init_buttons)
        self.init_report = hint_label("", body)
        self.init_report.hide()
        layout.addWidget(self.init_report)
        self._init_shown: str | None = None
        layout.addStretch(1)

        self.parameter_editors: dict[str, SettingEditor] = {}
        self.schedule_editors: dict[str, SettingEditor] = {}
        state.training_settings_changed.connect(self._on_state_training_settings_changed)
        state.readiness_changed.connect(self._on_state_readiness_changed)
        state.training_active_changed.connect(self._on_state_training_active_changed)
        self._on_state_training_settings_changed()
        self._on_state_readiness_changed()
        self._update_run_buttons()
        if controller is not None:
            self.attach(controller)

    def attach(self, controller: TrainingController) -> None:
        """Control runs through ``controller`` (Pause, Step) and show its progress."""
        self._controller = controller
        controller.progressed.connect(self._on_controller_progressed)
        controller.paused_changed.connect(self._on_controller_paused_changed)
        controller.change_refused.connect(self._on_controller_change_refused)
        controller.run_started.connect(self._on_controller_run_started)
        self._on_controller_progressed(controller.progress)

    # --- optimizer and schedule -----------------------------------------------------------------------------

    def _on_optimizer_combo_activated(self, row: int) -> None:
        self._state.set_training_settings(optimizer=self.optimizer_combo.itemData(row))

    def _on_schedule_combo_activated(self, row: int) -> None:
        self._state.set_training_settings(schedule=self.schedule_combo.itemData(row))

    def _on_optimizer_parameter_changed(self, name: str, value: float | None) -> None:
        controller = self._controller
        if self._state.training_active and controller is not None:
            controller.change_settings({name: value})  # the running network's, not the design's
        else:
            self._state.set_hyperparameter(name, value)

    def _on_controller_change_refused(self, message: str) -> None:
        self.optimizer_error.setText(message[:1].upper() + message[1:])
        self.optimizer_error.show()

    def _on_schedule_parameter_changed(self, name: str, value: float | None) -> None:
        self._state.set_schedule_parameter(name, value)

    def _show_editors(
        self,
        form: QFormLayout,
        editors: dict[str, SettingEditor],
        settings: Sequence[Setting],
        values: Mapping[str, float | None],
        on_change: Callable[[str, float | None], None],
    ) -> None:
        """Show ``values`` in ``editors``; where they edit other ``settings`` (another optimizer or schedule was
        chosen), first make ``form`` anew, one editor a setting."""
        if [editor.setting for editor in editors.values()] == list(settings):
            for name, editor in editors.items():
                editor.set_value(values.get(name, editor.setting.default))
            return
        while form.rowCount():
            form.removeRow(0)
        editors.clear()
        for setting in settings:
            editor = add_editor_row(form, setting, values.get(setting.name, setting.default))
            editor.committed.connect(lambda value, name=setting.name: on_change(name, value))
            editor.error_changed.connect(self._show_errors)
            editors[setting.name] = editor

    def _on_state_training_settings_changed(self) -> None:
        t = self._state.training
        with QSignalBlocker(self.optimizer_combo):
            self.optimizer_combo.setCurrentIndex(self.optimizer_combo.findData(t.optimizer))
        with QSignalBlocker(self.schedule_combo):
            self.schedule_combo.setCurrentIndex(self.schedule_combo.findData(t.schedule))
        schedule = schedules.SCHEDULES[t.schedule]
        for chosen, hint, form, editors, values, on_change in (
            (
                optimizers.OPTIMIZERS[t.optimizer],
                self.optimizer_hint,
                self.optimizer_form,
                self.parameter_editors,
                t.hyperparameters,
                self._on_optimizer_parameter_changed,
            ),
            (
                schedule,
                self.schedule_hint,
                self.schedule_form,
                self.schedule_editors,
                t.schedule_params.get(t.schedule, {}),
                self._on_schedule_parameter_changed,
            ),
        ):
            hint.setText(chosen.DESCRIPTION)
            self._show_editors(form, editors, chosen.SETTINGS, values, on_change)
        self.schedule_form_host.setVisible(bool(schedule.SETTINGS))
        for spin, value in (
            (self.batch_spin, t.batch_size),
            (self.epochs_spin, t.epochs),
            (self.seed_spin, t.seed),
            (self.human_error_spin, t.human_error * 100),
        ):
            with QSignalBlocker(spin):
                spin.setValue(value)
        self._show_init_from(t.init_from)
        self._show_errors()

    def _show_errors(self) -> None:
        """Under the optimizer and under the schedule: why a value typed is refused, or else why the engine
        refuses the settings held (a design file may hold any number)."""
        for label, editors, make in (
            (self.optimizer_error, self.parameter_editors, self._state.make_optimizer),
            (self.schedule_error, self.schedule_editors, self._state.make_schedule),
        ):
            message = next((editor.error for editor in editors.values() if editor.error), "")
            if not message:
                try:
                    make()
                except ValueError as exc:
                    message = str(exc)
            label.setText(message[:1].upper() + message[1:])
            label.setVisible(bool(message))

    # --- the starting weights -------------------------------------------------------------------------------

    def _on_init_button_clicked(self) -> None:
        current = self._state.training.init_from
        start = Path(current).parent if current else runs_root()
        path = dialogs.get_open_path(self, "Start from a saved model", str(start), MODEL_FILTERS)
        if path is None:
            return
        with dialogs.report_user_errors(self, "Cannot start from this model"):
            info = read_model_info(path)
            self._state.set_training_settings(init_from=str(Path(info["path"]).resolve()))

    def _show_init_from(self, init_from: str | None) -> None:
        """Name the model a run starts from (read again only when another is chosen), or say that runs start
        from fresh weights; what the last run copied goes once another model is chosen."""
        if init_from == self._init_shown:
            return
        self._init_shown = init_from
        self.init_report.hide()
        self.init_clear_button.setEnabled(init_from is not None)
        problem = ""
        if init_from is None:
            self.init_label.setText(FRESH_START)
            self.init_label.setToolTip("")
        else:
            name = Path(init_from).name
            try:
                info = read_model_info(init_from)
            except DllabError as error:
                problem = f"{name} cannot be read: {error}."
                text = f"From {name}"
            else:
                network = info["spec"].get("name") or "a network"
                text = f"From {network} ({name}): its layers whose names and shapes match start from its weights."
            self.init_label.setText(text)
            self.init_label.setToolTip(init_from)
        self.init_error.setText(problem)
        self.init_error.setVisible(bool(problem))

    def _on_controller_run_started(self, started: SessionStarted) -> None:
        report = started.transfer
        if report is not None:
            self.init_report.setText("This run: " + "; ".join(report.lines()) + ".")
        self.init_report.setVisible(report is not None)

    # --- the Train button -----------------------------------------------------------------------------------

    def _on_train_button_clicked(self) -> None:
        if self._state.training_active:
            self._state.request_stop()  # while the run is ending, this skips its test evaluation
        else:
            self._state.request_training()

    def _on_state_readiness_changed(self) -> None:
        active = self._state.training_active
        blocker = self._state.training_blocker()
        if active:
            self.train_button.setEnabled(True)
            self.reason.hide()
            self._update_run_buttons()
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
        if not active:  # the values the run was changed to go; the design's come back
            self._on_state_training_settings_changed()
        for widget in (
            self.optimizer_combo,
            self.schedule_combo,
            self.schedule_form_host,
            self.batch_spin,
            self.epochs_spin,
            self.seed_spin,
            self.init_button,
        ):
            widget.setEnabled(not active)
        self.init_clear_button.setEnabled(not active and self._state.training.init_from is not None)
        self.locked_label.setVisible(active)
        self._on_state_readiness_changed()
        self._update_run_buttons()

    # --- pause, step and progress ---------------------------------------------------------------------------

    def _on_pause_button_clicked(self) -> None:
        if self._controller is not None:
            self._controller.toggle_pause()

    def _on_step_button_clicked(self) -> None:
        if self._controller is not None:
            self._controller.step()

    def _on_controller_paused_changed(self, paused: bool) -> None:
        self._update_run_buttons()

    def _update_run_buttons(self) -> None:
        controller = self._controller
        active = self._state.training_active and controller is not None and controller.running
        ending = active and controller is not None and controller.progress.ending
        pausing = active and controller is not None and controller.pause_requested
        paused = active and controller is not None and controller.paused
        if self._state.training_active:
            self.train_button.setText("Skip" if ending else "Stop")
            self.train_button.setToolTip(
                "End the run now, without evaluating it on the test set."
                if ending
                else "Stop training after the current batch; the test set is evaluated next (Stop again skips it)."
            )
        self.pause_button.setEnabled(active and not ending)
        self.pause_button.setText("Resume" if pausing else "Pause")
        self.pause_button.setIcon(action_icon("train" if pausing else "pause"))
        self.step_button.setEnabled(paused and not ending)

    def _on_controller_progressed(self, progress: Progress) -> None:
        self.progress_bar.setValue(round(progress.fraction * 1000))
        self.progress_bar.setVisible(progress.state != "idle")
        self.progress_label.setText(progress.text() if progress.state != "idle" else "")
        self.progress_label.setVisible(progress.state != "idle")
        self._update_run_buttons()
