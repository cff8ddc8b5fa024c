"""The Layers palette: every layer type with icon, summary and an explaining tooltip; MIME; filtering."""

from __future__ import annotations

from PySide6.QtCore import Qt

from dllab.initializers import NAMED_INITIALIZERS
from dllab.spec import LAYER_TYPES
from ui.design.layer_drag import LAYER_MIME, decode_layer_drag
from ui.design.palette import SUMMARY_ROLE, TYPE_ROLE, LayerPalette


def test_every_layer_type_is_listed_with_icon_summary_and_tooltip(qtbot):
    palette = LayerPalette()
    qtbot.addWidget(palette)
    assert sorted(palette.visible_types()) == sorted(LAYER_TYPES)  # grouped by category
    for name, cls in LAYER_TYPES.items():
        index = palette.index_of(name)
        assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
        assert index.data(SUMMARY_ROLE) == cls.summary
        tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
        assert cls.explanation.split(".")[0] in tooltip.replace("&#x27;", "'")
        assert index.flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_tooltips_explain_the_concepts():
    palette = LayerPalette()
    dense = palette.index_of("Dense").data(Qt.ItemDataRole.ToolTipRole)
    assert "He normal" in dense and NAMED_INITIALIZERS["xavier"].split(":")[0] in dense
    dropout = palette.index_of("Dropout").data(Qt.ItemDataRole.ToolTipRole)
    assert "ensemble" in dropout and "overfitting" in dropout


def test_drag_carries_a_private_mime_type_with_a_default_layer():
    palette = LayerPalette()
    mime = palette.mime_data("Conv2D")
    assert mime.formats()[0] == LAYER_MIME
    drag = decode_layer_drag(mime)
    assert drag.layer["type"] == "Conv2D" and drag.layer["filters"] == 16 and drag.source_row is None
    assert palette.model.mimeTypes() == [LAYER_MIME]


def test_headers_cannot_be_dragged_or_selected():
    palette = LayerPalette()
    header = palette.model.index(0, 0)
    assert header.data(TYPE_ROLE) is None
    assert not header.flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert not header.flags() & Qt.ItemFlag.ItemIsSelectable


def test_filter_hides_non_matching_layers_and_empty_categories(qtbot):
    palette = LayerPalette()
    qtbot.addWidget(palette)
    qtbot.keyClicks(palette.filter_edit, "pool")
    assert palette.visible_types() == ["MaxPool2D", "AvgPool2D"]
    header_rows = [
        r for r in range(palette.model.rowCount()) if palette.model.index(r, 0).data(TYPE_ROLE) is None
    ]
    visible_headers = [r for r in header_rows if not palette.view.isRowHidden(r)]
    assert len(visible_headers) == 1
    palette.filter_edit.clear()
    assert sorted(palette.visible_types()) == sorted(LAYER_TYPES)


def test_enter_and_double_click_ask_to_append(qtbot):
    palette = LayerPalette()
    qtbot.addWidget(palette)
    palette.show()
    palette.view.setCurrentIndex(palette.index_of("Tanh"))
    with qtbot.waitSignal(palette.layer_activated) as blocker:
        qtbot.keyClick(palette.view, Qt.Key.Key_Return)
    assert blocker.args == ["Tanh"]
