"""Settings: one description validates and refuses a value the same way wherever it is used."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dllab
from dllab import layers, optimizers, schedules
from dllab.errors import SettingsError
from dllab.initializers import INIT
from dllab.settings import (
    KINDS,
    MAX_INTEGER,
    Setting,
    check_names,
    check_number,
    check_whole_number,
    configure,
    finite_number,
)
from dllab.spec import LAYER_TYPES, SpecError
from tests.engine.user_errors import LONG, assert_one_short_line, assert_settings_error

RATE = Setting("rate", "float", 0.5, "A probability.", minimum=0.0, maximum=1.0, exclusive_maximum=True)
EPS = Setting("eps", "float", 1e-8, "Tiny.", "ε", minimum=0.0, exclusive_minimum=True, log_scale=True)
UNITS = Setting("units", "int", 10, "How many.", minimum=1)
CLIP = Setting(
    "clip_norm", "float", None, "Off or a norm.", minimum=0.0, exclusive_minimum=True, optional=True
)
SIZE = Setting("kernel_size", "size", 3, "A window.", minimum=1)
PADDING = Setting("padding", "padding", 0, "A border.", minimum=0)
MODE = Setting("mode", "choice", "fast", "How.", choices=("fast", "exact"))


def test_a_setting_has_a_label_from_its_name_unless_given():
    assert SIZE.label == "Kernel size" and EPS.label == "ε" and RATE.label == "Rate"


def test_values_come_back_canonical():
    assert RATE.validate(np.float32(0.25)) == 0.25 and type(RATE.validate(np.float32(0.25))) is float
    assert RATE.validate(Fraction(1, 4)) == 0.25
    assert UNITS.validate(np.int64(3)) == 3 and type(UNITS.validate(np.int64(3))) is int
    assert UNITS.validate(4.0) == 4 and type(UNITS.validate(4.0)) is int
    assert SIZE.validate([3, 3]) == 3 and SIZE.validate((3, 2)) == [3, 2]
    assert PADDING.validate("SAME") == "same" and PADDING.validate(2) == 2
    assert MODE.validate(" Exact ") == "exact"
    assert INIT.validate("He") == "he" and INIT.validate("0.05") == 0.05
    assert CLIP.validate(None) is None and CLIP.validate(2) == 2.0


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (RATE, 1, "rate must be below 1, got 1"),
        (RATE, -0.5, "rate must be at least 0, got -0.5"),
        (RATE, "0.5", "rate must be a finite number, got '0.5'"),
        (RATE, math.nan, "rate must be a finite number, got nan"),
        (RATE, True, "rate must be a finite number, got True"),
        (RATE, None, "rate must be a finite number, got None"),
        (EPS, 0.0, "eps must be above 0, got 0.0"),
        (UNITS, 0, "units must be at least 1, got 0"),
        (UNITS, 2.5, "units must be an integer, got 2.5"),
        (UNITS, 10**12, "units must be at most 1,000,000,000, got 1000000000000"),
        pytest.param(
            UNITS, 10**5000, "units must be at most 1,000,000,000, got <int too long to show>", id="huge"
        ),
        (CLIP, 0, "clip_norm must be above 0, got 0"),
        (CLIP, "off", "clip_norm must be a finite number or None (off), got 'off'"),
        (SIZE, [3, 3, 3], "kernel_size must be an int or a pair of ints, got [3, 3, 3]"),
        (SIZE, [3, 0], "kernel_size must be at least 1, got 0"),
        (PADDING, "full", 'padding must be an int, "same" or "valid", got \'full\''),
        (PADDING, -1, "padding must be at least 0, got -1"),
        (MODE, "slow", "mode must be one of fast, exact, got 'slow'"),
        (INIT, "glorot", 'init must be one of "he", "xavier", "he_uniform", "xavier_uniform" or a standard'),
        (INIT, -1, "init standard deviation must be a positive number, got -1"),
        (INIT, [0.1], "init must be a name or a standard deviation, got [0.1]"),
        (RATE, LONG, "rate must be a finite number, got 'xxx"),
    ],
)
def test_a_refused_value_is_one_sentence_naming_the_setting_and_the_value(setting, value, message):
    assert_settings_error(lambda: setting.validate(value), message)


def test_an_owner_comes_first():
    assert_settings_error(lambda: RATE.validate(2, "Dropout"), "Dropout: rate must be below 1, got 2")


def test_a_description_that_refuses_its_own_default_or_kind_is_a_bug():
    with pytest.raises(SettingsError):
        Setting("rate", "float", 2.0, minimum=0.0, maximum=1.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        Setting("flag", "bool", True)
    assert set(KINDS) == {"int", "float", "choice", "size", "padding", "init"}


def test_the_same_setting_refuses_the_same_way_in_a_layer_a_spec_an_optimizer_and_a_schedule():
    # Every layer setting: directly, and through a spec, which only adds where it is.
    with pytest.raises(SettingsError) as direct:
        layers.Dropout(rate=1)
    spec = {"input_shape": [4], "layers": [{"type": "Dropout", "rate": 1}, {"type": "Dense", "units": 2}]}
    with pytest.raises(SpecError) as built:
        dllab.build(spec)
    assert str(built.value) == f"layer 0 (Dropout): {direct.value}"
    # Every optimizer and schedule setting: the constructor, the registry and a config say the same.
    messages = set()
    for make in (
        lambda: optimizers.Momentum(momentum=1),
        lambda: optimizers.get("momentum", momentum=1),
        lambda: optimizers.from_config({"type": "momentum", "momentum": 1}),
    ):
        with pytest.raises(SettingsError) as info:
            make()
        messages.add(str(info.value))
    assert messages == {"Momentum: momentum must be below 1, got 1"}
    with pytest.raises(SettingsError, match=r"^StepDecay: gamma must be above 0, got 0$"):
        schedules.get("step", gamma=0)


def test_every_class_validates_from_its_settings():
    described = [*LAYER_TYPES.values(), *optimizers.OPTIMIZERS.values(), *schedules.SCHEDULES.values()]
    for cls in described:
        for setting in cls.SETTINGS:
            assert setting.help and "\n" not in setting.help and setting.label
            if setting.editor_range is not None:
                low, high = setting.editor_range
                assert setting.validate(low) is not None and setting.validate(high) is not None


def test_configure_fills_defaults_and_refuses_unknown_names():
    assert configure((RATE, UNITS), {"units": 3}) == {"rate": 0.5, "units": 3}
    assert_settings_error(lambda: configure((RATE,), {"size": 1}), "unknown setting 'size' (allowed: rate)")
    assert_settings_error(lambda: check_names((), ["units"], "Flatten"), "Flatten: unknown setting 'units'")
    assert_settings_error(lambda: check_names((), ["units"]), "(allowed: no settings)")
    check_names((RATE,), ["name"], extra=("name",))


ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.integers(-5, 5), max_size=3),
)


@settings(max_examples=200, deadline=None, database=None)
@given(value=ANY_VALUE, setting=st.sampled_from([RATE, EPS, UNITS, CLIP, SIZE, PADDING, MODE, INIT]))
def test_any_value_is_accepted_or_refused_with_one_short_sentence(value, setting):
    try:
        setting.validate(value)
    except SettingsError as exc:
        assert_one_short_line(exc)


# --- the plain checks of arguments that are not settings ------------------------------------------------------


def test_finite_number():
    assert finite_number(3) == 3.0 and type(finite_number(np.float32(0.5))) is float
    for value in (True, np.bool_(True), "3", None, [1.0], math.nan, -math.inf, 10**400, 1j):
        assert finite_number(value) is None


def test_check_number_and_check_whole_number():
    assert check_number("T", "x", None, allow_none=True) is None
    assert check_whole_number("steps", np.int64(0), minimum=0) == 0
    assert type(check_whole_number("steps", np.int64(3))) is int
    for value in (0, 1.0, True, "2", None, 11):
        assert_settings_error(
            lambda v=value: check_whole_number("steps", v, maximum=10),
            "steps must be a whole number from 1 to 10",
        )
    assert_settings_error(lambda: check_whole_number("steps", LONG), "at least 1, got 'xxx")


def test_the_old_homes_still_export_the_checks():
    assert optimizers.finite_number is finite_number and layers.MAX_INTEGER == MAX_INTEGER
