"""Text for a terminal: durations, metrics, aligned tables and download progress lines."""

import io
import math
import os
import signal
import threading
import time

import pytest

from dllab.cli.terminal import (
    download_progress,
    format_duration,
    format_metric,
    print_table,
    stop_on_interrupt,
)


def test_durations_and_metrics_stay_short() -> None:
    assert [format_duration(s) for s in (4.25, 65, 3725, math.inf)] == ["4.2s", "1:05", "1:02:05", "?"]
    assert format_metric(0.123456) == "0.1235" and format_metric(0.5, 3) == "0.500"
    assert format_metric(1e32) == "1e+32"  # a diverging loss
    assert format_metric(math.nan) == format_metric(None) == "-"


def test_tables_align_text_left_and_numbers_right() -> None:
    stream = io.StringIO()
    print_table([("run", "acc"), ("long name", "0.5"), ("x", "0.25")], 1, stream)
    assert stream.getvalue().splitlines() == [
        "run         acc",
        "---------  ----",
        "long name   0.5",
        "x          0.25",
    ]


def test_download_progress_writes_a_line_per_tenth() -> None:
    stream = io.StringIO()
    report = download_progress(stream)
    for done in range(0, 1_000_001, 50_000):
        report(done, 1_000_000, "downloading")
    report(10, None, "unpacking")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 12
    assert lines[0] == "downloading (0.0 MB of 1.0 MB)" and lines[-1] == "unpacking (0.0 MB)"


def test_ctrl_c_stops_even_while_the_main_thread_holds_a_lock_that_stopping_takes() -> None:
    # Stopping a run sets its control's events, each guarded by a lock; Ctrl-C's handler runs in the main
    # thread, maybe while that thread holds one of them (inside Event.wait). Called from the handler, the stop
    # would wait for that lock forever: here it gives up after 2 s and says so.
    lock = threading.Lock()
    stops: list[str] = []

    def stop() -> None:
        if not lock.acquire(timeout=2):
            stops.append("waited for a lock its own thread held")
            return
        stops.append("stopped")
        lock.release()

    stream, before = io.StringIO(), signal.getsignal(signal.SIGINT)
    with stop_on_interrupt(stop, stream) as pressed:
        with lock:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler runs here, the lock held
        deadline = time.monotonic() + 5
        while not stops and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stops == ["stopped"] and pressed == [True]
        assert "stopping after this batch" in stream.getvalue()
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C aborts
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is before
    assert not any(t.name == "dllab-ctrl-c" for t in threading.enumerate())
