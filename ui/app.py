"""Entry point of the ``dllab`` command: the desktop app with no arguments, the command line otherwise.

The command line (``dllab.cli.main``) is imported before anything from Qt, so ``dllab train ...`` on a machine
without a screen never loads PySide6. Before the window, :func:`ui.common.qt_platform.platform_problem` checks
that Qt's X11 plugin finds its system libraries; when some are missing, ``dllab`` prints one line naming them
and the command that installs them, instead of Qt's abort.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt stays unimported until the window is wanted
    from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    """Open the desktop lab, or run a ``dllab`` subcommand when arguments are given."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv:
        previous = signal.getsignal(signal.SIGINT)
        # Only Python's own handler is replaced (a Ctrl-C that the shell has us ignore stays ignored), and only
        # where handlers can be set: on the main thread.
        replaced = (
            previous is signal.default_int_handler and threading.current_thread() is threading.main_thread()
        )
        if replaced:
            signal.signal(signal.SIGINT, _interrupted_while_starting)
        try:
            from dllab.cli.main import main as run_command  # numpy and the engine: the slow part of starting
        except ImportError as exc:
            print(f"dllab: the command line is not available ({exc})", file=sys.stderr)
            return 2
        finally:
            if replaced:
                signal.signal(signal.SIGINT, previous)  # cli.main handles Ctrl-C from here on
        return int(run_command(argv) or 0)
    return run_app()


def _interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C while the command line's modules load: leave at once, with nothing to lose yet.

    Raised there, the interrupt could surface inside the import machinery as another error (Python wraps it
    in a RuntimeError when it falls in a class's ``__set_name__``) and print a traceback, or be swallowed by a
    library's ``except Exception`` around an optional import, leaving a module half made.
    """
    with contextlib.suppress(OSError):  # no stderr to tell
        os.write(2, b"\ndllab: interrupted\n")
    os._exit(130)


def share_cores_with_training() -> int:
    """Set how the window's process uses the cores, so that the window stays quick while a network trains.

    - The numerical libraries use every core but one, so the window keeps a core. Comparisons and searches train
      in a worker thread of the window's process (unless they use processes) while the GUI thread draws. BLAS
      libraries (OpenBLAS) spin their own threads on every core for each matrix product; when the GUI thread
      wakes up on one of those cores, the product stalls until it is scheduled again, and small products (an
      MLP's) become many times slower. (The Train button trains in a process of its own instead, on every core
      at a lower priority: :mod:`ui.training.process`.)
    - Qt paints on the GUI thread alone (``QT_NO_GUI_THREADPOOL``). Left to itself, its raster engine hands every
      fill of 96 rows or more (a histogram's area in a large window) to a pool of threads and waits for them to
      start and finish: a canvas of twenty histograms took 9.5 ms to paint on an idle machine and 16 ms beside
      a busy program, 5.5 and 6 ms without the pool.

    Only works before numpy is first imported and Qt first paints; a setting already in the environment is
    kept. Returns the BLAS thread count set.
    """
    threads = max(1, (os.cpu_count() or 1) - 1)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    # The window's threads may compute at the same time: dllab computes on no threads of its own here
    # (dllab.cores; the training process, started with its own counts, does).
    os.environ.setdefault("DLLAB_THREADS", "1")
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    return threads


def run_app() -> int:
    """Create the application, show the main window and run until it closes.

    An error that escapes a Qt slot is shown in a dialog (:class:`ui.common.dialogs.ErrorReporter`, the
    ``sys.excepthook`` while the app runs): a user's damaged file or bad setting as its sentence, a bug as an
    internal error whose traceback also goes to stderr.
    """
    from ui.common.qt_platform import platform_problem

    problem = platform_problem()  # before Qt, which would abort with a page about platform plugins
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    share_cores_with_training()
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from ui.common.dialogs import ErrorReporter

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    reporter = ErrorReporter(app)
    reporter.install()

    from ui.common.garbage import set_aside_what_lives
    from ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    set_aside_what_lives()
    window.show_welcome_on_first_launch()
    try:
        return app.exec()
    finally:
        reporter.uninstall()


def configure_application(app: QApplication) -> None:
    """Names, icon, Fusion style, the theme that follows the system's colour scheme, and Python's cyclic
    garbage collected on the GUI thread. (pyqtgraph's defaults are set where the app imports it,
    :mod:`ui.common.plotting`, when the first view that plots is built.)"""
    from PySide6.QtGui import QGuiApplication

    from ui.common import settings, theme
    from ui.common.garbage import GarbageCollector
    from ui.common.icons import app_icon

    # Left to itself, the collector runs in whichever thread allocates, and a Qt object it frees from a worker
    # thread aborts the app or deadlocks it: collect on a timer of the GUI thread instead (kept by the app).
    GarbageCollector(interval=1.0, parent=app)

    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("dllab")
    app.setWindowIcon(app_icon())
    theme.apply_theme(app, settings.theme_preference())

    def on_color_scheme_changed(*_: object) -> None:
        if settings.theme_preference() == "system":
            theme.apply_theme(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(on_color_scheme_changed)


if __name__ == "__main__":
    raise SystemExit(main())
