"""The centre views of a training run, one module each: curves, activations, weights and gradients, filters,
decision boundary, evaluation. :mod:`ui.common.view` holds what they share (export, "does not apply", coalesced
redraws); :mod:`ui.common.series` the bounded buffers behind them."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.common.view import TrainingView
from ui.training.views.activations import ActivationsView
from ui.training.views.boundary import BoundaryView
from ui.training.views.curves import CurvesView
from ui.training.views.evaluation import EvaluationView
from ui.training.views.filters import FiltersView
from ui.training.views.weights import WeightsView

__all__ = [
    "ActivationsView",
    "BoundaryView",
    "CurvesView",
    "EvaluationView",
    "FiltersView",
    "TrainingView",
    "WeightsView",
    "make_views",
]


def make_views(parent: QWidget | None = None) -> list[TrainingView]:
    """One of each view, in tab order."""
    return [
        CurvesView(parent),
        ActivationsView(parent),
        WeightsView(parent),
        FiltersView(parent),
        BoundaryView(parent),
        EvaluationView(parent),
    ]
