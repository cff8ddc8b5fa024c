"""Option strings: values, ``name:key=value`` options and augmentation settings (more in test_cli)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dllab.errors import SettingsError
from dllab.option_strings import MAX_SHIFT, parse_augment, parse_named_options, parse_value
from tests.engine.user_errors import LONG, assert_one_short_line, assert_settings_error


def test_values_are_parsed_as_numbers_booleans_and_none() -> None:
    assert [parse_value(t) for t in ("3", "0.5", "1e-3", "On", "no", "None", " adam ")] == [
        3,
        0.5,
        0.001,
        True,
        False,
        None,
        "adam",
    ]


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (lambda t: parse_named_options(t, "optimizer"), ":momentum=0.9", "needs a name"),
        (lambda t: parse_named_options(t, "schedule"), "step:gamma", "key=value"),
        (parse_augment, "zoom=2", "unknown augmentation 'zoom'"),
        (parse_augment, "shift", "needs a value"),
        (parse_augment, "rotation=left", "must be a number"),
    ],
)
def test_malformed_option_strings_are_rejected(parse, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_no_augmentation() -> None:
    assert parse_augment(None) is None and parse_augment("off") is None and parse_augment("shift=0") is None


def test_augmentation_values() -> None:
    assert parse_augment("flip=off") is None
    augment = parse_augment(" Shift = 2.0 , flip=on, rotation=0 ")
    assert augment is not None and augment["shift"] == 2 and augment["flip"] is True
    assert parse_augment(f"shift={MAX_SHIFT}")["shift"] == MAX_SHIFT


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("adam:lr=1e999", "optimizer option 'lr' must be a finite number, got '1e999'"),
        ("momentum:momentum=nan", "optimizer option 'momentum' must be a finite number, got 'nan'"),
        ("adam:lr=-inf", "got '-inf'"),
        ("adam:lr=" + "9" * 5000, "optimizer option 'lr' must be a finite number, got '999"),
        ("adam:lr=0.1,lr=0.2", "optimizer option 'lr' is given twice"),
        ("adam:" + LONG, "optimizer option 'xxx"),
        (":" + LONG, "the optimizer needs a name, got ':xxx"),
        ("adam:=3", "optimizer option '=3' must look like key=value"),
    ],
)
def test_bad_named_options_raise_settings_error(text: str, shown: str) -> None:
    assert_settings_error(lambda: parse_named_options(text, "optimizer"), shown)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("shift=1e400", "augmentation shift must be a finite number, got '1e400'"),
        ("shift=nan", "augmentation shift must be a finite number, got 'nan'"),
        ("shift=" + "9" * 5000, "augmentation shift must be a finite number, got '999"),
        ("shift=1e20", f"augmentation shift must be at most {MAX_SHIFT} pixels, got '1e20'"),
        ("shift=2.5", "augmentation shift must be a whole number of pixels of at least 0, got 2.5"),
        ("shift=-1", "at least 0"),
        ("shift=none", "augmentation shift must be a number, got 'none'"),
        ("shift=true", "augmentation shift must be a number, got 'true'"),
        ("noise=none", "augmentation noise must be a number, got 'none'"),
        ("noise=-0.1", "augmentation noise must be at least 0"),
        ("rotation=181", "augmentation rotation must be between 0 and 180 degrees"),
        ("rotation=" + LONG, "augmentation rotation must be a number, got 'xxx"),
        ("flip=2", "augmentation flip must be on or off, got '2'"),
        ("flip=" + LONG, "augmentation flip must be on or off, got 'xxx"),
        ("shift=1,shift=2", "augmentation shift is given twice"),
        (LONG, "unknown augmentation 'xxx"),
    ],
)
def test_bad_augmentation_raises_settings_error(text: str, shown: str) -> None:
    assert_settings_error(lambda: parse_augment(text), shown)


# Text built from the pieces of option strings finds more of the paths than arbitrary text alone.
WORDS = [
    "adam",
    "step",
    "lr",
    "shift",
    "rotation",
    "noise",
    "flip",
    "none",
    "true",
    "off",
    "nan",
    "inf",
    "1e999",
]
SIGNS = ["0", "1", "2.5", "1e3", "9" * 400, "-", "_", ".", "=", ",", ":", " ", "é", "\x00", "\u0663"]
PIECES = st.sampled_from(WORDS + SIGNS)
OPTION_TEXT = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=12).map("".join))


@settings(max_examples=300, deadline=None, database=None)
@given(OPTION_TEXT)
def test_named_options_parse_or_raise_settings_error(text: str) -> None:
    try:
        name, options = parse_named_options(text, "optimizer")
    except SettingsError as exc:
        assert_one_short_line(exc)
    else:
        assert name and name == name.strip().lower() and isinstance(options, dict)


@settings(max_examples=300, deadline=None, database=None)
@given(OPTION_TEXT)
def test_augmentation_parses_or_raises_settings_error(text: str) -> None:
    try:
        augment = parse_augment(text)
    except SettingsError as exc:
        assert_one_short_line(exc)
    else:
        assert augment is None or set(augment) >= {"shift", "rotation", "flip", "noise"}
