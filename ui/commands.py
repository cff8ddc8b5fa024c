"""Undo commands: every edit of the network is one of these, pushed on the state's ``QUndoStack``.

Each command calls :class:`ui.state.AppState` edit methods in ``redo`` and their inverse in ``undo``
(as orange-canvas-core does: ``redo: add_node``, ``undo: remove_node``), and moves the selection to the
layer it touched so the user sees what changed.

The edits of past runs (a title, tags, a move to the trash) are commands too, :class:`RunEditCommand`, kept on
the run browser's own stack: they change run folders, not the design, so they neither mark the design unsaved
nor vanish when another design is opened.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QUndoCommand

from dllab.errors import DllabError, error_sentence
from dllab.fit import fit_network
from dllab.run_history import RunLabels, read_labels, restore_run, trash_run, write_labels
from ui.common.formatting import humanize
from ui.state import AppState


class InsertLayerCommand(QUndoCommand):
    """Insert a layer at an index (``len(layers)`` appends)."""

    def __init__(self, state: AppState, index: int, layer: dict[str, Any]) -> None:
        super().__init__(f"Add {layer.get('type', 'layer')}")
        self._state, self._index, self._layer = state, index, copy.deepcopy(layer)

    def redo(self) -> None:
        self._state.insert_layer(self._index, self._layer)
        self._state.set_current_layer(self._index)

    def undo(self) -> None:
        self._state.remove_layer(self._index)
        self._state.set_current_layer(min(self._index, len(self._state.layers) - 1))


class RemoveLayerCommand(QUndoCommand):
    """Remove the layer at an index."""

    def __init__(self, state: AppState, index: int) -> None:
        self._layer = state.layer(index)
        super().__init__(f"Delete {self._layer.get('type', 'layer')}")
        self._state, self._index = state, index

    def redo(self) -> None:
        self._state.remove_layer(self._index)
        self._state.set_current_layer(min(self._index, len(self._state.layers) - 1))

    def undo(self) -> None:
        self._state.insert_layer(self._index, self._layer)
        self._state.set_current_layer(self._index)


class MoveLayerCommand(QUndoCommand):
    """Move a layer from ``source`` so that it ends up at index ``target``."""

    def __init__(self, state: AppState, source: int, target: int) -> None:
        super().__init__(f"Move {state.layers[source].get('type', 'layer')}")
        self._state, self._source, self._target = state, source, target

    def redo(self) -> None:
        self._state.move_layer(self._source, self._target)
        self._state.set_current_layer(self._target)

    def undo(self) -> None:
        self._state.move_layer(self._target, self._source)
        self._state.set_current_layer(self._source)


class ReplaceLayerCommand(QUndoCommand):
    """Put a different layer in place of one (e.g. change ReLU to Sigmoid)."""

    def __init__(self, state: AppState, index: int, layer: dict[str, Any], text: str | None = None) -> None:
        old = state.layers[index].get("type", "layer")
        super().__init__(text or f"Change {old} to {layer.get('type', 'layer')}")
        self._state, self._index, self._layer = state, index, copy.deepcopy(layer)
        self._old = state.layer(index)

    def redo(self) -> None:
        self._state.replace_layer(self._index, self._layer)
        self._state.set_current_layer(self._index)

    def undo(self) -> None:
        self._state.replace_layer(self._index, self._old)
        self._state.set_current_layer(self._index)


class SetLayerOptionCommand(QUndoCommand):
    """Change one setting of one layer (``value`` None restores the default)."""

    def __init__(self, state: AppState, index: int, key: str, value: Any) -> None:
        layer = state.layers[index]
        super().__init__(f"Change {humanize(key).lower()} of {layer.get('type', 'layer')}")
        self._state, self._index, self._key = state, index, key
        self._value = copy.deepcopy(value)
        self._old = copy.deepcopy(layer.get(key))

    def redo(self) -> None:
        self._state.set_layer_option(self._index, self._key, self._value)
        self._state.set_current_layer(self._index)

    def undo(self) -> None:
        self._state.set_layer_option(self._index, self._key, self._old)
        self._state.set_current_layer(self._index)


class SetLayerTrainableCommand(SetLayerOptionCommand):
    """Freeze a layer (``"trainable": false``: training leaves its weights as they are) or let it learn again."""

    def __init__(self, state: AppState, index: int, trainable: bool) -> None:
        # Trainable is the default: unfreezing removes the key, so the spec reads as it did before freezing.
        super().__init__(state, index, "trainable", None if trainable else False)
        layer = state.layers[index]
        name = layer.get("name") or layer.get("type", "layer")
        self.setText(f"{'Unfreeze' if trainable else 'Freeze'} {name}")


class SetNetworkOptionCommand(QUndoCommand):
    """Change a network-level setting: name, input shape or loss."""

    def __init__(self, state: AppState, key: str, value: Any) -> None:
        super().__init__(f"Change network {humanize(key).lower()}")
        self._state, self._key = state, key
        self._value = copy.deepcopy(value)
        self._old = copy.deepcopy(state.spec.get(key))

    def redo(self) -> None:
        self._state.set_network_option(self._key, self._value)

    def undo(self) -> None:
        self._state.set_network_option(self._key, self._old)


class ReplaceSpecCommand(QUndoCommand):
    """Replace the whole spec in one step (fitting the network to a dataset changes several places)."""

    def __init__(self, state: AppState, spec: dict[str, Any], text: str) -> None:
        super().__init__(text)
        self._state = state
        self._new = copy.deepcopy(spec)
        self._old = state.spec_copy()
        self._selection = state.current_layer

    def redo(self) -> None:
        self._state.replace_spec(self._new)
        self._state.set_current_layer(self._selection)

    def undo(self) -> None:
        self._state.replace_spec(self._old)
        self._state.set_current_layer(self._selection)


def duplicate_layer(state: AppState, index: int) -> InsertLayerCommand:
    """A command inserting a copy of the layer at ``index`` right after it (without its name, which must
    stay unique)."""
    layer = state.layer(index)
    layer.pop("name", None)
    command = InsertLayerCommand(state, index + 1, layer)
    command.setText(f"Duplicate {layer.get('type', 'layer')}")
    return command


def fit_network_to_dataset(state: AppState) -> list[str]:
    """Fit the network to the loaded dataset by the engine's rule (:func:`dllab.fit.fit_network`), as one undo
    step: the input takes the data's shape where the first layer can use it, the last Dense layer as many units
    as the data needs (and a regression set the MSE loss). Says what changed in a status message.

    Returns
    -------
    list of str
        What changed, one entry per change (empty when the network already fits or no data is loaded).
    """
    if state.dataset is None:
        return []
    new, note = fit_network(state.spec_copy(), state.dataset, adapt_outputs=True)
    if not note:
        return []
    title = state.dataset_title()
    state.undo_stack.push(ReplaceSpecCommand(state, new, f"Fit network to {title}"))
    state.post_message(f"Fitted the network to {title}: {note}. Edit ▸ Undo reverts it.")
    return note.split("; ")


class RunEditCommand(QUndoCommand):
    """An edit of a past run's folder, undoable (see the module).

    An edit that fails (the folder went away, a run of that name came back, the disk refused) changes nothing,
    leaves its sentence in :attr:`error`, tells ``changed`` and is dropped from the stack.

    Parameters
    ----------
    text
        What the Undo button says, e.g. ``"Delete run 20250107-142501-SpiralMLP"``.
    apply, revert
        Make the edit, take it back (each may raise a :class:`dllab.errors.DllabError`).
    changed
        Called after every redo and undo, with the error sentence or None (to list the runs again).
    """

    def __init__(
        self,
        text: str,
        apply: Callable[[], Any],
        revert: Callable[[], Any],
        changed: Callable[[str | None], None],
    ) -> None:
        super().__init__(text)
        self._apply, self._revert, self._changed = apply, revert, changed
        #: Why the last redo or undo failed (one sentence), or None.
        self.error: str | None = None

    def redo(self) -> None:
        self._attempt(self._apply)

    def undo(self) -> None:
        self._attempt(self._revert)

    def _attempt(self, action: Callable[[], Any]) -> None:
        try:
            action()
            self.error = None
        except DllabError as exc:
            self.error = error_sentence(exc)
            self.setObsolete(True)
        self._changed(self.error)


def label_run(
    folder: Path, labels: RunLabels, text: str, changed: Callable[[str | None], None]
) -> RunEditCommand:
    """A command giving a run a new title and tags (:func:`dllab.run_history.write_labels`); undo gives the old
    ones back.

    Raises
    ------
    dllab.runs.RunError
        When the run's labels cannot be read now (no command is made).
    """
    before = read_labels(folder)
    return RunEditCommand(
        text, lambda: write_labels(folder, labels), lambda: write_labels(folder, before), changed
    )


def trash_run_command(folder: Path, root: Path, changed: Callable[[str | None], None]) -> RunEditCommand:
    """A command moving a run into the trash of its runs folder (:func:`dllab.run_history.trash_run`); undo
    moves it back under its own name."""
    trashed: list[Path] = []

    def apply() -> None:
        trashed.append(trash_run(folder, root))

    def revert() -> None:
        restore_run(trashed.pop(), root, name=Path(folder).name)

    return RunEditCommand(f"Delete run {Path(folder).name}", apply, revert, changed)


def restore_run_command(trashed: Path, root: Path, changed: Callable[[str | None], None]) -> RunEditCommand:
    """A command moving a run back from the trash of its runs folder (:func:`dllab.run_history.restore_run`),
    deleted in this session or an earlier one; undo moves it into the trash again."""
    restored: list[Path] = []

    def apply() -> None:
        restored.append(restore_run(trashed, root))

    def revert() -> None:
        trash_run(restored.pop(), root)

    return RunEditCommand(f"Restore run {Path(trashed).name}", apply, revert, changed)
