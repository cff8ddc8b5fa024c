"""The app's short texts come from the engine's: shapes and durations."""

import math

from dllab import text
from ui.common.formatting import duration_text, shape_text, size_text


def test_shapes_as_the_engine_writes_them() -> None:
    assert shape_text((1, 28, 28)) == text.shape_text((1, 28, 28)) == "1×28×28"
    assert shape_text(None) == "?" and shape_text(()) == "?"
    assert size_text(5) == "5" and size_text([5, 3]) == "5×3"


def test_durations() -> None:
    assert [duration_text(s) for s in (0.44, 4.25, 42.4, 65, 3725, math.nan)] == [
        "0.4 s",
        "4.2 s",
        "42 s",
        "1:05",
        "1:02:05",
        "?",
    ]
