"""The centre views of a training run, one module each: curves, activations, weights and gradients, filters,
decision boundary, evaluation. :mod:`ui.views.base` holds what they share (export, "does not apply", coalesced
redraws); :mod:`ui.views.series` the bounded buffers behind them."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.views.activations import ActivationsView
from ui.views.base import TrainingView
from ui.views.boundary import BoundaryView
from ui.views.curves import CurvesView
from ui.views.evaluation import EvaluationView
from ui.views.filters import FiltersView
from ui.views.weights import WeightsView

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
