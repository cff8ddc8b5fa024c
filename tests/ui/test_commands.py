"""Undo and redo of every kind of network edit."""

from __future__ import annotations

import copy

import pytest

from ui.commands import (
    InsertLayerCommand,
    MoveLayerCommand,
    RemoveLayerCommand,
    ReplaceLayerCommand,
    ReplaceSpecCommand,
    SetLayerOptionCommand,
    SetNetworkOptionCommand,
    duplicate_layer,
)
from ui.state import AppState, default_layer


def types(state: AppState) -> list[str]:
    return [layer["type"] for layer in state.layers]


@pytest.mark.parametrize(
    ("make", "after"),
    [
        (lambda s: InsertLayerCommand(s, 2, default_layer("Dropout")), ["Dense", "ReLU", "Dropout", "Dense"]),
        (lambda s: RemoveLayerCommand(s, 1), ["Dense", "Dense", "ReLU", "Dense"]),
        (lambda s: MoveLayerCommand(s, 0, 3), ["ReLU", "Dense", "ReLU", "Dense", "Dense"]),
        (lambda s: ReplaceLayerCommand(s, 1, {"type": "Sigmoid"}), ["Dense", "Sigmoid", "Dense"]),
        (lambda s: duplicate_layer(s, 0), ["Dense", "Dense", "ReLU", "Dense"]),
    ],
)
def test_structural_edits_undo_and_redo(make, after):
    state = AppState()
    before = state.spec_copy()
    command = make(state)
    state.undo_stack.push(command)
    assert types(state)[: len(after)] == after
    redone = state.spec_copy()
    state.undo_stack.undo()
    assert state.spec == before
    state.undo_stack.redo()
    assert state.spec == redone
    assert state.undo_stack.count() == 1


def test_insert_selects_the_new_layer_and_undo_moves_the_selection_back():
    state = AppState()
    state.undo_stack.push(InsertLayerCommand(state, 5, default_layer("Dropout")))
    assert state.current_layer == 5
    state.undo_stack.undo()
    assert state.current_layer == 4


def test_set_layer_option_undo_restores_an_absent_key():
    state = AppState({"input_shape": [2], "layers": [{"type": "Dense"}], "loss": "mse"})
    state.undo_stack.push(SetLayerOptionCommand(state, 0, "units", 7))
    assert state.layers[0] == {"type": "Dense", "units": 7}
    assert state.undo_stack.undoText() == "Change units of Dense"
    state.undo_stack.undo()
    assert state.layers[0] == {"type": "Dense"}


def test_network_options_undo():
    state = AppState()
    for key, value in (("input_shape", [4]), ("loss", "mse"), ("name", "Other")):
        old = copy.deepcopy(state.spec.get(key))
        state.undo_stack.push(SetNetworkOptionCommand(state, key, value))
        assert state.spec[key] == value
        state.undo_stack.undo()
        assert state.spec.get(key) == old
        state.undo_stack.redo()
    assert state.undo_stack.count() == 3


def test_duplicate_drops_the_name_so_names_stay_unique():
    state = AppState(
        {"input_shape": [2], "layers": [{"type": "Dense", "units": 3, "name": "out"}], "loss": "mse"}
    )
    state.undo_stack.push(duplicate_layer(state, 0))
    assert state.layers[1] == {"type": "Dense", "units": 3}
    assert state.analysis.ok
    assert state.undo_stack.undoText() == "Duplicate Dense"


def test_replace_spec_is_one_step():
    state = AppState()
    new = state.spec_copy()
    new["input_shape"] = [784]
    new["layers"][-1]["units"] = 10
    state.undo_stack.push(ReplaceSpecCommand(state, new, "Fit network to MNIST"))
    assert state.spec["input_shape"] == [784]
    state.undo_stack.undo()
    assert state.spec["input_shape"] == [2] and state.layers[-1]["units"] == 3
