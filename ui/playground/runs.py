"""What the optimizer playground computes: optimizer settings, a request, the runs, presets and the CSV file.

Nothing here draws. A :class:`RunRequest` (function, start, steps, tolerance, optimizers, and which gradient
they follow) goes through :func:`compute_runs`, which builds each optimizer from the engine's registry and
moves the point with :func:`dllab.testfns.run_optimizer`, the same ``update(params, grads)`` code that trains
networks. An optimizer may race several times at different learning rates (the book's chapter 4 lesson). The
view computes whole trajectories up front and animates them by revealing points.
"""

from __future__ import annotations

import csv
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dllab import optimizers, testfns
from dllab.optimizers import Optimizer
from dllab.testfns import Function2D, Trajectory

#: The most updates one run may take.
MAX_STEPS = 10_000

#: Hyperparameters the playground does not offer: weight decay only touches weights (keys ending in ``.W``),
#: never the playground's ``"xy"``, so it would change nothing.
HIDDEN_HYPERPARAMETERS = frozenset({"weight_decay"})


@dataclass(frozen=True)
class OptimizerSetting:
    """One optimizer to run: its registry name and the hyperparameters given to its constructor."""

    name: str
    hyperparameters: Mapping[str, float | None] = field(default_factory=dict)

    def make(self) -> Optimizer:
        """A new optimizer from the engine's registry."""
        return optimizers.get(self.name, **dict(self.hyperparameters))

    @property
    def title(self) -> str:
        """Display name, e.g. ``"AdaGrad"``."""
        return optimizer_title(self.name)


@dataclass(frozen=True)
class RunRequest:
    """Everything that determines the trajectories.

    ``optimizers`` may name an optimizer more than once (with different learning rates); ``h`` is None to
    follow the analytic gradient, or the step of the book's numerical gradient.
    """

    function: str
    start: tuple[float, float]
    steps: int
    tol: float
    optimizers: tuple[OptimizerSetting, ...]
    h: float | None = None

    @property
    def total_steps(self) -> int:
        """Updates over all optimizers."""
        return self.steps * len(self.optimizers)

    @property
    def cost(self) -> int:
        """What the computation costs, in updates with the analytic gradient: a numerical gradient (four
        values of the function per update) makes an update cost about twice as much."""
        return self.total_steps * (1 if self.h is None else 2)


@dataclass(frozen=True)
class Run:
    """One optimizer's trajectory over the request's function.

    Attributes
    ----------
    key : str
        Unique among the runs of a request: the optimizer's registry name, or ``"sgd lr=10"`` when the
        optimizer races at several learning rates.
    title : str
        Display name: ``"SGD"``, or ``"SGD (lr 10)"`` when the optimizer races at several learning rates.
    variant : int
        0 for an optimizer's first run in the request, 1, 2, ... for its further learning rates.
    """

    setting: OptimizerSetting
    trajectory: Trajectory
    distance_to_minimum: float | None
    key: str
    title: str
    variant: int = 0

    @property
    def name(self) -> str:
        """Registry name of the optimizer."""
        return self.setting.name


def optimizer_title(name: str) -> str:
    """Display name of an optimizer: its class name (``"RMSprop"``)."""
    return optimizers.OPTIMIZERS[name].__name__


def nearest_minimum_distance(fn: Function2D, x: float, y: float) -> float | None:
    """Euclidean distance from ``(x, y)`` to the closest global minimum of ``fn``; None when it has none."""
    if not fn.minima:
        return None
    return min(math.hypot(x - mx, y - my) for mx, my in fn.minima)


def compute_runs(request: RunRequest, cancelled: Callable[[], bool] | None = None) -> list[Run] | None:
    """Run every optimizer of ``request`` from its start point.

    Parameters
    ----------
    request : RunRequest
        Function, start, number of steps, tolerance and optimizers.
    cancelled : callable, optional
        Asked between optimizers; when it returns True the computation stops and returns None.

    Returns
    -------
    list[Run] or None
        One run per optimizer, in the request's order; None when cancelled.
    """
    fn = testfns.get(request.function)
    runs = []
    for setting, (key, title, variant) in zip(
        request.optimizers, run_labels(request.optimizers), strict=True
    ):
        if cancelled is not None and cancelled():
            return None
        trajectory = testfns.run_optimizer(
            fn, setting.make(), request.start, request.steps, request.tol, request.h
        )
        x, y = trajectory.positions[-1]
        distance = nearest_minimum_distance(fn, float(x), float(y))
        runs.append(Run(setting, trajectory, distance, key, title, variant))
    return runs


def run_labels(settings: tuple[OptimizerSetting, ...]) -> list[tuple[str, str, int]]:
    """``(key, title, variant)`` of each run (see :class:`Run`): an optimizer that races more than once is
    told apart by its learning rate."""
    counts = Counter(setting.name for setting in settings)
    seen: Counter[str] = Counter()
    keys: set[str] = set()
    labels = []
    for setting in settings:
        variant = seen[setting.name]
        seen[setting.name] += 1
        if counts[setting.name] == 1:
            key, title = setting.name, setting.title
        else:
            lr = setting.hyperparameters.get("lr")
            key, title = f"{setting.name} lr={lr:g}", f"{setting.title} (lr {lr:g})"
            if key in keys:  # the same learning rate twice: number them
                key, title = f"{key} #{variant + 1}", f"{title} #{variant + 1}"
        keys.add(key)
        labels.append((key, title, variant))
    return labels


class BackgroundRuns:
    """:func:`compute_runs` on a daemon thread, for requests too long to compute between two frames.

    Poll :attr:`done`, then read :attr:`runs` (None when cancelled) or :attr:`error`. The thread touches no
    Qt object, so a view that disappears while it runs leaves nothing dangling.
    """

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.runs: list[Run] | None = None
        self.error: Exception | None = None
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._work, name="playground-runs", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        """Whether the computation has ended (finished, failed or cancelled)."""
        return self._finished.is_set()

    def cancel(self) -> None:
        """Stop at the next optimizer boundary; :attr:`runs` stays None."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (tests and shutdown only); True if it ended within ``timeout``."""
        return self._finished.wait(timeout)

    def _work(self) -> None:
        try:
            self.runs = compute_runs(self.request, self._cancel.is_set)
        except Exception as exc:  # shown to the user by the view
            self.error = exc
        finally:
            self._finished.set()


# ----------------------------------------------------------------------------------------------------------
# Presets
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """A ready-made comparison: function, start, steps and the optimizers to switch on.

    An optimizer's ``"lr"`` may be a tuple: it races at each of those learning rates. ``h`` is None to
    follow the analytic gradient, or the step of the book's numerical gradient.
    """

    key: str
    title: str
    description: str
    function: str
    start: tuple[float, float]
    steps: int
    optimizers: Mapping[str, Mapping[str, float | tuple[float, ...] | None]]
    h: float | None = None

    def runs(self) -> list[tuple[str, float]]:
        """``(optimizer, learning rate)`` of every run the preset makes, in order."""
        return [(name, lr) for name, hyper in self.optimizers.items() for lr in learning_rates(hyper)]


def learning_rates(hyperparameters: Mapping[str, float | tuple[float, ...] | None]) -> tuple[float, ...]:
    """The learning rates an optimizer races at: a preset's ``"lr"`` as a tuple (one or several)."""
    lr = hyperparameters.get("lr")
    return tuple(lr) if isinstance(lr, tuple) else (lr,)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "book_4_learning_rate",
            "Book 4.4: learning rates",
            "Gradient descent with the book's numerical gradient on x² + y² from (−3, 4): lr 0.1 reaches the "
            "minimum, lr 10 flies off to about −2.6e13 and lr 1e-10 hardly moves.",
            "sphere",
            (-3.0, 4.0),
            100,
            {"sgd": {"lr": (0.1, 10.0, 1e-10)}},
            h=1e-4,
        ),
        Preset(
            "book_6_8",
            "Book figure 6-8",
            "The book's comparison on x²/20 + y² from (−7, 2): SGD zig-zags, Momentum rolls, "
            "AdaGrad and Adam head straight for the minimum.",
            "book",
            (-7.0, 2.0),
            30,
            {"sgd": {"lr": 0.95}, "momentum": {"lr": 0.1}, "adagrad": {"lr": 1.5}, "adam": {"lr": 0.3}},
        ),
        Preset(
            "rosenbrock_valley",
            "Rosenbrock valley",
            "Every optimizer finds the curved valley at once; following it to (1, 1) is what takes time.",
            "rosenbrock",
            (-1.5, 2.0),
            2000,
            {
                "sgd": {"lr": 0.001},
                "momentum": {"lr": 0.0005},
                "rmsprop": {"lr": 0.003},
                "adam": {"lr": 0.02},
            },
        ),
        Preset(
            "saddle_escape",
            "Escaping a saddle",
            "Starting almost on the ridge of x² − y²: plain SGD crawls, adaptive methods escape quickly.",
            "saddle",
            (-4.0, 0.01),
            40,
            {"sgd": {"lr": 0.05}, "momentum": {"lr": 0.02}, "adagrad": {"lr": 0.3}, "adam": {"lr": 0.1}},
        ),
        Preset(
            "rastrigin_momentum",
            "Rastrigin: local minima",
            "Many local minima: plain SGD stops in the nearest one; momentum rolls through one ridge, "
            "AdaGrad and RMSprop get closer to the global minimum at the origin.",
            "rastrigin",
            (3.2, 2.4),
            300,
            {"sgd": {"lr": 0.002}, "momentum": {"lr": 0.005}, "adagrad": {"lr": 1.0}, "rmsprop": {"lr": 0.1}},
        ),
        Preset(
            "himmelblau_all",
            "Himmelblau: all eight",
            "All eight optimizers from next to the hill top: which of the four minima does each one find?",
            "himmelblau",
            (-0.27, -0.92),
            300,
            {
                "sgd": {"lr": 0.01},
                "momentum": {"lr": 0.002},
                "nesterov": {"lr": 0.002},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.05},
                "adadelta": {"lr": 1.0},
                "adam": {"lr": 0.1},
                "adamw": {"lr": 0.1},
            },
        ),
    )
}


# ----------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------

CSV_HEADER = ("optimizer", "step", "x", "y", "f")


def write_trajectories_csv(path: str | Path, runs: list[Run]) -> int:
    """Write every point of every run as ``optimizer, step, x, y, f`` rows (floats round-trip exactly).

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write (replaced).
    runs : list[Run]
        The runs, each written from step 0 to its last finite point, under its :attr:`Run.key`.

    Returns
    -------
    int
        Number of data rows written.
    """
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for run in runs:
            positions, values = run.trajectory.positions, run.trajectory.values
            for step in range(len(positions)):
                x, y = positions[step]
                writer.writerow((run.key, step, repr(float(x)), repr(float(y)), repr(float(values[step]))))
                rows += 1
    return rows
