"""dllab: a deep-learning engine written from scratch in numpy.

The engine never imports Qt; it works from scripts, notebooks and the ``dllab`` command line.

>>> import dllab
>>> model = dllab.build("assets/networks/two_layer_net.json", seed=0)   # doctest: +SKIP
>>> loss, grads = model.loss_and_grads(x, t)                           # doctest: +SKIP
"""

from dllab import activations, initializers, layers, losses
from dllab.gradcheck import GradcheckResult, gradcheck
from dllab.model import Sequential, build
from dllab.spec import LAYER_TYPES, SpecError, analyze

__version__ = "0.1.0"

__all__ = [
    "LAYER_TYPES",
    "GradcheckResult",
    "Sequential",
    "SpecError",
    "activations",
    "analyze",
    "build",
    "gradcheck",
    "initializers",
    "layers",
    "losses",
]
