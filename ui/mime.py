"""The private drag-and-drop format for layers: a palette entry dragged into the network, or a network row
dragged to a new position.

The payload is JSON: ``{"layer": {...spec entry...}, "source_row": int | null}``; ``source_row`` is set when
the drag started in the network list (a move), null when it came from the palette (an insertion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData

LAYER_MIME = "application/x-dllab-layer+json"


@dataclass(frozen=True)
class LayerDrag:
    """What a layer drag carries."""

    layer: dict[str, Any]
    source_row: int | None = None


def encode_layer_drag(layer: dict[str, Any], source_row: int | None = None) -> QMimeData:
    """MIME data for dragging ``layer`` (from the network's row ``source_row``, or from the palette)."""
    mime = QMimeData()
    payload = json.dumps({"layer": layer, "source_row": source_row}).encode("utf-8")
    mime.setData(LAYER_MIME, QByteArray(payload))
    mime.setText(str(layer.get("type", "")))
    return mime


def decode_layer_drag(mime: QMimeData | None) -> LayerDrag | None:
    """The drag's content, or None when ``mime`` holds no (valid) layer."""
    if mime is None or not mime.hasFormat(LAYER_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(LAYER_MIME).data()).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    layer, row = data.get("layer") if isinstance(data, dict) else None, data.get("source_row")
    if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
        return None
    return LayerDrag(layer=layer, source_row=row if isinstance(row, int) else None)
