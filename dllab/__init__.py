"""dllab: a deep-learning engine written from scratch in numpy.

The engine never imports Qt; it works from scripts, notebooks and the ``dllab`` command line.

>>> import dllab
>>> model = dllab.build("assets/networks/two_layer_net.json", seed=0)   # doctest: +SKIP
>>> loss, grads = model.loss_and_grads(x, t)                           # doctest: +SKIP
"""

from dllab import (
    activations,
    data,
    initializers,
    layers,
    losses,
    metrics,
    numerical,
    optimizers,
    schedules,
    testfns,
)
from dllab.errors import DllabError, SettingsError
from dllab.experiments.compare import Comparison
from dllab.experiments.distributions import activation_distributions, distribution_grid
from dllab.experiments.presets import PRESETS, comparison_from_preset
from dllab.gradcheck import GradcheckResult, gradcheck
from dllab.io import ModelFileError, load, save
from dllab.model import Sequential, build
from dllab.numerical import numerical_diff, numerical_gradient
from dllab.onnx_export import export_onnx
from dllab.spec import LAYER_TYPES, SpecError, analyze
from dllab.trainer import Trainer, TrainingConfig
from dllab.version import __version__ as __version__

__all__ = [
    "LAYER_TYPES",
    "PRESETS",
    "Comparison",
    "DllabError",
    "GradcheckResult",
    "ModelFileError",
    "Sequential",
    "SettingsError",
    "SpecError",
    "Trainer",
    "TrainingConfig",
    "activation_distributions",
    "activations",
    "analyze",
    "build",
    "comparison_from_preset",
    "data",
    "distribution_grid",
    "export_onnx",
    "gradcheck",
    "initializers",
    "layers",
    "load",
    "losses",
    "metrics",
    "numerical",
    "numerical_diff",
    "numerical_gradient",
    "optimizers",
    "save",
    "schedules",
    "testfns",
]
