"""The shared short texts: shapes, durations, and the sentence an error is shown as."""

import math

import pytest

from dllab.cli.terminal import format_duration as terminal_duration
from dllab.errors import DamagedFileError, SettingsError, error_sentence
from dllab.text import format_duration, shape_text


def test_shape_text_joins_sizes() -> None:
    assert shape_text((1, 28, 28)) == "1×28×28"
    assert shape_text([30, 24, 24], times="x") == "30x24x24"
    assert shape_text(()) == ""


@pytest.mark.parametrize(
    ("seconds", "terminal", "app"),
    [
        (0.44, "0.4s", "0.4 s"),
        (4.25, "4.2s", "4.2 s"),
        (42.4, "42.4s", "42 s"),
        (65, "1:05", "1:05"),
        (3725, "1:02:05", "1:02:05"),
        (math.inf, "?", "?"),
        (math.nan, "?", "?"),
        (-1.0, "?", "?"),
    ],
)
def test_durations_on_the_terminal_and_in_the_app(seconds: float, terminal: str, app: str) -> None:
    """The terminal writes ``"4.2s"``; the app (:func:`ui.common.formatting.duration_text`) ``"4.2 s"``."""
    assert format_duration(seconds) == terminal == terminal_duration(seconds)
    assert format_duration(seconds, unit=" s", tenths_below=10) == app


def test_error_sentence() -> None:
    assert (
        error_sentence(SettingsError("learning rate must be positive")) == "Learning rate must be positive."
    )
    assert error_sentence(FileNotFoundError(2, "No such file or directory", "net.json")) == (
        "No such file or directory: net.json."
    )
    assert error_sentence(DamagedFileError("/d/m.npz", "is cut short")) == "'/d/m.npz' is cut short."
    assert error_sentence(ValueError("two\n  lines?")) == "Two lines?"
    assert error_sentence(ValueError()) == "ValueError."
