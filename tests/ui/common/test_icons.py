"""Icons stay crisp at any pixel ratio, and are drawn once per size, mode and theme."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from dllab.spec import LAYER_TYPES
from ui.common.icons import action_icon, app_icon, layer_icon


def test_icons_are_drawn_for_every_pixel_ratio(qtbot):
    icons = [layer_icon(name) for name in LAYER_TYPES] + [
        action_icon(name)
        for name in (
            "new",
            "open",
            "save",
            "export",
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


def test_an_icon_is_drawn_once_per_size_mode_and_palette(qtbot):
    icon = action_icon("save")
    first = icon.pixmap(QSize(20, 20), 1.0)
    assert icon.pixmap(QSize(20, 20), 1.0).cacheKey() == first.cacheKey()  # kept, not drawn again
    disabled = icon.pixmap(QSize(20, 20), 1.0, QIcon.Mode.Disabled)
    assert disabled.cacheKey() != first.cacheKey()
    app = QApplication.instance()
    palette = app.palette()
    dark = QPalette(palette)
    dark.setColor(QPalette.ColorRole.WindowText, QColor("white"))
    app.setPalette(dark)
    try:
        redrawn = icon.pixmap(QSize(20, 20), 1.0)  # a new theme: drawn anew, in its colours
        assert redrawn.cacheKey() != first.cacheKey() and redrawn.toImage() != first.toImage()
    finally:
        app.setPalette(palette)


def test_save_and_export_look_different(qtbot):
    save, export = (action_icon(name).pixmap(QSize(32, 32)).toImage() for name in ("save", "export"))
    assert save != export
