"""Plots without a plotting library: PNG encoding, ticks, text and lines on a numpy canvas."""

import numpy as np

from dllab.plotting import BLACK, draw_polyline, draw_text, nice_ticks, png_bytes, text_width, write_png
from tests.engine.png import decode_png


def test_png_round_trip() -> None:
    image = np.zeros((3, 4, 3), dtype=np.uint8)
    image[1, 2] = (10, 20, 30)
    np.testing.assert_array_equal(decode_png(png_bytes(image)), image)


def test_write_png_writes_the_file(tmp_path) -> None:
    image = np.full((5, 6, 3), 200, dtype=np.uint8)
    path = write_png(tmp_path / "figure.png", image)
    np.testing.assert_array_equal(decode_png(path.read_bytes()), image)


def test_nice_ticks() -> None:
    np.testing.assert_allclose(nice_ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_array_equal(nice_ticks(0, 2000), [0, 500, 1000, 1500, 2000])


def test_text_and_lines_are_drawn_where_asked() -> None:
    image = np.full((40, 80, 3), 255, dtype=np.uint8)
    draw_text(image, 2, 2, "loss 1.5", BLACK, 1)
    assert (image[:12, : 2 + text_width("loss 1.5", 1) + 1] == BLACK).all(axis=2).sum() > 20
    assert (image[12:] == 255).all()
    draw_polyline(image, np.array([0.0, 79.0]), np.array([39.0, 39.0]), (255, 0, 0), (0, 0, 79, 39))
    assert (image[39] == (255, 0, 0)).all(axis=1).sum() >= 70
