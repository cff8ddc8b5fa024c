"""How a network meets a data set: the one fit rule, for the desktop app, the command line and the trainer.

The rule has two halves.

- **Input.** The network takes the data's sample shape if its first layer can use it: a Conv2D (or a pooling
  layer) needs images, channels x height x width; a Dense layer takes any sample flattened. A spec whose input
  already holds as many values as a sample and suits its first layer keeps its shape (the samples are reshaped
  to it). The change is said in one line,
  e.g. ``"input shape set to 1×28×28 from the data"``.
- **Output.** The network's last layer must have one output per class (a binary set may use one sigmoid
  output instead of two), or one per regression target; otherwise one :class:`~dllab.spec.SpecError` names
  both numbers.

:func:`fit_network` applies the rule to a spec before it is built (``dllab train``, comparisons, searches, the
app's training session); with ``adapt_outputs`` it also edits the output layer to match, as the app does when
a data set is loaded. :func:`check_fit` is what the trainer asserts about a model and its prepared data.

>>> spec = {"input_shape": [784], "layers": [{"type": "Conv2D"}, {"type": "Flatten"},
...         {"type": "Dense", "units": 10}]}
>>> fitted, note = fit_network(spec, mnist)      # doctest: +SKIP
>>> fitted["input_shape"], note                  # doctest: +SKIP
([1, 28, 28], 'input shape set to 1×28×28 from the data')
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dllab.data import Dataset, PreparedData
from dllab.spec import Analysis, SpecError, analyze

#: The loss that may give a two-class data set one output (the probability of class 1).
BINARY_LOSS = "sigmoid_binary_cross_entropy"
#: The loss a regression data set trains with (the app switches to it when such a set is loaded).
REGRESSION_LOSS = "mse"


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    """``(1, 28, 28)`` -> ``"1×28×28"``, as the notes and errors of the rule write shapes."""
    return "×".join(str(int(d)) for d in shape)


@dataclass(frozen=True)
class DataFacts:
    """What the fit rule needs to know about a data set.

    Attributes
    ----------
    name : str
        The data set's name, for messages.
    sample_shape : tuple of int
        One sample's shape: a raw data set's own shape, or the shape a prepared data set was reshaped to.
    task : str
        ``"classification"`` or ``"regression"``.
    classes : int
        Number of classes (0 for regression).
    targets : int
        Regression targets per sample (0 for classification).
    reshapes : bool
        Whether the samples can still be reshaped to another shape of as many values (a raw data set, which
        is prepared for the network's shape), or have their final shape (prepared data).
    """

    name: str
    sample_shape: tuple[int, ...]
    task: str
    classes: int
    targets: int
    reshapes: bool = True

    @classmethod
    def of(cls, data: Dataset | PreparedData) -> DataFacts:
        """The facts of a loaded :class:`~dllab.data.Dataset` or a :class:`~dllab.data.PreparedData`."""
        shape = tuple(int(d) for d in data.input_shape)
        classification = data.task == "classification"
        targets = 0 if classification else int(np.prod(data.y_train.shape[1:], dtype=np.int64))
        classes = len(data.class_names) if classification else 0
        return cls(
            str(data.name), shape, str(data.task), classes, targets, not isinstance(data, PreparedData)
        )

    @property
    def outputs(self) -> int:
        """The outputs a network needs: one per class, or one per regression target."""
        return self.classes if self.task == "classification" else self.targets


def output_problem(outputs: int, loss: str, data: DataFacts) -> str | None:
    """Why a network with ``outputs`` outputs and ``loss`` cannot train on ``data``, or None when it can.

    Classification needs one output per class, or one output under the sigmoid loss for two classes;
    regression needs one output per target.
    """
    if data.task == "classification":
        classes = data.classes
        if outputs == classes or (classes == 2 and outputs == 1 and loss == BINARY_LOSS):
            return None
        return (
            f"the network ends in {outputs} outputs but the {data.name} data has {classes} classes; "
            f"its last layer needs {classes} units"
        )
    if outputs == data.targets:
        return None
    return (
        f"the {data.name} data has {data.targets} regression targets per sample but the network has "
        f"{outputs} outputs"
    )


def _valid_shape(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list | tuple) or len(value) not in (1, 3):
        return None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
        return None
    return tuple(value)


def _analysis(spec: dict[str, Any], shape: tuple[int, ...]) -> Analysis:
    return analyze({**spec, "input_shape": list(shape)})


def _reach(analysis: Analysis) -> int:
    """How far a spec gets: the layers set up, one more when it is whole."""
    return len(analysis.layers) + (1 if analysis.ok else 0)


def fit_input(spec: dict[str, Any], data: DataFacts) -> tuple[tuple[int, ...] | None, SpecError | None]:
    """The input half of the rule: the new input shape (None: keep it) and why the data cannot be taken
    (None: it can, or the spec has a problem of its own that building it reports).

    The candidates are the spec's own shape when it holds as many values as a sample, the data's image shape
    and its flattened shape (prepared data: only its own shape); the one the network gets furthest with wins,
    the spec's own shape on a tie.
    """
    want = data.sample_shape
    current = _valid_shape(spec.get("input_shape"))
    size = math.prod(want)
    flat = (size,)
    image = want if len(want) == 3 else None
    candidates: list[tuple[int, ...]] = [want]
    if data.reshapes:
        candidates = []
        if current is not None and math.prod(current) == size:
            candidates.append(current)
        if image is not None and current is not None and len(current) == 3:
            candidates.append(image)
        candidates.append(flat)
        if image is not None:
            candidates.append(image)
    unique = list(dict.fromkeys(candidates))
    analyses = [_analysis(spec, shape) for shape in unique]
    best = max(range(len(unique)), key=lambda i: (_reach(analyses[i]), -i))
    chosen, analysis = unique[best], analyses[best]
    if chosen == current:
        return None, None
    error = analysis.error
    if error is not None and error.index == 0 and not analysis.layers:
        # Not even the first layer takes the data, in any shape.
        if data.reshapes and current is not None and math.prod(current) == size:
            return None, None  # the spec's own problem; building it says what
        problem = SpecError(
            f"cannot take the {data.name} samples of shape {shape_text(want)}: it {error.message}",
            error.index,
            error.layer_type,
        )
        return None, problem
    return chosen, None


def _adapt_outputs(spec: dict[str, Any], data: DataFacts, changes: list[str]) -> None:
    """Make the last Dense layer as wide as the data needs (and the loss MSE for regression), in place."""
    loss = spec.get("loss", "softmax_cross_entropy")
    if data.task == "regression" and loss != REGRESSION_LOSS:
        spec["loss"] = loss = REGRESSION_LOSS
        changes.append("loss set to mean squared error")
    outputs = data.outputs
    if loss == BINARY_LOSS and data.classes == 2:
        outputs = 1
    layers = spec.get("layers")
    if not isinstance(layers, list) or outputs <= 0:
        return
    last_dense = next(
        (
            i
            for i in range(len(layers) - 1, -1, -1)
            if isinstance(layers[i], dict) and layers[i].get("type") == "Dense"
        ),
        None,
    )
    if last_dense is not None and layers[last_dense].get("units") != outputs:
        layers[last_dense]["units"] = outputs
        changes.append(f"last Dense layer set to {outputs} units")


def fit_network(
    spec: dict[str, Any], data: Dataset | PreparedData | DataFacts, *, adapt_outputs: bool = False
) -> tuple[dict[str, Any], str | None]:
    """Apply the fit rule to ``spec`` for ``data``.

    Parameters
    ----------
    spec
        A network spec (not changed).
    data
        A loaded data set (its own sample shape), prepared data (the shape its samples were reshaped to) or
        their :class:`DataFacts`.
    adapt_outputs
        Edit the output instead of checking it: the last Dense layer gets as many units as the data needs and
        a regression set the MSE loss; a first layer that cannot take the data is left for the caller to
        show. The desktop app does this when a data set is loaded.

    Returns
    -------
    spec : dict
        A new spec that takes the data (the same content when nothing changed).
    note : str or None
        What changed, in one line (``"input shape set to 1×28×28 from the data"``), or None.

    Raises
    ------
    SpecError
        Without ``adapt_outputs``: when the first layer can take the data in no shape, or the outputs do not
        match the classes or targets (the message names both). A spec with a problem of its own is returned
        as it is; building it raises that problem.
    """
    facts = data if isinstance(data, DataFacts) else DataFacts.of(data)
    fitted = copy.deepcopy(spec)
    changes: list[str] = []
    shape, problem = fit_input(fitted, facts)
    if shape is not None:
        fitted["input_shape"] = list(shape)
        changes.append(f"input shape set to {shape_text(shape)} from the data")
    if adapt_outputs:
        _adapt_outputs(fitted, facts, changes)
    else:
        if problem is not None:
            raise problem
        analysis = analyze(fitted)
        if analysis.ok and analysis.layers:
            out = analysis.layers[-1].output_shape or ()
            reason = output_problem(math.prod(out), str(fitted.get("loss", "softmax_cross_entropy")), facts)
            if reason is not None:
                raise SpecError(reason)
    return fitted, "; ".join(changes) or None


def check_fit(
    model_input: tuple[int, ...], outputs: int, loss: str, data: Dataset | PreparedData | DataFacts
) -> None:
    """Assert what :func:`fit_network` guarantees about a built model and its data (the trainer's check).

    Raises
    ------
    SpecError
        When the data's samples do not have the model's input shape, or the outputs do not match the classes
        or targets; the message names both.
    """
    facts = data if isinstance(data, DataFacts) else DataFacts.of(data)
    model_input = tuple(int(d) for d in model_input)
    if facts.sample_shape != model_input:
        raise SpecError(
            f"the network expects samples of shape {shape_text(model_input)} but the {facts.name} samples "
            f"have shape {shape_text(facts.sample_shape)}"
        )
    reason = output_problem(outputs, loss, facts)
    if reason is not None:
        raise SpecError(reason)
