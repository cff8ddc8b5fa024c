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
- updates parameters that are consecutive parts of one array (a model's, :mod:`dllab.parameter_block`) as that
  array, a numpy call for each operation of its rule instead of one per parameter, with the same results
  (the MLP 784-100x4-10's Adam step: 184 us instead of 241 on one core; DeepConvNet's 240 instead of 395);
- takes ``weight_decay`` (L2 added to the gradient of weights only, i.e. keys whose last dotted component is
  ``"W"``; AdamW decays the same weights directly instead) and ``clip_norm`` (global gradient-norm clipping,
  applied to the raw gradients before weight decay);
- describes its hyperparameters in ``SETTINGS`` (:class:`~dllab.settings.Setting`: bounds the constructor
  validates from, the editor range and scale, a label and a help line);
- has a public, mutable ``lr`` (a learning-rate schedule sets it every epoch), a ``step_count``,
  ``get_config()`` and ``reset()``, and is found by name in :data:`OPTIMIZERS` (:func:`get`,
  :func:`from_config`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from dllab import parameter_block
from dllab.registry import Registry
from dllab.settings import Configurable, Setting, check_number, check_whole_number, finite_number

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamW",
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
]


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
# Settings shared by several optimizers
# ----------------------------------------------------------------------------------------------------------


def _lr(default: float, help: str = "Learning rate: the size of each step.", low: float = 1e-5) -> Setting:
    return Setting(
        "lr", "float", default, help, "Learning rate", minimum=0.0, editor_range=(low, 10.0), log_scale=True
    )


def _decay_rate(name: str, default: float, help: str, label: str, high: float = 0.999) -> Setting:
    """A decay rate in [0, 1): momentum, beta1, beta2, rho."""
    return Setting(
        name,
        "float",
        default,
        help,
        label,
        minimum=0.0,
        maximum=1.0,
        exclusive_maximum=True,
        editor_range=(0.0, high),
    )


def _eps(default: float, help: str = "Small constant that prevents division by zero.") -> Setting:
    return Setting(
        "eps",
        "float",
        default,
        help,
        "ε",
        minimum=0.0,
        exclusive_minimum=True,
        editor_range=(1e-10, 1e-2),
        log_scale=True,
    )


def _weight_decay(default: float, help: str) -> Setting:
    return Setting(
        "weight_decay", "float", default, help, "Weight decay", minimum=0.0, editor_range=(0.0, 0.1)
    )


_WEIGHT_DECAY = _weight_decay(0.0, "L2 penalty on weights (keys ending in .W), added to the gradient.")
_CLIP_NORM = Setting(
    "clip_norm",
    "float",
    None,
    "If on, rescale all gradients together so their global L2 norm is at most this value.",
    "Clip norm",
    minimum=0.0,
    exclusive_minimum=True,
    optional=True,
    editor_range=(1e-3, 100.0),
    log_scale=True,
)
_MOMENTUM = _decay_rate("momentum", 0.9, "Fraction of the previous velocity kept at each step.", "Momentum")
_BETA1 = _decay_rate("beta1", 0.9, "Decay rate of the running mean of gradients.", "β₁")
_BETA2 = _decay_rate("beta2", 0.999, "Decay rate of the running mean of squared gradients.", "β₂", 0.99999)


# ----------------------------------------------------------------------------------------------------------
# Base class
# ----------------------------------------------------------------------------------------------------------


class Optimizer(Configurable):
    """Base class: updates a dict of parameter arrays in place from a dict of gradients with the same keys.

    Subclasses set ``name``, ``DESCRIPTION``, ``SETTINGS`` and ``_STATE_NAMES``, pass their hyperparameters
    to this constructor by keyword (it validates them from ``SETTINGS`` and keeps each as an attribute of the
    same name) and implement :meth:`_step`. Every optimizer takes these keywords, documented here once (a
    subclass documents only its own parameters; its signature gives the defaults):

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

    DESCRIPTION: ClassVar[str] = ""
    _STATE_NAMES: ClassVar[tuple[str, ...]] = ()
    _DECOUPLED_DECAY: ClassVar[bool] = False
    KEYWORD_ONLY = frozenset({"weight_decay", "clip_norm"})
    weight_decay: float
    clip_norm: float | None

    def __init__(self, *args: Any, **hyperparameters: Any) -> None:
        super().__init__(*args, **hyperparameters)
        self.step_count = 0
        self.state: dict[str, dict[str, Any]] = {}
        self._scratch: dict[tuple[int, np.dtype], np.ndarray] = {}
        self._last_block: _Block | None = None

    # -- public API -----------------------------------------------------------------------------------------

    @property
    def lr(self) -> float:
        """Learning rate (``>= 0``); setting it validates the value (:class:`~dllab.errors.SettingsError`)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        setting = next(s for s in self.SETTINGS if s.name == "lr")
        self._lr = setting.validate(value, type(self).__name__)

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
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":  # (issubdtype: 10x slower)
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
        if self._DECOUPLED_DECAY and self.weight_decay != 0.0:
            shrink = 1.0 - self.lr * self.weight_decay
            for key, param in params.items():
                if is_weight_key(key):
                    param *= shrink
        block = self._block(params, grads)
        if block is not None:
            self._step(block.param, self._block_grad(block, grads, scale), block.state)
            for state in block.keyed:
                state["t"] = block.state["t"]
            return
        for key, param in params.items():
            grad = self._effective_grad(key, param, np.asarray(grads[key]), scale)
            self._step(param, grad, self._state_for(key, param))

    def reset(self) -> None:
        """Forget all state (velocities, averages, step counts); hyperparameters are kept."""
        self.step_count = 0
        self.state.clear()
        self._scratch.clear()
        self._last_block = None

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

    def _block(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> _Block | None:
        """``params`` as one block to update in one pass (:mod:`dllab.parameter_block`), or None when they are
        not consecutive parts of one array, their gradients are of another type, or their states have counted
        different numbers of steps. The block is kept while updates pass the same arrays (a run passes them
        at every step); any other update makes it again."""
        block = self._last_block
        if block is None or not block.holds(params):
            whole = parameter_block.block_of(tuple(params.values()))
            block = None if whole is None else self._new_block(params, whole)
        if block is not None and any(np.asarray(grads[key]).dtype != block.param.dtype for key in params):
            block = None
        self._last_block = block
        return block

    def _new_block(self, params: dict[str, np.ndarray], whole: np.ndarray) -> _Block | None:
        """The state of ``params`` over ``whole`` (each parameter's state arrays become views of it)."""
        keyed = [self._state_for(key, param, arrays=False) for key, param in params.items()]
        if len({state["t"] for state in keyed}) > 1:
            return None
        state: dict[str, Any] = {"t": keyed[0]["t"]}
        for name in self._STATE_NAMES:
            state[name] = np.zeros_like(whole)
            parts = parameter_block.parts_like(state[name], params).values()
            for one, part in zip(keyed, parts, strict=True):
                if name in one:  # a state the parameter had: kept
                    part[...] = one[name]
                one[name] = part
        weights, start = [], 0
        for key, param in params.items():
            if is_weight_key(key):
                weights.append(slice(start, start + param.size))
            start += param.size
        return _Block(tuple(params), tuple(params.values()), whole, state, keyed, weights)

    def _block_grad(self, block: _Block, grads: Mapping[str, np.ndarray], scale: float) -> np.ndarray:
        """The block's gradient as the rule sees it (clipped, plus L2 decay for weights): a scratch array,
        computed as :meth:`_effective_grad` computes each parameter's."""
        grad = self._buffer(0, block.param)
        np.concatenate([np.asarray(grads[key]).reshape(-1) for key in block.keys], out=grad)
        if scale != 1.0:
            grad *= scale
        decay = 0.0 if self._DECOUPLED_DECAY else self.weight_decay
        if decay != 0.0:
            tmp = self._buffer(1, block.param)
            for part in block.weights:
                np.multiply(block.param[part], decay, out=tmp[part])
                grad[part] += tmp[part]
        return grad

    def _state_for(self, key: str, param: np.ndarray, *, arrays: bool = True) -> dict[str, Any]:
        """State of parameter ``key``, created (or re-created if its shape or dtype changed) lazily; created
        without its arrays when not ``arrays`` (the caller gives them)."""
        state = self.state.get(key)
        if state is not None:
            first = state.get(self._STATE_NAMES[0]) if self._STATE_NAMES else param
            if first is not None and first.shape == param.shape and first.dtype == param.dtype:
                return state
        state = {name: np.zeros_like(param) for name in self._STATE_NAMES} if arrays else {}
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

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        """Update ``param`` in place from the effective gradient ``grad`` (read-only)."""
        raise NotImplementedError


@dataclass
class _Block:
    """Parameters that are consecutive parts of one array, updated as that array (:meth:`Optimizer._block`)."""

    keys: tuple[str, ...]
    #: The parameter arrays, in order (held, so that the same arrays are known again by identity).
    arrays: tuple[np.ndarray, ...]
    #: The array they are parts of.
    param: np.ndarray
    #: The rule's state over ``param``: its arrays hold the parameters' own, which are views of them, and
    #: the steps counted (``"t"``).
    state: dict[str, Any]
    #: Each parameter's own state (``Optimizer.state[key]``), in order.
    keyed: list[dict[str, Any]]
    #: Where the weights lie in ``param`` (they decay).
    weights: list[slice]

    def holds(self, params: dict[str, np.ndarray]) -> bool:
        """Whether ``params`` are the block's arrays, under the same keys."""
        return tuple(params) == self.keys and all(
            a is b for a, b in zip(params.values(), self.arrays, strict=True)
        )


# ----------------------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    It takes only the keywords every optimizer has (see :class:`Optimizer`).
    """

    name = "sgd"
    DESCRIPTION = "Steps straight down the gradient: p ← p − lr·g."
    SETTINGS = (_lr(0.01), _WEIGHT_DECAY, _CLIP_NORM)

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        tmp = self._buffer(1, param)
        np.multiply(grad, self.lr, out=tmp)
        param -= tmp


class Momentum(Optimizer):
    """Momentum SGD (the book's form): ``v = momentum * v - lr * g; p += v``.

    Parameters
    ----------
    momentum : float
        Fraction of the velocity kept per step, in ``[0, 1)``.
    """

    name = "momentum"
    DESCRIPTION = "Keeps a velocity that accumulates past gradients, like a ball rolling downhill."
    SETTINGS = (_lr(0.01), _MOMENTUM, _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("v",)
    momentum: float

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        v = state["v"]
        tmp = self._buffer(1, param)
        v *= self.momentum
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        param += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the book's formulation (Bengio et al., arXiv:1212.0901).

    ``p += momentum**2 * v - (1 + momentum) * lr * g; v = momentum * v - lr * g``: the step uses the
    velocity from *before* this update, as the book's ``common/optimizer.py`` does. It takes the parameters of
    :class:`Momentum`.
    """

    name = "nesterov"
    DESCRIPTION = "Momentum that looks ahead along the velocity before stepping, so it overshoots less."

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        v = state["v"]
        tmp = self._buffer(1, param)
        m = self.momentum
        np.multiply(v, m * m, out=tmp)
        param += tmp
        np.multiply(grad, (1.0 + m) * self.lr, out=tmp)
        param -= tmp
        v *= m
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp


class AdaGrad(Optimizer):
    """AdaGrad: ``h += g * g; p -= lr * g / (sqrt(h) + eps)``.

    Parameters
    ----------
    eps : float
        Added to the denominator, ``> 0``.
    """

    name = "adagrad"
    DESCRIPTION = (
        "Divides each step by the root of the summed squared gradients, so busy parameters slow down."
    )
    SETTINGS = (_lr(0.01), _eps(1e-7), _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("h",)
    eps: float

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        h = state["h"]
        tmp = self._buffer(1, param)
        np.square(grad, out=tmp)
        h += tmp
        _scaled_step(param, grad, h, self.lr, self.eps, tmp)


class RMSprop(Optimizer):
    """RMSprop: ``h = rho * h + (1 - rho) * g * g; p -= lr * g / (sqrt(h) + eps)``.

    Parameters
    ----------
    rho : float
        Decay rate of the squared-gradient average, in ``[0, 1)`` (the book's ``decay_rate``).
    eps : float
        Added to the denominator, ``> 0``.
    """

    name = "rmsprop"
    DESCRIPTION = "Like AdaGrad, but with a decaying average of squared gradients, so steps never freeze."
    SETTINGS = (
        _lr(0.01),
        _decay_rate("rho", 0.99, "Decay rate of the squared-gradient average.", "ρ"),
        _eps(1e-7),
        _WEIGHT_DECAY,
        _CLIP_NORM,
    )
    _STATE_NAMES = ("h",)
    rho: float
    eps: float

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        h = state["h"]
        tmp = self._buffer(1, param)
        _average_square(h, grad, self.rho, tmp)
        _scaled_step(param, grad, h, self.lr, self.eps, tmp)


def _average_square(average: np.ndarray, x: np.ndarray, rate: float, tmp: np.ndarray) -> None:
    """``average = rate * average + (1 - rate) * x**2`` in place, using ``tmp`` as the only temporary."""
    average *= rate
    np.square(x, out=tmp)
    tmp *= 1.0 - rate
    average += tmp


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
    """

    name = "adadelta"
    DESCRIPTION = "Scales steps by recent step size over recent gradient size, so it needs little lr tuning."
    SETTINGS = (
        _lr(1.0, "Multiplier of the step; 1.0 is the paper's rule.", low=1e-3),
        _decay_rate("rho", 0.95, "Decay rate of the running averages.", "ρ"),
        _eps(1e-6, "Constant inside the square roots; sets early steps."),
        _WEIGHT_DECAY,
        _CLIP_NORM,
    )
    _STATE_NAMES = ("Eg", "Ed")
    rho: float
    eps: float

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        eg, ed = state["Eg"], state["Ed"]
        tmp = self._buffer(1, param)
        delta = self._buffer(2, param)
        rho = self.rho
        _average_square(eg, grad, rho, tmp)
        np.add(eg, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.add(ed, self.eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= grad
        _average_square(ed, delta, rho, tmp)
        delta *= self.lr
        param -= delta


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, arXiv:1412.6980).

    ``m = beta1 * m + (1 - beta1) * g``; ``v = beta2 * v + (1 - beta2) * g**2``;
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - beta1**t)``,
    ``v_hat = v / (1 - beta2**t)``, ``t`` counted per parameter.

    Parameters
    ----------
    beta1 : float
        Decay rate of the gradient average, in ``[0, 1)``.
    beta2 : float
        Decay rate of the squared-gradient average, in ``[0, 1)``.
    eps : float
        Added to the denominator, ``> 0``.
    """

    name = "adam"
    DESCRIPTION = "Momentum plus RMSprop-style per-parameter step sizes, bias-corrected for the first steps."
    SETTINGS = (_lr(0.001), _BETA1, _BETA2, _eps(1e-8), _WEIGHT_DECAY, _CLIP_NORM)
    _STATE_NAMES = ("m", "v")
    beta1: float
    beta2: float
    eps: float

    def _step(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        m, v = state["m"], state["v"]
        state["t"] += 1
        t = state["t"]
        b1, b2 = self.beta1, self.beta2
        tmp = self._buffer(1, param)
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        _average_square(v, grad, b2, tmp)
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
    The decay does not pass through the gradient, so Adam's per-parameter scaling does not weaken it. It takes
    the parameters of :class:`Adam`; only the meaning and default of ``weight_decay`` differ.

    Parameters
    ----------
    weight_decay : float
        Decoupled decay coefficient for weights, ``>= 0`` (default 0.01).
    """

    name = "adamw"
    DESCRIPTION = "Adam with weight decay applied directly to the weights instead of through the gradient."
    SETTINGS = (
        _lr(0.001),
        _BETA1,
        _BETA2,
        _eps(1e-8),
        _weight_decay(0.01, "Fraction of lr by which weights (.W) shrink every step."),
        _CLIP_NORM,
    )
    _DECOUPLED_DECAY = True


# ----------------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------------

#: Every optimizer by its name (``get`` and ``from_config`` accept the names in any case).
OPTIMIZERS: Registry[Optimizer] = Registry(
    "optimizer", (SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW), ignore_case=True
)


#: An optimizer from a name and hyperparameters, a config or an optimizer: ``get("adam", lr=0.01)``
#: (:meth:`dllab.registry.Registry.create`).
get = OPTIMIZERS.create
#: An optimizer from ``get_config()`` output (:meth:`dllab.registry.Registry.from_config`).
from_config = OPTIMIZERS.from_config
