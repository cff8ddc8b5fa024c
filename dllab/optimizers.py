"""Gradient-descent optimizers that update a dict of parameter arrays in place.

One implementation serves both network training (keys such as ``"dense_1.W"``) and the 2D optimizer
playground (``{"xy": np.array([-7.0, 2.0])}``). The update rules follow "Deep Learning from Scratch"
(``common/optimizer.py``): SGD, Momentum, Nesterov, AdaGrad and RMSprop step exactly as the book's classes do;
Adam is the bias-corrected rule of Kingma & Ba; AdaDelta follows Zeiler; AdamW follows Loshchilov & Hutter.

Every optimizer

- changes the arrays in ``params`` in place (never rebinds a dict entry) and keeps their dtype;
- keeps its state (velocities, squared-gradient averages, ...) keyed by parameter *name*, created lazily on the
  first update, so a model that is rebuilt or reloaded with the same keys keeps its optimizer state;
- never writes into the caller's gradient arrays;
- takes ``weight_decay`` (L2 added to the gradient of weights only, i.e. keys whose last dotted component is
  ``"W"``; AdamW decays the same weights directly instead) and ``clip_norm`` (global gradient-norm clipping,
  applied to the raw gradients before weight decay);
- has a public, mutable ``lr`` (a learning-rate schedule sets it every epoch), a ``step_count``,
  ``get_config()`` / ``from_config()`` and ``reset()``.

The module also holds the small pieces shared with :mod:`dllab.schedules` and the other modules that check
settings: :class:`Hyperparameter` (what a GUI needs to build an editor for one hyperparameter),
:func:`finite_number`, :func:`check_number` and :func:`check_whole_number` (validation that raises
:class:`~dllab.errors.SettingsError`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dllab.errors import SettingsError, quote

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Hyperparameter",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "check_number",
    "check_whole_number",
    "finite_number",
    "from_config",
    "get",
    "is_weight_key",
    "make_from_config",
    "make_from_registry",
]


# ----------------------------------------------------------------------------------------------------------
# Shared helpers (also used by dllab.schedules)
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameter:
    """Description of one hyperparameter, enough for a GUI to build an editor for it.

    Parameters
    ----------
    name : str
        Keyword argument of the constructor (and key in ``get_config()``).
    default : float or None
        The constructor's default value. ``None`` means "off" (only when ``optional`` is true).
    minimum, maximum : float
        Suggested editor range. These are not the validation limits: the constructor accepts any value
        allowed by the mathematics (e.g. any ``lr >= 0``), the range only guides sliders and spin boxes.
    log_scale : bool
        Whether the editor should move on a logarithmic scale (learning rates, epsilons).
    help : str
        One-line explanation, suitable for a tooltip.
    optional : bool
        Whether ``None`` is an accepted value meaning "disabled" (e.g. ``clip_norm``).
    integer : bool
        Whether the value is naturally a whole number (e.g. epochs); an editor may use an integer spin box.
    """

    name: str
    default: float | None
    minimum: float
    maximum: float
    log_scale: bool
    help: str
    optional: bool = False
    integer: bool = False


def finite_number(value: Any) -> float | None:
    """``value`` as a finite Python float, or None when it cannot be one.

    Parameters
    ----------
    value : Any
        The value received.

    Returns
    -------
    float or None
        ``float(value)`` for a real number (int, float, NumPy scalar, fraction) whose float is finite; None
        for booleans, strings, None and other objects, for NaN and infinities, and for integers too large
        for a float.

    Examples
    --------
    >>> finite_number(3), finite_number(True), finite_number("3"), finite_number(10**400)
    (3.0, None, None, None)
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        return None
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_number(
    owner: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_none: bool = False,
) -> float | None:
    """Validate one numeric hyperparameter and return it as a Python float.

    Parameters
    ----------
    owner : str
        Name of the object being configured, used in the message (e.g. ``"Adam"``).
    name : str
        Name of the hyperparameter, used in the message.
    value : Any
        The value received.
    minimum, maximum : float, optional
        Bounds; ``None`` means unbounded on that side.
    min_inclusive, max_inclusive : bool
        Whether the bounds themselves are allowed.
    allow_none : bool
        Whether ``None`` is accepted (and returned unchanged).

    Returns
    -------
    float or None
        ``float(value)``, or ``None`` when ``value`` is ``None`` and ``allow_none`` is true.

    Raises
    ------
    SettingsError
        One sentence naming the owner, the hyperparameter, the constraint and the value received, when the
        value is not a finite real number within the bounds (see :func:`finite_number`).
    """
    if value is None and allow_none:
        return None
    number = finite_number(value)
    ok = number is not None
    if ok and minimum is not None:
        ok = number >= minimum if min_inclusive else number > minimum
    if ok and maximum is not None:
        ok = number <= maximum if max_inclusive else number < maximum
    if not ok:
        parts = []
        if minimum is not None:
            parts.append(f"{'>=' if min_inclusive else '>'} {minimum:g}")
        if maximum is not None:
            parts.append(f"{'<=' if max_inclusive else '<'} {maximum:g}")
        constraint = "a finite number" + (" " + " and ".join(parts) if parts else "")
        if allow_none:
            constraint += " or None"
        raise SettingsError(f"{owner}: {name} must be {constraint}, got {quote(value)}.")
    return number


def check_whole_number(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Validate a count (steps, processes, a batch size, a seed) and return it as a Python int.

    Parameters
    ----------
    name : str
        What the value is, used in the message (e.g. ``"batch_size"``).
    value : Any
        The value received: an int or NumPy integer (booleans are rejected).
    minimum : int
        The smallest value allowed.
    maximum : int, optional
        The largest value allowed; ``None`` means unbounded.

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    SettingsError
        One sentence naming the value, the range and what was received, otherwise.

    Examples
    --------
    >>> check_whole_number("steps", 0, minimum=0)
    0
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)
    if ok:
        number = int(value)
        ok = number >= minimum and (maximum is None or number <= maximum)
    if not ok:
        limits = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise SettingsError(f"{name} must be a whole number {limits}, got {quote(value)}")
    return number


def make_from_registry(registry: Mapping[str, type], kind: str, name: Any, kwargs: Mapping[str, Any]) -> Any:
    """Instantiate ``registry[name.lower()]`` with ``kwargs``, with one-sentence errors.

    Parameters
    ----------
    registry : Mapping[str, type]
        Lowercase name to class; each class has a ``HYPERPARAMETERS`` tuple of :class:`Hyperparameter`.
    kind : str
        What the registry holds, for messages (``"optimizer"``, ``"schedule"``).
    name : Any
        The requested name (case-insensitive).
    kwargs : Mapping[str, Any]
        Hyperparameters for the constructor.

    Returns
    -------
    Any
        The new instance.

    Raises
    ------
    SettingsError
        For an unknown name, an unknown hyperparameter, or a value the constructor rejects.
    """
    known = ", ".join(registry)
    if not isinstance(name, str) or name.lower() not in registry:
        raise SettingsError(f"Unknown {kind} {quote(name)}; expected one of: {known}.")
    cls = registry[name.lower()]
    accepted = [h.name for h in cls.HYPERPARAMETERS]
    for key in kwargs:
        if key not in accepted:
            accepts = ", ".join(accepted) if accepted else "none"
            raise SettingsError(f"{cls.__name__} has no hyperparameter {quote(key)}; it accepts: {accepts}.")
    return cls(**kwargs)


def make_from_config(registry: Mapping[str, type], kind: str, config: Any) -> Any:
    """Instantiate from a ``get_config()`` dict, ``{"type": name, **hyperparameters}``, with one-sentence errors.

    Parameters
    ----------
    registry : Mapping[str, type]
        As for :func:`make_from_registry`.
    kind : str
        What the registry holds, for messages (``"optimizer"``, ``"schedule"``).
    config : Any
        The config; not modified.

    Returns
    -------
    Any
        The new instance.

    Raises
    ------
    SettingsError
        If ``config`` is not a mapping with a ``"type"``, or for anything :func:`make_from_registry` rejects.
    """
    if not isinstance(config, Mapping) or "type" not in config:
        article = "An" if kind[:1] in "aeiou" else "A"
        raise SettingsError(f"{article} {kind} config must be a dict with a 'type' key, got {quote(config)}.")
    return make_from_registry(
        registry, kind, config["type"], {k: v for k, v in config.items() if k != "type"}
    )


def is_weight_key(key: str) -> bool:
    """Whether weight decay applies to the parameter called ``key``.

    Only weights decay: keys whose last dotted component is ``"W"`` (``"dense_1.W"``, ``"conv2d_1.W"``,
    ``"W"``). Biases, BatchNorm ``gamma``/``beta`` and playground keys such as ``"xy"`` do not.

    Parameters
    ----------
    key : str
        Parameter name.

    Returns
    -------
    bool
        True for weights.
    """
    return key.rsplit(".", 1)[-1] == "W"


# ----------------------------------------------------------------------------------------------------------
# Hyperparameter descriptions shared by several optimizers
# ----------------------------------------------------------------------------------------------------------


def _lr_entry(default: float) -> Hyperparameter:
    return Hyperparameter("lr", default, 1e-5, 10.0, True, "Learning rate: the size of each step.")


_WEIGHT_DECAY = Hyperparameter(
    "weight_decay", 0.0, 0.0, 0.1, False, "L2 penalty on weights (keys ending in .W), added to the gradient."
)
_CLIP_NORM = Hyperparameter(
    "clip_norm",
    None,
    1e-3,
    100.0,
    True,
    "If set, rescale all gradients together so their global L2 norm is at most this value.",
    optional=True,
)
_MOMENTUM = Hyperparameter(
    "momentum", 0.9, 0.0, 0.999, False, "Fraction of the previous velocity kept at each step."
)
_EPS7 = Hyperparameter("eps", 1e-7, 1e-10, 1e-2, True, "Small constant that prevents division by zero.")
_BETA1 = Hyperparameter("beta1", 0.9, 0.0, 0.999, False, "Decay rate of the running mean of gradients.")
_BETA2 = Hyperparameter(
    "beta2", 0.999, 0.0, 0.99999, False, "Decay rate of the running mean of squared gradients."
)
_EPS8 = Hyperparameter("eps", 1e-8, 1e-10, 1e-2, True, "Small constant that prevents division by zero.")


# ----------------------------------------------------------------------------------------------------------
# Base class
# ----------------------------------------------------------------------------------------------------------


class Optimizer:
    """Base class: updates a dict of parameter arrays in place from a dict of gradients with the same keys.

    Subclasses set ``name``, ``DESCRIPTION``, ``HYPERPARAMETERS`` and ``_STATE_NAMES`` and implement
    :meth:`_step`. Hyperparameters are attributes with the names listed in ``HYPERPARAMETERS``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``. Public and mutable: ``opt.lr = 0.01`` takes effect at the next update.
    weight_decay : float
        L2 coefficient ``>= 0`` added as ``weight_decay * p`` to the gradient of weights
        (see :func:`is_weight_key`). AdamW applies it decoupled instead.
    clip_norm : float or None
        If set (``> 0``), all gradients are scaled by ``clip_norm / total_norm`` when their global L2 norm
        exceeds it. A non-finite norm is left unscaled so that divergence stays visible.

    Attributes
    ----------
    step_count : int
        Number of calls to :meth:`update` since creation or :meth:`reset`.
    state : dict[str, dict[str, Any]]
        Per-parameter state keyed by parameter name (read it, do not modify it).
    """

    name: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    HYPERPARAMETERS: ClassVar[tuple[Hyperparameter, ...]] = ()
    _STATE_NAMES: ClassVar[tuple[str, ...]] = ()
    _DECOUPLED_DECAY: ClassVar[bool] = False

    def __init__(self, lr: float, *, weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        self.lr = lr
        self.weight_decay = check_number(type(self).__name__, "weight_decay", weight_decay, minimum=0.0)
        self.clip_norm = check_number(
            type(self).__name__, "clip_norm", clip_norm, minimum=0.0, min_inclusive=False, allow_none=True
        )
        self.step_count = 0
        self.state: dict[str, dict[str, Any]] = {}
        self._scratch: dict[tuple[int, np.dtype], np.ndarray] = {}

    # -- public API -----------------------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        """Learning rate (``>= 0``); setting it validates the value (:class:`~dllab.errors.SettingsError`)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_number(type(self).__name__, "lr", value, minimum=0.0)

    def update(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Apply one optimisation step to ``params`` in place.

        Parameters
        ----------
        params : dict[str, numpy.ndarray]
            Floating-point arrays of any shape and dtype, changed in place (dtype kept). Only these keys are
            updated, so passing a subset of a model's parameters freezes the rest.
        grads : Mapping[str, numpy.ndarray]
            Gradients with (at least) the keys of ``params`` and the same shapes. Never modified. Keys not in
            ``params`` are ignored.

        Raises
        ------
        ValueError
            If a gradient is missing or has the wrong shape.
        TypeError
            If a parameter is not a floating-point numpy array (it could not be changed in place).
        """
        for key, param in params.items():
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise TypeError(
                    f"{type(self).__name__}: parameter {key!r} must be a floating-point numpy array to be "
                    f"updated in place, got {type(param).__name__}"
                    f"{' of dtype ' + str(param.dtype) if isinstance(param, np.ndarray) else ''}."
                )
            if key not in grads:
                raise ValueError(f"{type(self).__name__}: no gradient for parameter {key!r}.")
            if np.shape(grads[key]) != param.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient for {key!r} has shape {np.shape(grads[key])}, "
                    f"parameter has shape {param.shape}."
                )

        scale = self._clip_scale(params, grads)
        self.step_count += 1
        for key, param in params.items():
            grad = self._effective_grad(key, param, np.asarray(grads[key]), scale)
            self._step(key, param, grad, self._state_for(key, param))

    def reset(self) -> None:
        """Forget all state (velocities, averages, step counts); hyperparameters are kept."""
        self.step_count = 0
        self.state.clear()
        self._scratch.clear()

    def get_config(self) -> dict[str, Any]:
        """Return the configuration as a plain, JSON-serialisable dict.

        Returns
        -------
        dict[str, Any]
            ``{"type": <registry name>, <hyperparameter>: <value>, ...}``; :func:`from_config` rebuilds an
            equivalent optimizer (without state).
        """
        config: dict[str, Any] = {"type": self.name}
        for hyper in self.HYPERPARAMETERS:
            config[hyper.name] = getattr(self, hyper.name)
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{h.name}={getattr(self, h.name)!r}" for h in self.HYPERPARAMETERS)
        return f"{type(self).__name__}({args})"

    # -- machinery ------------------------------------------------------------------------------------------

    def _clip_scale(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> float:
        """Factor by which all gradients are multiplied (1.0 unless clipping is on and needed)."""
        if self.clip_norm is None:
            return 1.0
        total = 0.0
        for key in params:
            flat = np.ravel(grads[key])
            total += float(np.dot(flat, flat))
        norm = math.sqrt(total)
        if math.isfinite(norm) and norm > self.clip_norm:
            return self.clip_norm / norm
        return 1.0

    def _effective_grad(self, key: str, param: np.ndarray, grad: np.ndarray, scale: float) -> np.ndarray:
        """The gradient the rule sees: clipped, plus L2 decay for weights; a scratch array, never ``grad``'s
        memory when anything changes."""
        decay = self.weight_decay if (not self._DECOUPLED_DECAY and is_weight_key(key)) else 0.0
        if scale == 1.0 and decay == 0.0:
            return grad
        work = self._buffer(0, param)
        np.multiply(grad, scale, out=work)
        if decay != 0.0:
            tmp = self._buffer(1, param)
            np.multiply(param, decay, out=tmp)
            work += tmp
        return work

    def _state_for(self, key: str, param: np.ndarray) -> dict[str, Any]:
        """State of parameter ``key``, created (or re-created if its shape or dtype changed) lazily."""
        state = self.state.get(key)
        if state is not None:
            first = state.get(self._STATE_NAMES[0]) if self._STATE_NAMES else None
            if first is None or (first.shape == param.shape and first.dtype == param.dtype):
                return state
        state = {name: np.zeros_like(param) for name in self._STATE_NAMES}
        state["t"] = 0
        self.state[key] = state
        return state

    def _buffer(self, slot: int, like: np.ndarray) -> np.ndarray:
        """A reusable scratch array shaped and typed like ``like`` (slots 0..2; contents are garbage)."""
        key = (slot, like.dtype)
        flat = self._scratch.get(key)
        if flat is None or flat.size < like.size:
            flat = np.empty(like.size, dtype=like.dtype)
            self._scratch[key] = flat
        return flat[: like.size].reshape(like.shape)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        """Update ``param`` in place from the effective gradient ``grad`` (read-only)."""
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "sgd"
    DESCRIPTION = "Steps straight down the gradient: p ← p − lr·g."
    HYPERPARAMETERS = (_lr_entry(0.01), _WEIGHT_DECAY, _CLIP_NORM)

    def __init__(
        self, lr: float = 0.01, *, weight_decay: float = 0.0, clip_norm: float | None = None
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        tmp = self._buffer(1, param)
        np.multiply(grad, self.lr, out=tmp)
        param -= tmp


class Momentum(Optimizer):
    """Momentum SGD (the book's form): ``v = momentum * v - lr * g; p += v``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    momentum : float
        Fraction of the velocity kept per step, in ``[0, 1)``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "momentum"
    DESCRIPTION = "Keeps a velocity that accumulates past gradients, like a ball rolling downhill."
    HYPERPARAMETERS = (_lr_entry(0.01), _MOMENTUM, _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("v",)

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.9,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)
        self.momentum = check_number(
            type(self).__name__, "momentum", momentum, minimum=0.0, maximum=1.0, max_inclusive=False
        )

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        v = state["v"]
        tmp = self._buffer(1, param)
        v *= self.momentum
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        param += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the book's formulation (Bengio et al., arXiv:1212.0901).

    ``v = momentum * v - lr * g; p += momentum**2 * v - (1 + momentum) * lr * g``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    momentum : float
        Fraction of the velocity kept per step, in ``[0, 1)``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "nesterov"
    DESCRIPTION = "Momentum that looks ahead along the velocity before stepping, so it overshoots less."

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        v = state["v"]
        tmp = self._buffer(1, param)
        m = self.momentum
        v *= m
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        np.multiply(v, m * m, out=tmp)
        param += tmp
        np.multiply(grad, (1.0 + m) * self.lr, out=tmp)
        param -= tmp


class AdaGrad(Optimizer):
    """AdaGrad: ``h += g * g; p -= lr * g / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    eps : float
        Added to the denominator, ``> 0``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "adagrad"
    DESCRIPTION = (
        "Divides each step by the root of the summed squared gradients, so busy parameters slow down."
    )
    HYPERPARAMETERS = (_lr_entry(0.01), _EPS7, _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("h",)

    def __init__(
        self,
        lr: float = 0.01,
        eps: float = 1e-7,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)
        self.eps = check_number(type(self).__name__, "eps", eps, minimum=0.0, min_inclusive=False)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        h = state["h"]
        tmp = self._buffer(1, param)
        np.square(grad, out=tmp)
        h += tmp
        _scaled_step(param, grad, h, self.lr, self.eps, tmp)


class RMSprop(Optimizer):
    """RMSprop: ``h = rho * h + (1 - rho) * g * g; p -= lr * g / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    rho : float
        Decay rate of the squared-gradient average, in ``[0, 1)`` (the book's ``decay_rate``).
    eps : float
        Added to the denominator, ``> 0``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "rmsprop"
    DESCRIPTION = "Like AdaGrad, but with a decaying average of squared gradients, so steps never freeze."
    HYPERPARAMETERS = (
        _lr_entry(0.01),
        Hyperparameter("rho", 0.99, 0.0, 0.999, False, "Decay rate of the squared-gradient average."),
        _EPS7,
        _WEIGHT_DECAY,
        _CLIP_NORM,
    )
    _STATE_NAMES = ("h",)

    def __init__(
        self,
        lr: float = 0.01,
        rho: float = 0.99,
        eps: float = 1e-7,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)
        owner = type(self).__name__
        self.rho = check_number(owner, "rho", rho, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.eps = check_number(owner, "eps", eps, minimum=0.0, min_inclusive=False)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        h = state["h"]
        tmp = self._buffer(1, param)
        h *= self.rho
        np.square(grad, out=tmp)
        tmp *= 1.0 - self.rho
        h += tmp
        _scaled_step(param, grad, h, self.lr, self.eps, tmp)


def _scaled_step(
    param: np.ndarray, grad: np.ndarray, h: np.ndarray, lr: float, eps: float, tmp: np.ndarray
) -> None:
    """``param -= lr * grad / (sqrt(h) + eps)`` using ``tmp`` as the only temporary."""
    np.sqrt(h, out=tmp)
    tmp += eps
    np.divide(grad, tmp, out=tmp)
    tmp *= lr
    param -= tmp


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler, arXiv:1212.5701).

    ``Eg = rho * Eg + (1 - rho) * g**2``;
    ``d = sqrt(Ed + eps) / sqrt(Eg + eps) * g``;
    ``Ed = rho * Ed + (1 - rho) * d**2``;
    ``p -= lr * d``.

    Parameters
    ----------
    lr : float
        Multiplier of the step, ``>= 0`` (1.0 is the paper's rule).
    rho : float
        Decay rate of both running averages, in ``[0, 1)``.
    eps : float
        Added inside both square roots, ``> 0``; it also sets the size of the very first steps.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "adadelta"
    DESCRIPTION = "Scales steps by recent step size over recent gradient size, so it needs little lr tuning."
    HYPERPARAMETERS = (
        Hyperparameter("lr", 1.0, 1e-3, 10.0, True, "Multiplier of the step; 1.0 is the paper's rule."),
        Hyperparameter("rho", 0.95, 0.0, 0.999, False, "Decay rate of the running averages."),
        Hyperparameter("eps", 1e-6, 1e-10, 1e-2, True, "Constant inside the square roots; sets early steps."),
        _WEIGHT_DECAY,
        _CLIP_NORM,
    )
    _STATE_NAMES = ("Eg", "Ed")

    def __init__(
        self,
        lr: float = 1.0,
        rho: float = 0.95,
        eps: float = 1e-6,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)
        owner = type(self).__name__
        self.rho = check_number(owner, "rho", rho, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.eps = check_number(owner, "eps", eps, minimum=0.0, min_inclusive=False)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        eg, ed = state["Eg"], state["Ed"]
        tmp = self._buffer(1, param)
        delta = self._buffer(2, param)
        rho = self.rho
        eg *= rho
        np.square(grad, out=tmp)
        tmp *= 1.0 - rho
        eg += tmp
        np.add(eg, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(ed, self.eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= grad
        ed *= rho
        np.square(delta, out=tmp)
        tmp *= 1.0 - rho
        ed += tmp
        delta *= self.lr
        param -= delta


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, arXiv:1412.6980).

    ``m = beta1 * m + (1 - beta1) * g``; ``v = beta2 * v + (1 - beta2) * g**2``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - beta1**t)``,
    ``v_hat = v / (1 - beta2**t)``, ``t`` counted per parameter.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    beta1 : float
        Decay rate of the gradient average, in ``[0, 1)``.
    beta2 : float
        Decay rate of the squared-gradient average, in ``[0, 1)``.
    eps : float
        Added to the denominator, ``> 0``.
    weight_decay : float
        L2 coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "adam"
    DESCRIPTION = "Momentum plus RMSprop-style per-parameter step sizes, bias-corrected for the first steps."
    HYPERPARAMETERS = (_lr_entry(0.001), _BETA1, _BETA2, _EPS8, _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("m", "v")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm)
        owner = type(self).__name__
        self.beta1 = check_number(owner, "beta1", beta1, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.beta2 = check_number(owner, "beta2", beta2, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.eps = check_number(owner, "eps", eps, minimum=0.0, min_inclusive=False)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        m, v = state["m"], state["v"]
        state["t"] += 1
        t = state["t"]
        b1, b2 = self.beta1, self.beta2
        tmp = self._buffer(1, param)
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.square(grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # sqrt(v_hat) + eps, then lr * m_hat / that, without materialising m_hat or v_hat.
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - b1**t)
        param -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, arXiv:1711.05101).

    Before the Adam step, weights (keys ending in ``.W``) shrink directly: ``p -= lr * weight_decay * p``.
    The decay does not pass through the gradient, so Adam's per-parameter scaling does not weaken it.

    Parameters
    ----------
    lr : float
        Learning rate, ``>= 0``.
    beta1 : float
        Decay rate of the gradient average, in ``[0, 1)``.
    beta2 : float
        Decay rate of the squared-gradient average, in ``[0, 1)``.
    eps : float
        Added to the denominator, ``> 0``.
    weight_decay : float
        Decoupled decay coefficient for weights, ``>= 0``.
    clip_norm : float or None
        Global gradient-norm limit, ``> 0``, or None.
    """

    name = "adamw"
    DESCRIPTION = "Adam with weight decay applied directly to the weights instead of through the gradient."
    HYPERPARAMETERS = (
        _lr_entry(0.001),
        _BETA1,
        _BETA2,
        _EPS8,
        Hyperparameter(
            "weight_decay", 0.01, 0.0, 0.1, False, "Fraction of lr by which weights (.W) shrink every step."
        ),
        _CLIP_NORM,
    )
    _DECOUPLED_DECAY = True

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.01,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, clip_norm=clip_norm)

    def _step(self, key: str, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay != 0.0 and is_weight_key(key):
            param *= 1.0 - self.lr * self.weight_decay
        super()._step(key, param, grad, state)


# ----------------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------------

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW)
}


def get(name: str, **kwargs: Any) -> Optimizer:
    """Create an optimizer by its registry name.

    Parameters
    ----------
    name : str
        One of ``OPTIMIZERS`` (case-insensitive): sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam,
        adamw.
    **kwargs
        Hyperparameters; the rest keep their defaults.

    Returns
    -------
    Optimizer
        A new optimizer without state.

    Raises
    ------
    SettingsError
        For an unknown name, an unknown hyperparameter or an invalid value.
    """
    return make_from_registry(OPTIMIZERS, "optimizer", name, kwargs)


def from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.get_config` output.

    Parameters
    ----------
    config : Mapping[str, Any]
        ``{"type": name, **hyperparameters}``; not modified.

    Returns
    -------
    Optimizer
        A new optimizer without state.

    Raises
    ------
    SettingsError
        If ``config`` is not a mapping with a ``"type"``, or for anything :func:`get` rejects.
    """
    return make_from_config(OPTIMIZERS, "optimizer", config)
