"""Loading a dataset off the GUI thread: a job on a ``QThread`` that reports progress and can be cancelled.

The job calls :meth:`dllab.experiment.DataSettings.load` (:func:`dllab.data.load_dataset`, which downloads
MNIST and friends when needed, checking ``cancel`` between chunks, and decodes an image folder, checking it
between files) and turns its progress callback into a signal, at most about 20 times a second.
Only one load runs at a time; starting another cancels the one before, whose result is then ignored. A load
that fails hands its exception to the GUI thread (:attr:`DatasetLoader.failed`), which tells a user's bad
file (a :class:`~dllab.errors.DllabError` or an ``OSError``) from a bug.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from dllab.data import Dataset, LoadCancelled
from dllab.experiment import DataSettings

PROGRESS_INTERVAL_S = 0.05


@dataclass(frozen=True)
class LoadRequest:
    """What to load: the data settings that name the source and how a generated set or an image folder is made
    (:meth:`DataSettings.load` reads only those), and what follows the load."""

    settings: DataSettings
    fit_network: bool = True
    """Whether the network should follow the dataset once it is loaded (False at start-up)."""

    @property
    def source(self) -> str:
        """The built-in name or the path loaded."""
        return self.settings.source


class _LoadJob(QObject):
    """Runs one request in the worker thread and reports through signals."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    def __init__(self, request: LoadRequest, cancel_event: threading.Event) -> None:
        super().__init__()
        self._request = request
        self._cancel = cancel_event
        self._last_report = 0.0

    def _report(self, done: int, total: int | None, message: str) -> None:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL_S or (total is not None and done >= total):
            self._last_report = now
            self.progressed.emit(int(done), -1 if total is None else int(total), message)

    @Slot()
    def run(self) -> None:
        try:
            dataset = self._request.settings.load(progress=self._report, cancel=self._cancel.is_set)
        except LoadCancelled:
            self.cancelled.emit()
        except Exception as exc:  # the GUI thread tells a bad file from a bug; the thread must end cleanly
            self.failed.emit(exc)
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(dataset)
        finally:
            self.done.emit()


class DatasetLoader(QObject):
    """Loads datasets one at a time in a background thread."""

    load_started = Signal(object)
    """A request (:class:`LoadRequest`) started."""
    progressed = Signal(int, int, str)
    """Bytes done, bytes in all (-1 when unknown), and a message such as the file being downloaded."""
    loaded = Signal(object, object)
    """The request and the :class:`dllab.data.Dataset` it produced."""
    failed = Signal(object, object)
    """The request and the exception: a :data:`ui.common.dialogs.USER_ERRORS` (a bad file or folder, a download that
    failed) whose message is one sentence, or anything else for a bug."""
    cancelled = Signal(object)
    """The request was cancelled; nothing was kept."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: _LoadJob | None = None
        self._cancel: threading.Event | None = None
        self._request: LoadRequest | None = None

    @property
    def busy(self) -> bool:
        """Whether a load is in progress."""
        return self._request is not None

    @property
    def request(self) -> LoadRequest | None:
        """The request in progress."""
        return self._request

    def load(self, request: LoadRequest) -> None:
        """Start loading ``request`` in the background, cancelling any load in progress."""
        self.cancel()
        self._finish_thread()
        cancel = threading.Event()
        thread = QThread(self)
        thread.setObjectName("dataset-loader")
        job = _LoadJob(request, cancel)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.progressed.connect(self._on_job_progressed)
        job.succeeded.connect(self._on_job_succeeded)
        job.failed.connect(self._on_job_failed)
        job.cancelled.connect(self._on_job_cancelled)
        job.done.connect(thread.quit)
        self._thread, self._job, self._cancel, self._request = thread, job, cancel, request
        self.load_started.emit(request)
        thread.start()

    def load_now(self, request: LoadRequest) -> None:
        """Load ``request`` in this thread (for generated 2D sets, which take milliseconds)."""
        self.cancel()
        self._request = request
        self.load_started.emit(request)
        try:
            dataset = request.settings.load()
        except Exception as exc:  # handed over like a background load's
            self._request = None
            self.failed.emit(request, exc)
        else:
            self._request = None
            self.loaded.emit(request, dataset)

    def cancel(self) -> None:
        """Cancel the load in progress (a download stops between chunks, an image folder between files;
        nothing partial is kept)."""
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel and wait for the worker thread (when the window closes)."""
        self.cancel()
        self._finish_thread(timeout_ms)

    def _finish_thread(self, timeout_ms: int = 10_000) -> None:
        thread = self._thread
        if thread is not None:
            thread.quit()
            thread.wait(timeout_ms)
            thread.deleteLater()
        self._thread = self._job = self._cancel = None
        self._request = None

    def _is_current(self) -> bool:
        return self.sender() is self._job and self._job is not None

    def _on_job_progressed(self, done: int, total: int, message: str) -> None:
        if self._is_current():
            self.progressed.emit(done, total, message)

    def _on_job_succeeded(self, dataset: Dataset) -> None:
        if self._is_current():
            request, self._request = self._request, None
            self.loaded.emit(request, dataset)

    def _on_job_failed(self, error: Exception) -> None:
        if self._is_current():
            request, self._request = self._request, None
            self.failed.emit(request, error)

    def _on_job_cancelled(self) -> None:
        if self._is_current():
            request, self._request = self._request, None
            self.cancelled.emit(request)
