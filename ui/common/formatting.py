"""Short texts for numbers, shapes, layers and errors, shared by every panel."""

from __future__ import annotations

from typing import Any

from dllab import losses, text
from dllab.spec import LAYER_TYPES, SpecError

LOSS_TITLES: dict[str, str] = {
    "softmax_cross_entropy": "Softmax cross-entropy",
    "sigmoid_binary_cross_entropy": "Sigmoid binary cross-entropy",
    "mse": "Mean squared error",
}


def loss_title(name: str) -> str:
    """Display name of a loss, e.g. ``"Softmax cross-entropy"``."""
    return LOSS_TITLES.get(name, name.replace("_", " ").capitalize())


def loss_summary(name: str) -> str:
    """The engine's one-line explanation of a loss (empty for unknown names)."""
    cls = losses.LOSSES.get(name)
    return cls.summary if cls else ""


def shape_text(shape: tuple[int, ...] | list[int] | None) -> str:
    """``(1, 28, 28)`` -> ``"1×28×28"`` (as the engine writes shapes); None -> ``"?"``."""
    return text.shape_text(shape) if shape else "?"


def duration_text(seconds: float) -> str:
    """How long a run takes or took: ``"4.2 s"`` under ten seconds, then ``"42 s"``, ``"3:05"`` or
    ``"1:02:03"``; ``"?"`` when unknown."""
    return text.format_duration(seconds, unit=" s", tenths_below=10)


def count_text(n: int) -> str:
    """``36030`` -> ``"36,030"``."""
    return f"{n:,}"


def compact_count(n: int) -> str:
    """``36030`` -> ``"36k"``, ``1234567`` -> ``"1.2M"``."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.3g}k"
    return f"{n / 1_000_000:.3g}M"


def bytes_text(n: float) -> str:
    """A byte count in B, KB, MB or GB (powers of 1024), as the engine writes them."""
    return text.format_bytes(n)


def humanize(option_name: str) -> str:
    """``"kernel_size"`` -> ``"Kernel size"``."""
    return option_name.replace("_", " ").capitalize()


def layer_settings_text(layer: dict[str, Any]) -> str:
    """The engine's short description of a layer's key settings, e.g. ``"30 filters 5x5, stride 1, pad 0,
    He"``; empty when the layer's settings are invalid or it has none."""
    cls = LAYER_TYPES.get(layer.get("type", ""))
    if cls is None:
        return ""
    options = {k: v for k, v in layer.items() if k not in ("type", "name")}
    try:
        return cls(**options).describe()
    except (ValueError, TypeError):
        return ""


def spec_error_text(error: SpecError) -> str:
    """A spec error for people: ``"Dense (row 5): expects a flat input ..."``; rows count from 1."""
    message = error.message[:1].upper() + error.message[1:]
    if error.index is None:
        return f"Network: {message}"
    kind = error.layer_type or "Layer"
    return f"{kind} (row {error.index + 1}): {message}"


def parse_shape(text: str) -> list[int] | None:
    """``"1x28x28"``, ``"1×28×28"``, ``"1, 28, 28"`` or ``"784"`` -> a list of ints; None if not numbers."""
    cleaned = text.replace("×", "x").replace(",", "x").replace("*", "x").replace(" ", "x")
    parts = [p for p in cleaned.lower().split("x") if p]
    if not parts:
        return None
    try:
        return [int(p) for p in parts]
    except ValueError:
        return None


def parse_size(text: str) -> int | list[int] | None:
    """``"5"`` -> 5, ``"5x3"`` -> [5, 3]; None when it is not one or two integers."""
    shape = parse_shape(text)
    if shape is None or len(shape) not in (1, 2):
        return None
    return shape[0] if len(shape) == 1 else shape


def size_text(value: Any) -> str:
    """``5`` -> ``"5"``; ``[5, 3]`` -> ``"5×3"``."""
    return text.shape_text(value) if isinstance(value, list | tuple) else str(value)


def number_text(value: float | None) -> str:
    """A float in its shortest exact-looking form: 0.001, 1e-08, 0.5."""
    if value is None:
        return ""
    return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3g}"
