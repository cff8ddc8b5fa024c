"""The gradient check of the design: run off the GUI thread, a row per parameter, and a verdict that fails when
a backward pass is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dllab.layers import Dense
from dllab.spec import read_spec
from ui.design.gradient_check import GradientCheckDialog

TWO_LAYER_NET = Path(__file__).resolve().parents[3] / "assets" / "networks" / "two_layer_net.json"


def _checked(qtbot, spec) -> GradientCheckDialog:
    dialog = GradientCheckDialog(spec)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.result is not None or bool(dialog.error.text()), timeout=30_000)
    return dialog


def test_the_books_two_layer_net_passes(qtbot) -> None:
    dialog = _checked(qtbot, read_spec(TWO_LAYER_NET))
    assert [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())] == [
        "dense_1.W",
        "dense_1.b",
        "dense_2.W",
        "dense_2.b",
    ]
    assert all(dialog.table.item(row, 4).text() == "✓" for row in range(4))
    assert dialog.result.max_error < 1e-6
    assert dialog.status.text().startswith(f"Largest relative error {dialog.result.max_error:.1e}: backprop")
    dialog.close()


def test_a_wrong_backward_pass_is_marked(qtbot, monkeypatch) -> None:
    backward = Dense.backward

    def wrong(self, dout: np.ndarray) -> np.ndarray | None:
        dx = backward(self, dout)
        self.grads["W"] = self.grads["W"] * 1.5
        return dx

    monkeypatch.setattr(Dense, "backward", wrong)
    dialog = _checked(qtbot, read_spec(TWO_LAYER_NET))
    marks = {dialog.table.item(row, 0).text(): dialog.table.item(row, 4).text() for row in range(4)}
    assert marks == {"dense_1.W": "✗", "dense_1.b": "✓", "dense_2.W": "✗", "dense_2.b": "✓"}
    assert "disagrees" in dialog.status.text()


def test_elements_at_kinks_are_counted(qtbot) -> None:
    dialog = _checked(qtbot, read_spec(TWO_LAYER_NET.with_name("simple_conv_net.json")))
    assert dialog.table.item(0, 0).text() == "conv2d_1.W"
    assert int(dialog.table.item(0, 3).text()) == dialog.result.kinks["conv2d_1.W"] > 0
    assert dialog.table.item(0, 4).text() == "✓"


def test_a_network_without_parameters_says_why(qtbot) -> None:
    dialog = _checked(qtbot, {"name": "bare", "input_shape": [4], "layers": [{"type": "ReLU"}]})
    assert dialog.error.text() == "The check could not run: the network 'bare' has no parameters to check"
    assert dialog.error.isVisible()
