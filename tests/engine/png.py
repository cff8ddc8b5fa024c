"""Reading the PNG files the engine writes, for tests (with Pillow, which matplotlib depends on)."""

import io

import numpy as np
from PIL import Image


def decode_png(data: bytes) -> np.ndarray:
    """The pixels of a PNG file's bytes as an ``(height, width, 3)`` uint8 RGB array.

    Raises
    ------
    AssertionError
        When ``data`` is not a PNG file.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))
