"""No view is clipped at 1280×800: each fits the centre's width with the window's panels open (the playground
and the settings columns of Compare, Search, Init and Precision go under their plots; after a run of a
convolutional network, the Weights view's plots two to a row and the Filters view's filters above its feature
maps), the Inspector and Training panels fit their docks, and the views are side by side again when the centre
is wide."""

from __future__ import annotations

import json

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from dllab.data import make_shapes
from ui.common.paths import example_networks


def scrolled_sideways(view) -> list[str]:
    """The scroll areas of ``view`` that fit their content to their width and yet scroll sideways."""
    return [
        f"{type(area).__name__} {area.objectName()}"
        for area in view.findChildren(QScrollArea)
        if area.isVisible() and area.widgetResizable() and area.horizontalScrollBar().maximum() > 0
    ]


def cut_off_canvases(view) -> list[str]:
    """The plot canvases of ``view`` whose plots need more width than the canvas has (the rest is cut off)."""
    return [
        f"{type(canvas).__name__} of {view.objectName()}: "
        f"{canvas.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width():.0f} > {canvas.viewport().width()}"
        for canvas in view.findChildren(pg.GraphicsLayoutWidget)
        if canvas.isVisible()
        and canvas.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() > canvas.viewport().width() + 1
    ]


def wider_than_their_docks(window) -> list[str]:
    """The Inspector and Training panels whose content is wider than they are (cut off at the right)."""
    return [
        type(panel).__name__
        for panel in (window.inspector, window.training_panel)
        if panel.widget().width() > panel.viewport().width()
    ]


def test_every_view_fits_the_centre_at_1280_by_800(window, qtbot):
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.views.width() < 600)
    for index in range(window.views.count()):
        window.view_switcher.show_view(window.views.widget(index))
        view = window.views.widget(index)  # built when first shown
        qtbot.wait(20)
        name = window.views.tabText(index)
        assert view.minimumSizeHint().width() <= window.views.width(), name
        assert scrolled_sideways(view) == [], name
    for view in (window.compare_view, window.search_view, window.distributions_view, window.precision_view):
        assert view.stacked  # the plots above the settings, each with a usable share of the height
        assert min(view.splitter.sizes()) >= 150
    assert window.playground_view.stacked


def test_wide_views_put_the_settings_beside_the_plots_again(window, qtbot):
    window.resize(1280, 800)
    window.view_switcher.show_view(window.compare_view)
    qtbot.waitUntil(lambda: window.compare_view.stacked)
    window.resize(1600, 1000)
    window.focus_on_views()
    qtbot.waitUntil(lambda: window.views.width() > 1000)
    window.view_switcher.show_view(window.compare_view)
    qtbot.waitUntil(lambda: not window.compare_view.stacked)
    assert window.compare_view.splitter.widget(0) is window.compare_view.sidebar_scroll
    window.view_switcher.show_view(window.playground_view)
    qtbot.waitUntil(lambda: not window.playground_view.stacked)
    assert window.playground_view.settings.width() < window.playground_view.width() // 2
    assert scrolled_sideways(window.playground_view) == []


def test_the_training_views_and_panels_fit_at_1280_by_800_after_a_conv_run(window, qtbot):
    shapes = make_shapes(n_samples=300, seed=0)
    convnet = next(path for path in example_networks() if path.name == "simple_conv_net.json")
    window.state.load_network({**json.loads(convnet.read_text()), "input_shape": list(shapes.input_shape)})
    window.state.set_data_settings(source="shapes", n_samples=300, val_fraction=0.1)
    window.state.set_dataset(shapes)
    window.state.set_training_settings(epochs=1, batch_size=50)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.views.width() < 600)
    for row in range(len(window.state.layers)):  # every layer's settings fit the Inspector
        window.state.set_current_layer(row)
        qtbot.wait(100)
        assert wider_than_their_docks(window) == [], (
            window.state.layers[row]["type"],
            window.inspector.widget().width(),
            window.inspector.viewport().width(),
            sorted(
                (c.minimumSizeHint().width(), type(c).__name__)
                for c in window.inspector.widget().findChildren(QWidget)
                if c.isVisible()
            )[-4:],
        )
    with qtbot.waitSignal(window.training.run_ended, timeout=60_000) as ended:
        window.training_panel.train_button.click()
    assert ended.args[0] == "finished" and wider_than_their_docks(window) == []
    for view in window.training_views:
        window.view_switcher.show_view(view)
        view.flush()
        qtbot.wait(50)
        name = view.title
        assert view.minimumSizeHint().width() <= window.views.width(), name
        assert scrolled_sideways(view) == [] and cut_off_canvases(view) == [], name
    weights, filters, curves = window.weights_view, window.filters_view, window.curves_view
    assert weights.columns == 1 and len(weights._norm_plots) == 3  # each layer's weights beside its gradients
    assert (
        filters.stacked and filters.now_box.item.image is not None and filters.maps_box.item.image is not None
    )
    window.view_switcher.show_view(curves)
    qtbot.wait(50)
    reading = curves.status_label
    assert "Fit at the end" in reading.text()
    bottom = reading.mapTo(curves, QPoint(0, reading.height())).y()
    assert bottom <= curves.log_check.mapTo(curves, QPoint(0, 0)).y()  # the reading above the check box
    assert reading.height() >= reading.heightForWidth(reading.width())
    # Wide, the filters are beside the feature maps again, the gallery beside the confusion matrix.
    window.resize(1600, 1000)
    window.focus_on_views()
    qtbot.waitUntil(lambda: window.views.width() > 1000)
    for view in (filters, window.evaluation_view):
        window.view_switcher.show_view(view)
        qtbot.waitUntil(lambda view=view: not view.stacked and cut_off_canvases(view) == [])
    window.view_switcher.show_view(filters)
    filters.flush()
    assert filters.splitter.widget(0) is filters.filter_canvas and filters.now_box.item.image is not None
