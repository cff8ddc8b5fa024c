"""The Architecture view: tensors from the engine's analysis, both orientations, and the error box."""

from __future__ import annotations

import json

from ui.common.paths import example_networks
from ui.design.architecture_view import ArchitectureView
from ui.state import AppState


def example(name: str) -> dict:
    return json.loads(next(p for p in example_networks() if p.name == name).read_text())


def test_tensors_follow_the_shapes_and_carry_shape_keeping_layers(qtbot):
    view = ArchitectureView(AppState(example("simple_conv_net.json")))
    qtbot.addWidget(view)
    tensors = view.tensors()
    assert [t.producer for t in tensors] == ["", "Conv2D", "MaxPool2D", "Flatten", "Dense", "Dense"]
    assert [t.shape for t in tensors][:3] == [(1, 28, 28), (30, 24, 24), (30, 12, 12)]
    assert tensors[1].passes == ["ReLU"] and tensors[1].params == 780
    extended = ArchitectureView(AppState(example("multi_layer_net_extend.json"))).tensors()
    assert extended[1].passes == ["BatchNorm", "ReLU", "Dropout"] and extended[1].params == 78_500 + 200


def test_it_lays_out_wide_or_tall_and_stops_at_an_error(qtbot):
    state = AppState(example("simple_conv_net.json"))
    view = ArchitectureView(state)
    qtbot.addWidget(view)
    view.resize(1200, 300)
    view.grab()
    assert view.orientation == "horizontal"
    view.resize(400, 800)
    view.grab()
    assert view.orientation == "vertical"
    state.insert_layer(4, {"type": "Conv2D"})  # after Flatten: the engine stops there
    assert len(view.tensors()) == 4
    image = view.grab().toImage()
    assert not image.isNull()
