"""Text for a terminal: durations, metrics, aligned tables and download progress lines."""

import io
import math

from dllab.cli.terminal import download_progress, format_duration, format_metric, print_table


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
