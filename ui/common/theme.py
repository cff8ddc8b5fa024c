"""Light and dark palettes that follow the system colour scheme, the stylesheet, and colours for painting.

Fusion style everywhere, so the app looks the same on every platform; :func:`apply_theme` picks the light
or dark palette (from the user's preference, or ``QStyleHints.colorScheme()`` for ``"system"``) and loads
``assets/style/dllab.qss``, which refers to palette roles only and so fits both. Custom-painted widgets ask
:func:`colors` at paint time, so they follow a theme change without being told.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ui.common.paths import stylesheet_path

#: One colour per layer category (icons, stripes in the network list, diagram blocks).
CATEGORY_COLORS: dict[str, str] = {
    "Core": "#3b82f6",
    "Convolution": "#8b5cf6",
    "Normalization": "#0ea5a4",
    "Regularization": "#f59e0b",
    "Activation": "#22a55b",
}

#: Ten distinct colours for classes in scatter plots and legends (Tableau 10).
CLASS_COLORS: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

_LIGHT = {
    "window": "#f4f5f7",
    "window_text": "#1f2328",
    "base": "#ffffff",
    "alternate": "#f0f2f5",
    "text": "#1f2328",
    "button": "#fbfbfc",
    "button_text": "#1f2328",
    "mid": "#d0d5dc",
    "dark": "#9aa3ad",
    "light": "#ffffff",
    "midlight": "#e6e9ed",
    "shadow": "#6e7781",
    "highlight": "#2f6fed",
    "highlighted_text": "#ffffff",
    "link": "#2f6fed",
    "placeholder": "#8c959f",
    "tooltip_base": "#ffffff",
    "tooltip_text": "#1f2328",
    "disabled_text": "#a0a7b0",
}

_DARK = {
    "window": "#1f2125",
    "window_text": "#e4e6ea",
    "base": "#17191c",
    "alternate": "#23262b",
    "text": "#e4e6ea",
    "button": "#2b2e34",
    "button_text": "#e4e6ea",
    "mid": "#3b4048",
    "dark": "#111214",
    "light": "#4a505a",
    "midlight": "#30343a",
    "shadow": "#000000",
    "highlight": "#4a8bff",
    "highlighted_text": "#ffffff",
    "link": "#78a9ff",
    "placeholder": "#7d8590",
    "tooltip_base": "#2b2e34",
    "tooltip_text": "#e4e6ea",
    "disabled_text": "#5f6670",
}


@dataclass(frozen=True)
class ThemeColors:
    """Colours for custom painting, derived from the active palette."""

    dark: bool
    accent: QColor
    text: QColor
    secondary_text: QColor
    card: QColor
    card_border: QColor
    error: QColor
    error_background: QColor
    success: QColor
    plot_background: QColor
    plot_foreground: QColor


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether ``palette`` (by default the application's) has a dark window background."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colors() -> ThemeColors:
    """Colours for painting under the current palette."""
    palette = QGuiApplication.palette()
    dark = is_dark(palette)
    text = palette.color(QPalette.ColorRole.Text)
    secondary = QColor(text)
    secondary.setAlphaF(0.62)
    return ThemeColors(
        dark=dark,
        accent=palette.color(QPalette.ColorRole.Highlight),
        text=text,
        secondary_text=secondary,
        card=palette.color(QPalette.ColorRole.Base),
        card_border=palette.color(QPalette.ColorRole.Mid),
        error=QColor("#ff6b6b" if dark else "#cf222e"),
        error_background=QColor("#3d1f22" if dark else "#fff0f0"),
        success=QColor("#3fb950" if dark else "#1a7f37"),
        plot_background=palette.color(QPalette.ColorRole.Base),
        plot_foreground=palette.color(QPalette.ColorRole.Text),
    )


def make_palette(dark: bool) -> QPalette:
    """The light or dark palette of the app."""
    c = {k: QColor(v) for k, v in (_DARK if dark else _LIGHT).items()}
    p = QPalette()
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"),
        (role.WindowText, "window_text"),
        (role.Base, "base"),
        (role.AlternateBase, "alternate"),
        (role.Text, "text"),
        (role.Button, "button"),
        (role.ButtonText, "button_text"),
        (role.Mid, "mid"),
        (role.Dark, "dark"),
        (role.Light, "light"),
        (role.Midlight, "midlight"),
        (role.Shadow, "shadow"),
        (role.Highlight, "highlight"),
        (role.HighlightedText, "highlighted_text"),
        (role.Link, "link"),
        (role.PlaceholderText, "placeholder"),
        (role.ToolTipBase, "tooltip_base"),
        (role.ToolTipText, "tooltip_text"),
        (role.BrightText, "highlighted_text"),
    ):
        p.setColor(r, c[key])
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, c["disabled_text"])
    p.setColor(disabled, role.Highlight, c["mid"])
    p.setColor(disabled, role.Base, c["window"])
    return p


def system_prefers_dark() -> bool:
    """Whether the platform asks for a dark colour scheme (unknown counts as light)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, preference: str = "system") -> bool:
    """Set Fusion, the palette for ``preference`` (``"system"``, ``"light"``, ``"dark"``) and the stylesheet.

    Returns whether the dark palette is now active.
    """
    dark = system_prefers_dark() if preference == "system" else preference == "dark"
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(make_palette(dark))
    app.setStyleSheet(stylesheet(dark))
    return dark


def stylesheet(dark: bool) -> str:
    """The stylesheet with the theme's colours filled in for its ``@names``."""
    path = stylesheet_path()
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    names = {
        "@success_hover": "#2ea043" if dark else "#1a7f37",
        "@success": "#238636" if dark else "#1f883d",
        "@error": "#ff6b6b" if dark else "#cf222e",
        "@secondary": "#9198a1" if dark else "#656d76",
    }
    for name, value in names.items():
        text = text.replace(name, value)
    return text
