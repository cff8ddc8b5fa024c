"""Plots without a plotting library: PNG encoding, ticks, text and lines on a numpy canvas."""

import numpy as np

from dllab.plotting import (
    BLACK,
    clip_polyline,
    draw_polyline,
    draw_text,
    nice_ticks,
    png_bytes,
    text_width,
    write_png,
)
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


def test_clip_polyline_keeps_the_visible_part_of_huge_coordinates() -> None:
    xs, ys = clip_polyline(np.array([0.0, 10.0, 20.0]), np.array([5.0, -1e32, 5.0]), (0, 0, 20, 10))
    points = np.column_stack([xs, ys])
    segments = points[np.isfinite(xs)].reshape(-1, 2, 2)
    assert len(segments) == 2
    assert np.all(np.abs(segments) <= 20)
    np.testing.assert_allclose(segments[0], [[0.0, 5.0], [10 * 5 / (5 + 1e32), 0.0]], atol=1e-12)
    np.testing.assert_allclose(segments[1], [[20 - 10 * 5 / (5 + 1e32), 0.0], [20.0, 5.0]], atol=1e-12)
    # A segment wholly outside is dropped; an isolated visible point stays.
    xs, ys = clip_polyline(
        np.array([30.0, 40.0, np.nan, 3.0]), np.array([5.0, 5.0, 0.0, 4.0]), (0, 0, 20, 10)
    )
    assert xs[np.isfinite(xs)].tolist() == [3.0] and ys[np.isfinite(ys)].tolist() == [4.0]


def test_a_line_through_huge_coordinates_draws_its_visible_part() -> None:
    # A diverging loss maps to pixel coordinates like -1e32; drawing must neither warn nor wrap around.
    image = np.full((20, 30, 3), 255, dtype=np.uint8)
    draw_polyline(
        image, np.array([0.0, 10.0, 20.0]), np.array([5.0, -1e32, 5.0]), (255, 0, 0), (0, 0, 29, 19)
    )
    red = (image == (255, 0, 0)).all(axis=2)
    # Both visible pieces, whole: up from (0, 5) to the top edge, and down from the top edge to (20, 5).
    assert red[0:6, 0].all() and red[0:6, 19].all()
    assert not red[7:].any() and not red[:, 2:18].any()
