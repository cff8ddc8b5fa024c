"""Tests for dllab.schedules: hand-computed learning rates, validation, configuration round trips."""

import inspect
import json
import math

import pytest

from dllab import schedules
from dllab.schedules import SCHEDULES, Constant, CosineDecay, ExponentialDecay, InverseTimeDecay, StepDecay
from tests.engine.user_errors import LONG, assert_settings_error

ALL_CLASSES = [Constant, StepDecay, ExponentialDecay, InverseTimeDecay, CosineDecay]


@pytest.mark.parametrize("epoch", [0, 1, 5, 100, 2.5])
def test_constant(epoch):
    assert Constant()(0.1, epoch) == 0.1


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(0, 0.8), (2.9, 0.8), (3, 0.4), (5, 0.4), (6, 0.2), (9.5, 0.1), (30, 0.8 / 1024)],
)
def test_step_decay(epoch, expected):
    assert StepDecay(step_size=3, gamma=0.5)(0.8, epoch) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 1.0), (1, 0.5), (3, 0.125), (0.5, 0.7071067811865476), (10, 1 / 1024)]
)
def test_exponential_decay(epoch, expected):
    assert ExponentialDecay(gamma=0.5)(1.0, epoch) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("epoch", "expected"), [(0, 0.3), (2, 0.15), (4, 0.1), (1, 0.2)])
def test_inverse_time_decay(epoch, expected):
    assert InverseTimeDecay(decay=0.5)(0.3, epoch) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, 0.11),
        (5, 0.06),  # halfway: the mean of 0.11 and 0.01
        (2.5, 0.09535533905932738),  # 0.01 + 0.1 * (1 + cos(pi / 4)) / 2
        (7.5, 0.024644660940672627),  # 0.01 + 0.1 * (1 - cos(pi / 4)) / 2
        (10, 0.01),
        (15, 0.01),  # after the end the rate stays at min_lr (the cosine would climb back)
        (25, 0.01),
    ],
)
def test_cosine_decay(epoch, expected):
    assert CosineDecay(total_epochs=10, min_lr=0.01)(0.11, epoch) == pytest.approx(expected, rel=1e-14)


def test_cosine_decay_defaults_to_zero_at_the_end():
    schedule = CosineDecay(total_epochs=4)
    assert schedule(0.2, 2) == pytest.approx(0.1, rel=1e-15)
    assert schedule(0.2, 4) == 0.0


def test_returns_python_floats():
    for cls in ALL_CLASSES:
        assert type(cls()(1, 3)) is float


@pytest.mark.parametrize(
    ("cls", "kwargs", "shown"),
    [
        (StepDecay, {"step_size": 0}, "0"),
        (StepDecay, {"gamma": 1.5}, "1.5"),
        (StepDecay, {"gamma": 0.0}, "0.0"),
        (ExponentialDecay, {"gamma": -0.9}, "-0.9"),
        (InverseTimeDecay, {"decay": -1}, "-1"),
        (InverseTimeDecay, {"decay": "fast"}, "'fast'"),
        (CosineDecay, {"total_epochs": -10}, "-10"),
        (CosineDecay, {"min_lr": float("inf")}, "inf"),
    ],
)
def test_bad_hyperparameters_raise(cls, kwargs, shown):
    with pytest.raises(ValueError, match=next(iter(kwargs))) as info:
        cls(**kwargs)
    assert shown in str(info.value)


@pytest.mark.parametrize(("base_lr", "epoch"), [(-0.1, 0), (0.1, -1), (float("nan"), 0), (0.1, None)])
def test_bad_call_arguments_raise(base_lr, epoch):
    with pytest.raises(ValueError, match="base_lr" if epoch == 0 else "epoch"):
        ExponentialDecay()(base_lr, epoch)


def test_registry_and_get():
    assert list(SCHEDULES) == ["constant", "step", "exponential", "inverse_time", "cosine"]
    schedule = schedules.get("Step", step_size=2, gamma=0.1)
    assert isinstance(schedule, StepDecay)
    assert schedule(1.0, 4) == pytest.approx(0.01)
    assert schedules.get(schedule) is schedule
    assert schedules.get({"type": "cosine", "total_epochs": 5}).get_config() == {
        "type": "cosine",
        "total_epochs": 5.0,
        "min_lr": 0.0,
    }
    with pytest.raises(ValueError, match="'warmup'"):
        schedules.get("warmup")
    with pytest.raises(ValueError, match="'gamma'"):
        schedules.get("cosine", gamma=0.5)
    with pytest.raises(ValueError, match="type"):
        schedules.from_config({"gamma": 0.5})


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_get_config_round_trip(cls):
    kwargs = {s.name: sum(s.editor_range) / 3 for s in cls.SETTINGS}
    schedule = cls(**kwargs)
    config = schedule.get_config()
    assert config["type"] == cls.name
    assert json.loads(json.dumps(config)) == config
    rebuilt = schedules.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    for epoch in (0, 1, 7, 12.5, 400):
        assert rebuilt(0.05, epoch) == schedule(0.05, epoch)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_settings_match_the_constructor(cls):
    if cls is Constant:
        assert cls.SETTINGS == () and cls().get_config() == {"type": "constant"}
    else:
        parameters = inspect.signature(cls).parameters
        assert [s.name for s in cls.SETTINGS] == list(parameters)
    for setting in cls.SETTINGS:
        low, high = setting.editor_range
        assert setting.default == parameters[setting.name].default
        assert low <= setting.default <= high
        assert setting.help and "\n" not in setting.help
        cls(**{setting.name: low})
        cls(**{setting.name: high})
    assert cls.DESCRIPTION and "\n" not in cls.DESCRIPTION


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: schedules.get(LONG), "unknown schedule 'xxx"),
        (lambda: schedules.get(3), "unknown schedule 3 (known: constant, step, "),
        (lambda: schedules.get("step", step_size=0), "StepDecay: step_size must be above 0, got 0"),
        (lambda: schedules.get("step", gamma=1.5), "StepDecay: gamma must be at most 1, got 1.5"),
        (lambda: schedules.get("step", step_size=LONG), "step_size must be"),
        (lambda: schedules.get("step", gamma=math.nan), "gamma must be"),
        (lambda: schedules.get("cosine", total_epochs=10**400), "total_epochs must be"),
        (
            lambda: schedules.get("constant", rate=1),
            "Constant: unknown setting 'rate' (allowed: no settings)",
        ),
        (lambda: schedules.get("exponential", **{LONG: 1}), "ExponentialDecay: unknown setting 'xxx"),
        (lambda: schedules.from_config(LONG), "A schedule config must be a dict with a 'type' key"),
        (lambda: schedules.from_config({"type": "step", 0: 1}), "StepDecay: unknown setting 0 (allowed: "),
        (lambda: Constant()("0.1", 0), "base_lr must be"),
        (lambda: Constant()(0.1, math.inf), "epoch must be"),
    ],
)
def test_bad_settings_raise_settings_error(make, shown):
    assert_settings_error(make, shown)


def test_a_tiny_step_size_drops_the_rate_to_zero_without_overflow():
    assert StepDecay(step_size=1e-320)(0.1, 5) == 0.0
    assert StepDecay(step_size=1e-320, gamma=1.0)(0.1, 5) == 0.1
    assert StepDecay(step_size=0.1)(1.0, 1.0) == pytest.approx(0.5**10)
