"""The design as a document: New, Open, Save, Save As, the examples, model files, autosave and recovery.

One :class:`DocumentController` per window. It asks about unsaved changes before anything replaces the
design, reads and writes design files, opens and exports models through the engine (``dllab.load``,
``dllab.save``, ``dllab.export_onnx``, imported when first needed), and keeps an autosave of unsaved work that
the next start offers back after a crash. Every question goes through :mod:`ui.common.dialogs`; results are told in
the status bar (``AppState.message_posted``).

Design files
------------
Save writes a *design file* (JSON, format ``dllab.design/1``): the engine's one description of the experiment
(:class:`dllab.experiment.Experiment`, written by :func:`dllab.experiment.design_document`): the network spec
under ``"network"``, unchanged, the data settings (``"data"``: the source, how a generated set is made, subset,
validation share, normalisation, augmentation), the training config (``"training"``, with the values the app
remembers for every optimizer and schedule beside it) and the seed::

    {"format": "dllab.design/1", "network": {"format": "dllab.network/1", ...}, "data": {"source": ...},
     "training": {"optimizer": ..., "lr": ..., ...}, "seed": 0}

The engine reads the network of a design file wherever it reads a network file (``dllab train design.json
--data mnist`` works) and the whole experiment with ``dllab train --config design.json``. Open reads design files
(older ones too), a run folder's ``config.json`` and experiment files, which restore the whole experiment, the
data source included, and plain network files (the examples, files written by hand or by the engine), which
keep the current settings. A file is read once, by :func:`dllab.experiment.read_network_document`: only a
regular file within the engine's limits of size and nesting, so a damaged, hostile or non-regular file becomes
one :class:`~dllab.spec.SpecError` whose sentence the dialog shows; invalid settings in it are one
:class:`~dllab.errors.SettingsError` and change nothing.
"""

from __future__ import annotations

import copy
import importlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

import dllab
from dllab.experiment import RUN_FORMAT, Experiment, read_network_document
from dllab.spec import FORMAT, SpecError
from ui.common import dialogs, settings
from ui.design import autosave
from ui.state import AppState

AUTOSAVE_DELAY_MS = 1500
NETWORK_FILTERS = "dllab designs, networks and run configs (*.json);;All files (*)"
MODEL_FILTERS = (
    "Models (*.dllab.npz *.npz *.onnx);;dllab models (*.dllab.npz *.npz);;ONNX models (*.onnx);;All files (*)"
)
BOOK_WEIGHTS_FILTERS = "Weights of Deep Learning from Scratch (*.pkl);;All files (*)"


def read_network_file(path: Path) -> dict[str, Any]:
    """The network spec in ``path``; raises ``SpecError`` when the file is not a network a builder can show.

    A spec the engine cannot build is fine (the builder marks the problem); a file without a list of layer
    entries is not, and neither is one that cannot be read (missing, not a regular file, too large, not
    JSON, nested too deep).
    """
    return read_design_file(path)[0]


def read_design_file(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The network spec in ``path`` and, for a design file, a run's ``config.json`` or an experiment file, the
    whole document (None for a plain network file).

    The file is read once. Raises ``SpecError`` like :func:`read_network_file`.
    """
    path = Path(path)
    network, document = read_network_document(path)
    spec = copy.deepcopy(network)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in layers
    ):
        raise SpecError(f"{path.name} is not a dllab network: it needs a list of layers, each with a 'type'")
    spec.setdefault("format", FORMAT)
    return spec, document


def _document_name(path: Path) -> str:
    """How messages name an opened file: a run's ``config.json`` with its run folder."""
    return f"{path.parent.name}/{path.name}" if path.name == "config.json" and path.parent.name else path.name


def _engine_function(name: str, module: str) -> Callable[..., Any]:
    """``dllab.<name>`` (or ``dllab.<module>.<name>``), imported only when first needed."""
    function = getattr(dllab, name, None)
    if function is None:
        function = getattr(importlib.import_module(f"dllab.{module}"), name)
    return function


class DocumentController(QObject):
    """Files, models, autosave and recovery for the design in ``state``; dialogs are parented to ``window``."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self._state = state
        self._window = window
        self._started_at = time.time()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self._on_autosave_timer_timeout)
        state.network_changed.connect(self._schedule_autosave)
        state.dirty_changed.connect(self._schedule_autosave)

    def _refuse_while_training(self) -> bool:
        """True (and the reason in the status bar) when a run is training, so the design cannot be replaced."""
        reason = self._state.edit_blocker()
        if reason is not None:
            self._state.post_message(reason)
            return True
        return False

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        if not self._state.is_dirty:
            return True
        answer = dialogs.ask_save_changes(self._window, self._state.document_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_network(self) -> bool:
        """Start an empty network (its input shape follows the loaded dataset)."""
        if self._refuse_while_training() or not self.maybe_save():
            return False
        dataset = self._state.dataset
        input_shape = list(dataset.input_shape) if dataset is not None else [2]
        if len(input_shape) not in (1, 3):
            input_shape = [math.prod(input_shape)]
        spec = {
            "format": FORMAT,
            "name": "Untitled",
            "input_shape": input_shape,
            "layers": [],
            "loss": "mse"
            if dataset is not None and dataset.task == "regression"
            else "softmax_cross_entropy",
        }
        self._state.load_network(spec)
        self._state.post_message("New network: drag layers from the Layers panel.")
        return True

    def open_network(self) -> bool:
        """Ask for a design or network file and open it."""
        return self._ask_and_open("Open network", NETWORK_FILTERS, self.open_network_file)

    def open_network_file(self, path: Path, *, ask: bool = True) -> bool:
        """Open the design, run config, experiment or network in ``path`` (asking about unsaved changes first
        unless ``ask`` is False).

        A design file, a run folder's ``config.json`` or an experiment file also brings its data and training
        settings back (:meth:`ui.state.AppState.apply_document`); settings that cannot be used change nothing.
        """
        if self._refuse_while_training() or (ask and not self.maybe_save()):
            return False
        try:
            spec, document = read_design_file(Path(path))
            if document is not None:
                self._state.apply_document(document, _document_name(Path(path)))
        except dialogs.USER_ERRORS as exc:
            dialogs.show_error(self._window, "Cannot open network", dialogs.error_sentence(exc))
            return False
        settings.add_recent_file(Path(path))
        if document is not None and document.get("format") == RUN_FORMAT:
            # A run's record is never overwritten: the experiment opens as a new design (Save asks where).
            self._state.load_network(spec)
            self._report_fit(f"Opened the experiment of the run {_document_name(Path(path))}.")
            return True
        self._state.load_network(spec, Path(path))
        self._report_fit(f"Opened {Path(path).name}.")
        return True

    def open_example(self, path: Path) -> bool:
        """Open an example network or experiment file as a new, unsaved design (Save asks where, the example
        stays intact); an experiment brings its data and training settings too."""
        return self._open_as_new(lambda: read_design_file(Path(path)), Path(path).name)

    def open_experiment(self, experiment: Experiment, name: str) -> bool:
        """Open ``experiment`` (network, data and training settings) as a new, unsaved design; ``name`` says
        which in messages."""
        return self._open_as_new(lambda: (dict(experiment.network), experiment.to_dict()), name)

    def _open_as_new(
        self, read: Callable[[], tuple[dict[str, Any], dict[str, Any] | None]], name: str
    ) -> bool:
        if self._refuse_while_training() or not self.maybe_save():
            return False
        try:
            spec, document = read()
            if document is not None:
                self._state.apply_document(document, name)
        except dialogs.USER_ERRORS as exc:
            dialogs.show_error(self._window, "Cannot open example", dialogs.error_sentence(exc))
            return False
        self._state.load_network(spec)
        self._report_fit(f"Opened the example {spec.get('name') or name}.")
        return True

    def _report_fit(self, opened: str) -> None:
        blocker = self._state.training_blocker()
        if blocker and self._state.analysis.ok:
            self._state.post_message(f"{opened} {blocker}")
        else:
            self._state.post_message(opened)

    def save(self) -> bool:
        """Save to the current file (or ask for one); True when saved."""
        if self._state.file_path is None:
            return self.save_as()
        return self._write_network(self._state.file_path)

    def save_as(self) -> bool:
        """Ask for a file and save the design there."""
        suggested = (
            self._state.file_path
            or Path(self._start_dir()) / f"{self._state.spec.get('name', 'network')}.json"
        )
        path = dialogs.get_save_path(self._window, "Save design", str(suggested), NETWORK_FILTERS)
        if path is None:
            return False
        if path.suffix.lower() != ".json":
            path = path.with_name(path.name + ".json")
        return self._write_network(path)

    def _write_network(self, path: Path) -> bool:
        try:
            autosave.write_text_atomically(path, self._state.design_json())
        except dialogs.USER_ERRORS as exc:
            dialogs.show_error(self._window, "Cannot save", dialogs.error_sentence(exc))
            return False
        self._state.mark_saved(path)
        settings.add_recent_file(path)
        autosave.remove_autosave()
        self._state.post_message(f"Saved {path.name}.")
        return True

    def _start_dir(self) -> str:
        if self._state.file_path is not None:
            return str(self._state.file_path.parent)
        recent = settings.recent_files()
        return str(recent[0].parent) if recent else str(Path.home())

    # --- models ---------------------------------------------------------------------------------------------

    def open_model(self) -> bool:
        """Ask for a model file and open it: its network becomes the design, its weights the current model."""
        return self._ask_and_open("Open model", MODEL_FILTERS, self.open_model_file)

    def _ask_and_open(self, caption: str, filters: str, open_file: Callable[..., bool]) -> bool:
        """Unless training or the user cancels saving, ask for a file and open it with ``open_file``.

        Parameters
        ----------
        caption, filters
            The Open dialog's title and file filters.
        open_file
            :meth:`open_network_file` or :meth:`open_model_file`.

        Returns
        -------
        bool
            Whether a file was opened.
        """
        if self._refuse_while_training() or not self.maybe_save():
            return False
        path = dialogs.get_open_path(self._window, caption, self._start_dir(), filters)
        return open_file(path, ask=False) if path is not None else False

    def open_model_file(self, path: Path, *, ask: bool = True) -> bool:
        """Load the model in ``path`` (a ``.dllab.npz`` model file, or an ``.onnx`` file the lab exported or whose
        operators map onto its layers); on failure say why in one sentence and change nothing."""

        def read(file: Path) -> Any:
            if Path(file).suffix.lower() == ".onnx":
                return _engine_function("load_onnx", "onnx_import")(file)
            return _engine_function("load", "io")(file)

        return self._open_model_with(path, ask, "Cannot open model", read, "Opened model")

    def import_book_weights(self) -> bool:
        """Ask for a weights file that "Deep Learning from Scratch" publishes (``.pkl``) and open it as a model."""
        return self._ask_and_open("Import book weights", BOOK_WEIGHTS_FILTERS, self.import_book_weights_file)

    def import_book_weights_file(self, path: Path, *, ask: bool = True) -> bool:
        """Import the book's weights in ``path`` (:func:`dllab.book_weights.import_book_weights`, which reads the
        pickle without running anything it names) as the current model; on failure say why in one sentence."""

        def read(file: Path) -> Any:
            return _engine_function("import_book_weights", "book_weights")(file).model

        return self._open_model_with(
            path, ask, "Cannot import book weights", read, "Imported the book's weights"
        )

    def _open_model_with(
        self, path: Path, ask: bool, title: str, read: Callable[[Path], Any], done: str
    ) -> bool:
        """Read a model with ``read(path)`` and make it current: its network becomes the design, its weights the
        model. A file that cannot be read is told in a dialog titled ``title`` and changes nothing."""
        if self._refuse_while_training() or (ask and not self.maybe_save()):
            return False
        try:
            model = read(path)
        except dialogs.USER_ERRORS as exc:  # the engine's errors say what is wrong with the file
            dialogs.show_error(self._window, title, dialogs.error_sentence(exc))
            return False
        self._state.load_network(dict(model.spec))
        self._state.set_model(model)
        self._state.post_message(f"{done} {Path(path).name}: {model.param_count:,} trained parameters.")
        return True

    def export_model_npz(self) -> bool:
        """Save the current model with its weights as ``.dllab.npz``."""
        return self._export("save", "io", "dllab model", "dllab models (*.dllab.npz)", ".dllab.npz")

    def export_model_onnx(self) -> bool:
        """Export the current model as ONNX."""
        return self._export("export_onnx", "onnx_export", "ONNX model", "ONNX models (*.onnx)", ".onnx")

    def _export(self, function: str, module: str, what: str, filters: str, suffix: str) -> bool:
        model = self._state.model
        if model is None:
            dialogs.show_info(
                self._window,
                "No model to export",
                "There is no trained model yet: train the network or open a model file first.",
            )
            return False
        name = str(getattr(model, "name", "model"))
        path = dialogs.get_save_path(
            self._window, f"Export {what}", str(Path(self._start_dir()) / f"{name}{suffix}"), filters
        )
        if path is None:
            return False
        if not path.name.lower().endswith(suffix):
            path = path.with_name(path.name + suffix)
        try:
            written = _engine_function(function, module)(model, path)
        except dialogs.USER_ERRORS as exc:  # the model stays; the user can try another place
            dialogs.show_error(
                self._window,
                "Export failed",
                f"Could not export the model to {path.name}. {dialogs.error_sentence(exc)}",
            )
            return False
        self._state.post_message(f"Exported {Path(written or path).name}.")
        return True

    # --- autosave and recovery -----------------------------------------------------------------------------------

    def _schedule_autosave(self, *_: object) -> None:
        self.autosave_timer.start()

    def _on_autosave_timer_timeout(self) -> None:
        self.autosave_now()

    def autosave_now(self) -> None:
        """Write the design to the autosave file when it has unsaved changes (remove the file otherwise)."""
        try:
            if self._state.is_dirty:
                autosave.write_autosave(self._state.spec, self._state.file_path)
            else:
                autosave.remove_autosave()
        except OSError as exc:
            self._state.post_message(f"Autosave failed: {exc}")

    def offer_recovery(self) -> bool:
        """Offer the design a crash left behind; True when it was restored."""
        store = settings.open_settings()
        last_clean = store.value(settings.KEY_CLEAN_EXIT)
        try:
            last_clean_exit = float(last_clean) if last_clean is not None else None
        except (TypeError, ValueError):
            last_clean_exit = None
        candidate = autosave.recovery_candidate(last_clean_exit)
        if candidate is None or candidate.saved_at >= self._started_at:  # not one this window wrote itself
            return False
        if not dialogs.ask_recover(self._window, candidate.name, candidate.saved_at_text):
            autosave.remove_autosave()
            return False
        self._state.load_network(candidate.spec, candidate.file_path, dirty=True)
        self._state.post_message(f"Recovered the unsaved design “{candidate.name}”. Save it to keep it.")
        return True

    def record_clean_exit(self) -> None:
        """The window is closing normally: drop the autosave and remember when, so it is not offered back."""
        self.autosave_timer.stop()
        autosave.remove_autosave()
        store = settings.open_settings()
        store.setValue(settings.KEY_CLEAN_EXIT, time.time())
        store.sync()
