"""What a search draws and how its trials are ranked and drawn: the space's dimensions from text, validated;
the definition a study stores; the ranking, the table and the figure of figure 6-24."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dllab.experiment import DataSettings, Experiment
from dllab.experiments.compare import VariantResult
from dllab.experiments.presets import BOOK_SEARCH
from dllab.experiments.search import (
    BOOK_RANGES,
    SearchDefinition,
    apply_params,
    book_space,
    check_dimension,
    check_ranges,
    check_space,
    describe_params,
    parse_dimension,
    parse_range,
    rank,
    ranking_table,
    render_search,
    trial_score,
    with_hidden_units,
    without_test,
    write_outputs,
)
from dllab.spec import read_spec
from dllab.trainer import EpochEnded, TrainingConfig
from tests.engine.png import decode_png

SPIRAL = Path(__file__).resolve().parents[3] / "assets" / "networks" / "spiral_mlp.json"


def experiment(val_fraction: float = 0.2) -> Experiment:
    return Experiment(
        read_spec(SPIRAL), DataSettings("spiral", val_fraction=val_fraction), TrainingConfig(epochs=3), 0
    )


# --- the space ---------------------------------------------------------------------------------------------


def test_dimensions_from_text() -> None:
    lr = parse_dimension("lr=1e-6..1e-2")
    assert (lr.name, lr.low, lr.high, lr.log, lr.categorical) == ("lr", 1e-6, 1e-2, True, False)
    batch = parse_dimension("batch-size=32..512")
    assert (batch.name, batch.low, batch.high, batch.log, batch.whole) == ("batch_size", 32, 512, True, True)
    dropout = parse_dimension("dropout=0..0.5")
    assert (dropout.low, dropout.high, dropout.log) == (0.0, 0.5, False)
    assert parse_dimension("optimizer=SGD, adam").choices == ("sgd", "adam")
    assert parse_dimension("init=he,std 0.01,0.1").choices == ("he", 0.01, 0.1)
    assert parse_dimension("bn=on,off").choices == (True, False)
    assert parse_dimension("units=32,64").choices == (32, 64)
    assert parse_dimension("wd=0,1e-4").choices == (0.0, 1e-4)  # none at all is a choice, not a log bound
    assert parse_dimension("optimizer=sgd,adam").describe() == "optimizer: sgd, adam"
    assert lr.describe() == "learning rate 1e-06 to 0.01, log-uniform"
    assert parse_dimension(lr.text()) == lr and parse_dimension(batch.text()) == batch
    assert type(lr).from_dict(json.loads(json.dumps(lr.to_dict()))) == lr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("momentum=0.5..0.9", "cannot search 'momentum'"),
        ("lr", "NAME=LOW..HIGH"),
        ("lr=1e-2..1e-6", "lower one first"),
        ("lr=0..1e-2", "positive"),
        ("weight_decay=-1e-8..1e-4", "positive"),
        ("lr=a..b", "two numbers"),
        ("batch_size=0..32", "whole numbers of at least 1"),
        ("batch_size=16..32.5", "whole numbers"),
        ("dropout=0..1", r"\[0, 1\)"),
        ("optimizer=0..1", "searched among choices"),
        ("optimizer=sgd,nadam", "unknown optimizer"),
        ("optimizer=sgd,sgd", "given twice"),
        ("batchnorm=maybe", "on or off"),
        ("init=he,kaiming", "init"),
        ("optimizer=", "say what to try"),
    ],
)
def test_invalid_dimensions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_dimension(text)


def test_a_space_holds_each_setting_once_in_a_fixed_order() -> None:
    space = check_space([parse_dimension("optimizer=sgd,adam"), check_dimension("lr", 1e-4, 1e-1)])
    assert [d.name for d in space] == ["lr", "optimizer"]
    with pytest.raises(ValueError, match="at least one setting"):
        check_space([])
    with pytest.raises(ValueError, match="searched twice"):
        check_space([check_dimension("lr", 1e-4, 1e-1), check_dimension("lr", 1e-3, 1e-1)])
    assert book_space() == (check_dimension("lr", 1e-6, 1e-2), check_dimension("weight_decay", 1e-8, 1e-4))
    assert BOOK_SEARCH.space() == book_space()


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({}, "at least one range"),
        ({"momentum": (0.5, 0.9)}, "cannot search 'momentum'"),
        ({"lr": (1e-2, 1e-6)}, "lower one first"),
        ({"lr": (0.0, 1e-2)}, "positive"),
        ({"weight_decay": (-1e-8, 1e-4)}, "positive"),
        ({"lr": (1e-6, float("inf"))}, "two numbers"),
        ({"lr": ("a", "b")}, "two numbers"),
        ({"lr": (1e-3,)}, "two numbers"),
    ],
)
def test_invalid_ranges_are_rejected(ranges: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_ranges(ranges)


def test_parse_range() -> None:
    assert parse_range("1e-6,1e-2") == (1e-6, 1e-2)
    assert parse_range(" 1e-8 : 1e-4 ") == (1e-8, 1e-4)
    assert parse_range("1e-8..1e-4") == (1e-8, 1e-4)
    with pytest.raises(ValueError, match="two numbers"):
        parse_range("1e-6")
    with pytest.raises(ValueError, match="two numbers"):
        parse_range("low,high")
    assert check_ranges(BOOK_RANGES) == BOOK_RANGES


# --- a trial's network and training ---------------------------------------------------------------------------


def test_a_trial_applies_its_draws_to_the_network_and_the_config() -> None:
    spec, config = read_spec(SPIRAL), TrainingConfig(optimizer="sgd", lr=0.01, batch_size=100)
    new_spec, new_config = apply_params(spec, config, {"lr": 0.003, "weight_decay": 1e-5, "batch_size": 32})
    assert (new_config.lr, new_config.weight_decay, new_config.batch_size) == (0.003, 1e-5, 32)
    assert new_spec == spec and config.lr == 0.01  # nothing of the base changed
    _, adam = apply_params(spec, config, {"optimizer": "adam"})
    assert (adam.optimizer, adam.lr) == ("adam", 0.001)  # the book's learning rate of Adam
    _, adam = apply_params(spec, config, {"optimizer": "adam", "lr": 0.02})
    assert adam.lr == 0.02
    wide, _ = apply_params(
        spec, config, {"hidden_units": 64, "batchnorm": True, "dropout": 0.25, "init": "xavier"}
    )
    types = [layer["type"] for layer in wide["layers"]]
    assert types == [
        "Dense",
        "BatchNorm",
        "ReLU",
        "Dropout",
        "Dense",
        "BatchNorm",
        "ReLU",
        "Dropout",
        "Dense",
    ]
    assert [layer["units"] for layer in wide["layers"] if layer["type"] == "Dense"] == [64, 64, 3]
    with pytest.raises(ValueError, match="hidden Dense layer"):
        with_hidden_units(
            {"format": "dllab.network/1", "input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}, 8
        )


def test_a_definition_round_trips_and_names_what_differs() -> None:
    space = (*book_space(), parse_dimension("optimizer=sgd,adam"))
    definition = SearchDefinition(
        experiment(), space, trials=7, sampler="tpe", pruner="median", rank_by="last"
    )
    again = SearchDefinition.from_dict(json.loads(json.dumps(definition.to_dict())))
    assert again.to_dict() == definition.to_dict() and again.space == definition.space
    assert definition.difference(again) is None
    assert (
        definition.difference(
            SearchDefinition(experiment(), space, trials=99, sampler="tpe", pruner="median", rank_by="last")
        )
        is None
    )
    assert definition.difference(SearchDefinition(experiment(), book_space(), trials=7)) == (
        "the searched settings, the sampler, the pruner, the ranking"
    )
    assert "(TPE sampler, median pruning, seed 0)" in definition.describe()
    with pytest.raises(ValueError, match="validation split"):
        SearchDefinition(experiment(val_fraction=0.0), space)
    with pytest.raises(ValueError, match="number of trials"):
        SearchDefinition(experiment(), space, trials=0)
    with pytest.raises(ValueError, match="sampler"):
        SearchDefinition(experiment(), space, sampler="grid")
    with pytest.raises(ValueError, match="ranked by best or last epoch, got 'middle'"):
        SearchDefinition(experiment(), space, rank_by="middle")
    with pytest.raises(ValueError, match="not a dllab search"):
        SearchDefinition.from_dict({"format": "dllab.search/1"})
    with pytest.raises(
        ValueError, match=r"the searched dropout rate 0\.5 does not apply: dropout needs a hidden Dense"
    ):
        bare = {"format": "dllab.network/1", "input_shape": [2], "layers": [{"type": "Dense", "units": 3}]}
        SearchDefinition(
            Experiment(bare, DataSettings("spiral", val_fraction=0.2)), (parse_dimension("dropout=0,0.5"),)
        ).check()


def test_the_test_set_is_out_of_reach() -> None:
    data = DataSettings("spiral", val_fraction=0.2).prepare((2,), seed=0)
    hidden = without_test(data)
    assert len(hidden.x_test) == 0 and len(data.x_test) > 0  # the caller's data is kept


# --- ranking, table and figure ------------------------------------------------------------------------------


def trial(number: int, params: dict, accuracies: list[float], status: str = "finished") -> VariantResult:
    result = VariantResult(number, f"trial {number}", params, status=status)
    result.epochs = [
        EpochEnded(e, 10 * e, 1.0, a, 1.0, a, 0.1, 0.0, 0.0, True, "")
        for e, a in enumerate(accuracies, start=1)
    ]
    return result


def test_trials_are_ranked_by_their_best_or_last_epoch() -> None:
    trials = [
        trial(0, {"lr": 1e-3}, [0.5, 0.9, 0.6]),
        trial(1, {"lr": 1e-2}, [0.7, 0.8]),
        trial(2, {"lr": 1e-1}, [], status="diverged"),
    ]
    assert [r.index for r in rank(trials, "best")] == [0, 1, 2]
    assert [r.index for r in rank(trials, "last")] == [1, 0, 2]
    assert trial_score(trials[0], "last") == 0.6 and np.isnan(trial_score(trials[2]))
    header, rows = ranking_table(rank(trials), ["lr"])
    assert header == ["rank", "trial", "lr", "best_val_accuracy", "best_epoch", "final_val_accuracy",
                      "final_train_accuracy", "status"]  # fmt: skip
    assert rows[0] == [1, 0, 1e-3, 0.9, 2, 0.6, 0.6, "finished"]
    assert (
        describe_params({"lr": 1.234e-3, "weight_decay": 4.56e-7, "batchnorm": True})
        == "lr 1.23e-03, wd 4.56e-07, bn on"
    )


def test_the_outputs_and_the_figure_of_a_search(tmp_path: Path) -> None:
    space = (
        check_dimension("lr", 1e-4, 1e-1),
        parse_dimension("optimizer=sgd,adam"),
        parse_dimension("dropout=0..0.5"),
    )
    definition = SearchDefinition(experiment(), space, trials=3)
    trials = [
        trial(0, {"lr": 1e-3, "optimizer": "adam", "dropout": 0.1}, [0.5, 0.9]),
        trial(1, {"lr": 1e-2, "optimizer": "sgd", "dropout": 0.3}, [0.7, 0.8]),
        trial(2, {"lr": 1e-1, "optimizer": "sgd", "dropout": 0.2}, [], status="diverged"),
    ]
    outputs = write_outputs(tmp_path, trials, definition, top_k=1, record={"study": "s"})
    with outputs["csv"].open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["trial"] for row in rows] == ["0", "1", "2"] and rows[0]["optimizer"] == "adam"
    with outputs["epochs_csv"].open(encoding="utf-8") as file:
        assert len(list(csv.DictReader(file))) == 4
    record = json.loads(outputs["json"].read_text(encoding="utf-8"))
    assert record["study"] == "s" and SearchDefinition.from_dict(record).to_dict() == definition.to_dict()
    image = decode_png(outputs["png"].read_bytes())
    assert image.shape[1] == 1400 and (image != 255).any(axis=2).mean() > 0.02

    figure = render_search(rank(trials), space, top_k=1)
    lr, optimizer, dropout, curves = figure.axes
    assert lr.get_xscale() == "log" and lr.get_xlabel() == "learning rate (log)"
    assert [t.get_text() for t in optimizer.get_xticklabels()] == ["sgd", "adam"]
    assert dropout.get_xscale() == "linear" and dropout.get_xlim()[0] < 0 < 0.5 < dropout.get_xlim()[1]
    crosses = [line for line in lr.lines if line.get_marker() == "x"]
    assert [line.get_xdata()[0] for line in crosses] == [0.1]  # the diverged trial, at the bottom
    assert len(curves.lines) == 1 and curves.get_title("left") == "best 1: validation accuracy per epoch"
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == [
        "1. 0.900, trial 0: lr 1.00e-03, opt adam, dropout 0.1",
        "other trials",
        "no validation accuracy (diverged, failed or not run)",
    ]
    assert render_search(rank(trials), space, rank_by="last").axes[0].get_title("left") == (
        "last epoch's validation accuracy by learning rate"
    )


def test_optuna_is_imported_only_when_a_search_runs() -> None:
    # The command line and the app start without Optuna and SQLAlchemy; dllab.experiments.study imports them.
    code = (
        "import json, sys, dllab, dllab.cli.main, dllab.experiments.search, dllab.experiments.presets;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('optuna', 'sqlalchemy'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []
