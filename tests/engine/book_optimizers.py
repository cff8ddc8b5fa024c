"""The update rules of "Deep Learning from Scratch" (``common/optimizer.py``), transcribed from the book's
formulas on their own, so that the engine's optimizers are checked against the book and not against numbers
derived from the engine's code. Each class keeps the book's interface: ``update(params, grads)`` on dicts of
float64 arrays, changed in place."""

from __future__ import annotations

import numpy as np


class SGD:
    def __init__(self, lr: float) -> None:
        self.lr = lr

    def update(self, params: dict, grads: dict) -> None:
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr: float, momentum: float) -> None:
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params: dict, grads: dict) -> None:
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov:
    """Bengio et al. (arXiv:1212.0901) as the book writes it: the position moves with the old velocity."""

    def __init__(self, lr: float, momentum: float) -> None:
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params: dict, grads: dict) -> None:
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class AdaGrad:
    def __init__(self, lr: float) -> None:
        self.lr, self.h = lr, None

    def update(self, params: dict, grads: dict) -> None:
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSprop:
    def __init__(self, lr: float, decay_rate: float) -> None:
        self.lr, self.decay_rate, self.h = lr, decay_rate, None

    def update(self, params: dict, grads: dict) -> None:
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam:
    """The book's Adam: the bias correction folded into the learning rate, 1e-7 added to sqrt(v)."""

    def __init__(self, lr: float, beta1: float, beta2: float) -> None:
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter, self.m, self.v = 0, None, None

    def update(self, params: dict, grads: dict) -> None:
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
