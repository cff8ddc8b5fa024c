"""Option strings: values, ``name:key=value`` options and augmentation settings (more in test_cli)."""

import pytest

from dllab.option_strings import parse_augment, parse_named_options, parse_value


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
