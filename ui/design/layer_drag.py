"""The private drag-and-drop format for layers: a palette entry dragged into the network, or a network row
dragged to a new position.

The payload is JSON: ``{"layer": {...spec entry...}, "source_row": int | null}``; ``source_row`` is set when
the drag started in the network list (a move), null when it came from the palette (an insertion). A payload
from elsewhere (another program can offer this format) is read by :func:`dllab.spec.parse_json`, within the
engine's limits, and anything that is not such a payload is ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData

from dllab.spec import parse_json

LAYER_MIME = "application/x-dllab-layer+json"
#: Rows beyond this cannot be a row of the network list (a Qt int carries them).
_MAX_ROW = 2**31 - 1


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
    """The drag's content, or None when ``mime`` holds no (valid) layer.

    ``source_row`` is kept only when it is a row number (an int from 0 to ``2**31 - 1``).
    """
    if mime is None or not mime.hasFormat(LAYER_MIME):
        return None
    try:
        data = parse_json(bytes(mime.data(LAYER_MIME).data()))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    layer, row = data.get("layer"), data.get("source_row")
    if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
        return None
    is_row = isinstance(row, int) and not isinstance(row, bool) and 0 <= row <= _MAX_ROW
    return LayerDrag(layer=layer, source_row=row if is_row else None)
