"""Network variants: BatchNorm, Dropout and initialisers inserted into a spec, and factors made into variants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.experiments.variants import (
    BOOK_LEARNING_RATES,
    check_factor_values,
    make_variants,
    with_batchnorm,
    with_dropout,
    with_dropout_scaling,
    with_init,
)
from dllab.spec import SpecError
from dllab.trainer import TrainingConfig
from tests.engine.user_errors import LONG, assert_settings_error

NETWORKS = Path(__file__).resolve().parents[3] / "assets" / "networks"
MLP = NETWORKS / "multi_layer_net.json"


def _types(spec: dict) -> list[str]:
    return [layer["type"] for layer in spec["layers"]]


def test_batchnorm_goes_after_every_hidden_weighted_layer_and_keeps_the_weights() -> None:
    on = with_batchnorm(MLP, True)
    assert _types(on)[:3] == ["Dense", "BatchNorm", "ReLU"]
    assert _types(on).count("BatchNorm") == 4  # four hidden Dense layers, none after the output layer
    assert _types(on)[-1] == "Dense"
    assert with_batchnorm(on, True) == on  # not doubled
    off = with_batchnorm(on, False)
    assert "BatchNorm" not in _types(off)
    plain, normed = dllab.build(MLP, seed=7), dllab.build(on, seed=7)
    for key, value in plain.params.items():
        np.testing.assert_array_equal(normed.params[key], value)


def test_init_is_set_on_every_weighted_layer() -> None:
    spec = with_init(NETWORKS / "simple_conv_net.json", 0.01)
    weighted = [layer for layer in spec["layers"] if layer["type"] in ("Dense", "Conv2D")]
    assert len(weighted) == 3 and all(layer["init"] == 0.01 for layer in weighted)
    model = dllab.build(spec, seed=0)
    assert float(np.std(model.params["conv2d_1.W"])) == pytest.approx(0.01, rel=0.1)
    with pytest.raises(ValueError, match="init"):
        with_init(MLP, "glorot")


def test_dropout_goes_after_the_activation_of_hidden_dense_layers() -> None:
    spec = with_dropout(with_batchnorm(NETWORKS / "two_layer_net.json", True), 0.3)
    assert _types(spec) == ["Dense", "BatchNorm", "ReLU", "Dropout", "Dense"]
    assert spec["layers"][3]["rate"] == 0.3
    assert "Dropout" not in _types(with_dropout(spec, 0.0))
    with pytest.raises(ValueError, match="hidden Dense"):
        with_dropout({"input_shape": [2], "layers": [{"type": "Dense", "units": 2}]}, 0.5)


def test_inserted_layers_take_the_options_given_and_scalings_vary() -> None:
    book = {"BatchNorm": {"eps": 1e-6}, "Dropout": {"scaling": "book"}}
    variants = make_variants(MLP, TrainingConfig(), {"batchnorm": ["on"], "dropout": [0.2]}, inserted=book)
    layers = variants[0].spec["layers"]
    assert {layer["eps"] for layer in layers if layer["type"] == "BatchNorm"} == {1e-6}
    assert {(layer["rate"], layer["scaling"]) for layer in layers if layer["type"] == "Dropout"} == {
        (0.2, "book")
    }
    scaled = make_variants(
        with_dropout(MLP, 0.5), TrainingConfig(), {"dropout_scaling": ["Book", "inverted"]}
    )
    assert [v.label for v in scaled] == ["book's dropout", "inverted dropout"]
    assert [
        {layer.get("scaling") for layer in v.spec["layers"] if layer["type"] == "Dropout"} for v in scaled
    ] == [
        {"book"},
        {"inverted"},
    ]
    assert_settings_error(
        lambda: check_factor_values("dropout_scaling", ["halved"]),
        "dropout scalings are inverted or book, got 'halved'",
    )
    assert_settings_error(
        lambda: with_dropout_scaling(MLP, "book"),
        "comparing dropout scalings needs a network with a Dropout layer",
    )


def test_make_variants_uses_book_learning_rates_and_builds_grids() -> None:
    config = TrainingConfig(lr=0.5, optimizer="momentum", optimizer_options={"momentum": 0.8})
    variants = make_variants(MLP, config, {"optimizer": ["SGD", "adam", "adadelta"]})
    assert [v.label for v in variants] == ["sgd", "adam", "adadelta"]
    assert [v.config.lr for v in variants] == [0.01, 0.001, 1.0]
    assert all(v.config.optimizer_options == {} for v in variants)
    kept = make_variants(MLP, config, {"optimizer": ["sgd", "rmsprop"]}, keep_lr=True)
    assert [v.config.lr for v in kept] == [0.5, 0.5]
    assert BOOK_LEARNING_RATES["rmsprop"] == 0.001
    grid = make_variants(MLP, config, {"optimizer": ["sgd", "adam"], "batchnorm": ["on", "off"]})
    assert [v.label for v in grid] == [
        "sgd, batchnorm on",
        "sgd, batchnorm off",
        "adam, batchnorm on",
        "adam, batchnorm off",
    ]
    assert "BatchNorm" in _types(grid[0].spec) and "BatchNorm" not in _types(grid[1].spec)
    sizes = make_variants(MLP, config, {"batch_size": ["32", "128"], "weight_decay": [0, 0.1]})
    assert [(v.config.batch_size, v.config.weight_decay) for v in sizes] == [
        (32, 0.0),
        (32, 0.1),
        (128, 0.0),
        (128, 0.1),
    ]
    assert sizes[1].label == "batch 32, weight decay 0.1"
    inits = make_variants(MLP, config, {"init": ["std 0.01", "xavier", "he"]})
    assert [v.label for v in inits] == ["init std 0.01", "init xavier", "init he"]
    assert inits[0].spec["layers"][0]["init"] == 0.01


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({}, "choose a setting"),
        ({"optimizer": ["sgd"], "init": ["he"], "lr": [0.1]}, "at most 2"),
        ({"optimizer": ["sgd", "bogus"]}, "unknown optimizer 'bogus'"),
        ({"optimizer": ["sgd", "sgd"]}, "twice"),
        ({"colour": ["red"]}, "unknown comparison factor"),
        ({"batchnorm": ["maybe"]}, "on or off"),
        ({"batch_size": ["0"]}, "at least 1"),
        ({"lr": ["fast"]}, "must be numbers"),
        ({"dropout": [1.5]}, "below 1"),
    ],
)
def test_invalid_factors_are_rejected(factors: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_variants(MLP, TrainingConfig(), factors)


@pytest.mark.parametrize(
    ("factor", "values", "shown"),
    [
        (LONG, ["a"], "unknown comparison factor 'xxx"),
        (["lr"], ["a"], "unknown comparison factor ['lr']"),
        ("optimizer", [LONG], "unknown optimizer 'xxx"),
        ("optimizer", [None], "unknown optimizer None"),
        ("init", [LONG], "init must be one of"),
        ("init", ["std 1e999"], "init standard deviation must be a positive number, got '1e999'"),
        ("batchnorm", [None], "batchnorm takes on or off, got None"),
        ("batchnorm", [LONG], "batchnorm takes on or off, got 'xxx"),
        ("batch_size", ["9" * 5000], "batch size values must be whole numbers, got '999"),
        ("batch_size", ["9" * 4000], "batch size values must be finite, got '999"),
        ("batch_size", [2.0], "batch size values must be whole numbers, got 2.0"),
        ("batch_size", [0], "batch sizes must be whole numbers of at least 1, got 0"),
        ("lr", [10**400], "lr values must be finite, got 1000"),
        ("lr", [float("nan")], "lr values must be finite, got nan"),
        ("lr", ["inf"], "lr values must be finite, got 'inf'"),
        ("lr", [None], "lr values must be numbers, got None"),
        ("lr", [LONG], "lr values must be numbers, got 'xxx"),
        ("lr", [0], "learning rates must be positive, got 0"),
        ("weight_decay", ["true"], "weight decay values must be numbers, got 'true'"),
        ("weight_decay", [-1], "weight decay must be at least 0, got -1"),
        ("dropout", ["1"], "a dropout rate must be at least 0 and below 1, got 1.0"),
        ("dropout", [0.1, "0.1"], "the dropout value '0.1' is given twice"),
        ("optimizer", [], "give at least one optimizer value to compare"),
    ],
)
def test_bad_factor_values_raise_settings_error(factor, values, shown) -> None:
    assert_settings_error(lambda: check_factor_values(factor, values), shown)


def test_factor_values_are_normalised() -> None:
    assert check_factor_values("batchnorm", [" ON ", 0]) == [True, False]
    assert check_factor_values("batchnorm", [np.bool_(True), "off"]) == [True, False]
    assert check_factor_values("batch_size", ["16", np.int64(32)]) == [16, 32]
    assert check_factor_values("lr", ["1e-3", 0.1]) == [0.001, 0.1]


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda: with_dropout(MLP, LONG), "a dropout rate must be at least 0 and below 1, got 'xxx"),
        (lambda: with_dropout(MLP, None), "a dropout rate must be at least 0 and below 1, got None"),
        (lambda: with_dropout(MLP, True), "got True"),
        (lambda: with_init(MLP, 10**400), "init standard deviation must be a positive number"),
        (lambda: make_variants(MLP, TrainingConfig(), {}), "choose a setting to compare"),
    ],
)
def test_bad_variants_raise_settings_error(make, shown) -> None:
    assert_settings_error(make, shown)


def test_a_spec_without_layers_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="no list of layers"):
        with_batchnorm({"input_shape": [2]}, True)
