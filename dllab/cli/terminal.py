"""A run on a text terminal: a progress bar with the time left, download progress, aligned tables, short
numbers and durations, and Ctrl-C that stops training cleanly.

>>> progress = ProgressBar(sys.stderr)                   # doctest: +SKIP
>>> with stop_on_interrupt(trainer.stop, sys.stderr):    # doctest: +SKIP
...     for event in trainer.run():
...         progress.handle(event)
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import numpy as np

from dllab.text import format_duration as format_duration  # re-exported: its home was here
from dllab.trainer import (
    BatchEnded,
    Diverged,
    EpochEnded,
    Event,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    SettingsChanged,
    Stopped,
)


def format_metric(value: float, digits: int = 4) -> str:
    """A loss or an accuracy with ``digits`` decimals (``"-"`` when missing or not finite)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.3g}"  # a diverging loss stays short


class ProgressBar:
    """Shows a training run's progress on a text stream.

    On a terminal it is one line rewritten in place (``\\r``) at most ``refresh`` times a second: epoch, a
    bar, the epoch's mean loss so far, the last validation accuracy, samples per second and the time left.
    On anything else (a log file, a pipe) it writes plain lines: one per epoch and one every ``interval``
    seconds in between. Every finished epoch gets a line of its own in both cases.

    Parameters
    ----------
    stream
        Where to write (usually ``sys.stderr``).
    label
        Text put before every line (e.g. a comparison's variant).
    tty
        Whether to rewrite one line; by default ``stream.isatty()``.
    interval
        Seconds between plain progress lines when not on a terminal.
    refresh
        Seconds between redraws on a terminal.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        label: str = "",
        tty: bool | None = None,
        interval: float = 10.0,
        refresh: float = 0.1,
    ) -> None:
        self.stream = stream
        self.label = label
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self.interval = interval
        self.refresh = refresh
        self._start = time.monotonic()
        self._last_draw = -math.inf
        self._width = 0
        self._epochs = 0
        self._total = 0
        self._epoch_losses: list[float] = []
        self._accuracy = math.nan
        self._last: BatchEnded | None = None

    def handle(self, event: Event) -> None:
        """Update the display for one trainer event."""
        now = time.monotonic()
        if isinstance(event, RunStarted):
            self._start, self._total = now, event.total_steps
            # With a step limit, the epochs that will actually run.
            self._epochs = min(event.epochs, -(-event.total_steps // max(event.batches_per_epoch, 1)))
            self._last_draw = now
        elif isinstance(event, BatchEnded):
            if event.batch == 1:
                self._epoch_losses = []
            self._epoch_losses.append(event.loss)
            self._last = event
            wait = self.refresh if self.tty else self.interval
            if now - self._last_draw >= wait:
                self._last_draw = now
                self._show(self._progress_line(now))
        elif isinstance(event, EpochEnded):
            self._accuracy = event.val_accuracy if math.isfinite(event.val_accuracy) else event.train_accuracy
            self._last_draw = now
            self._print(self._epoch_line(event))
        elif isinstance(event, Paused):
            self._print("paused")
        elif isinstance(event, Resumed):
            self._print("resumed")
        elif isinstance(event, SettingsChanged):
            self._print(f"step {event.step}: {event.text()}")
        elif isinstance(event, Finished | Stopped | Diverged):
            self.close()

    def _progress_line(self, now: float) -> str:
        last = self._last
        assert last is not None
        done = last.step / max(self._total, 1)
        elapsed = now - self._start
        eta = elapsed * (self._total - last.step) / last.step if last.step else math.nan
        bar_width = 20
        filled = int(done * bar_width)
        bar = "#" * filled + "." * (bar_width - filled)
        loss = float(np.mean(self._epoch_losses)) if self._epoch_losses else math.nan
        return (
            f"{self.label}epoch {last.epoch}/{self._epochs} [{bar}] {done:4.0%}  loss {format_metric(loss)}  "
            f"val acc {format_metric(self._accuracy, 3)}  {last.samples_per_second:,.0f} samples/s  ETA {format_duration(eta)}"
        )

    def _epoch_line(self, e: EpochEnded) -> str:
        best = "  *" if e.improved else ""
        train_dev = (
            f"  train-dev acc {format_metric(e.train_dev_accuracy, 3)}"
            if math.isfinite(e.train_dev_accuracy)
            else ""
        )
        return (
            f"{self.label}epoch {e.epoch}/{self._epochs}  loss {format_metric(e.train_loss)}  acc {format_metric(e.train_accuracy, 3)}"
            f"{train_dev}  val loss {format_metric(e.val_loss)}  val acc {format_metric(e.val_accuracy, 3)}  lr {e.lr:.3g}  "
            f"{e.samples_per_second:,.0f} samples/s  {format_duration(e.elapsed)}{best}"
        )

    def _show(self, line: str) -> None:
        if self.tty:
            padding = " " * max(self._width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _print(self, line: str) -> None:
        self.close()
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the in-place line (on a terminal)."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def download_progress(stream: TextIO) -> Callable[[int, int | None, str], None]:
    """A download progress callback that writes a line per 10 % (and per message)."""
    state = {"shown": -1, "message": ""}

    def report(done: int, total: int | None, message: str) -> None:
        tenth = int(10 * done / total) if total else -1
        if message != state["message"] or tenth > state["shown"]:
            state["message"], state["shown"] = message, tenth
            size = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
            stream.write(f"{message} ({size})\n")
            stream.flush()

    return report


@contextlib.contextmanager
def stop_on_interrupt(stop: Callable[[], None], stream: TextIO) -> Iterator[list[bool]]:
    """While active, Ctrl-C calls ``stop`` (training ends cleanly after the batch); a second one aborts.

    Yields a list that holds True once Ctrl-C was pressed. Outside the main thread (where signal handlers
    cannot be set) it does nothing.

    The signal handler only notes the press and wakes a thread of its own, which calls ``stop`` and says so on
    ``stream``: a handler runs in the main thread between two of its steps, maybe while that thread holds a lock
    that ``stop`` takes (a run control's events, the stream's buffer), and calling ``stop`` there would wait for
    that lock forever.
    """
    pressed: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    read_end, write_end = os.pipe()

    def relay() -> None:
        while os.read(read_end, 1) == _PRESSED:
            stream.write("\nstopping after this batch (press Ctrl-C again to abort)\n")
            stream.flush()
            stop()

    def handler(signum: int, frame: Any) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        os.write(write_end, _PRESSED)  # a system call: no lock taken

    relay_thread = threading.Thread(target=relay, name="dllab-ctrl-c", daemon=True)
    relay_thread.start()
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
        os.write(write_end, b"\0")  # the relay ends
        relay_thread.join()
        os.close(read_end)
        os.close(write_end)


#: What the Ctrl-C handler of :func:`stop_on_interrupt` sends its relay thread.
_PRESSED = b"s"


def printable(text: object) -> str:
    """``str(text)`` safe to print on a terminal: control characters (escape sequences that could retitle
    or clear the terminal, carriage returns, newlines) and invisible format characters (such as
    right-to-left overrides) are shown as escapes like ``\\x1b``.

    Everything a file can name (class names, run names, layer names, the text of an error about a file)
    goes through this before it is printed.

    Examples
    --------
    >>> printable("cat\\x1b]0;owned\\x07")
    'cat\\\\x1b]0;owned\\\\x07'
    >>> printable("Größe")
    'Größe'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def print_table(rows: Sequence[Sequence[str]], numeric_from: int, stream: TextIO) -> None:
    """Rows of text cells as aligned columns, the first row a header underlined with dashes.

    Columns from ``numeric_from`` on are aligned right, the others left; every cell is :func:`printable`.
    """
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for k, row in enumerate(rows):
        cells = [
            cell.rjust(w) if c >= numeric_from else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip(), file=stream)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=stream)
