"""Icons stay crisp at any pixel ratio."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from dllab.spec import LAYER_TYPES
from ui.icons import action_icon, app_icon, layer_icon


def test_icons_are_drawn_for_every_pixel_ratio(qtbot):
    icons = [layer_icon(name) for name in LAYER_TYPES] + [
        action_icon(name)
        for name in (
            "new",
            "open",
            "save",
            "undo",
            "redo",
            "delete",
            "duplicate",
            "train",
            "stop",
            "refresh",
            "folder",
        )
    ]
    icons.append(app_icon())
    for icon in icons:
        assert not icon.isNull()
        for ratio in (1.0, 1.5, 2.0):
            pixmap = icon.pixmap(QSize(24, 24), ratio)
            assert pixmap.devicePixelRatio() == ratio
            assert pixmap.width() == round(24 * ratio)
            image = pixmap.toImage()
            assert any(
                image.pixelColor(x, y).alpha() > 0
                for x in range(image.width())
                for y in range(image.height())
            )
        disabled = icon.pixmap(QSize(16, 16), 1.0, QIcon.Mode.Disabled)
        assert not disabled.isNull()
