"""Changes of the optimizer's settings during a run: the validation of a list of changes and of one change, their
merging and their text (what the trainer does with them: tests/engine/test_trainer.py)."""

import pytest

from dllab.errors import SettingsError
from dllab.optimizers import Adam, Momentum
from dllab.setting_changes import apply_change, change_text, check_change, check_changes, merge_change


def test_a_list_of_changes_is_validated_into_canonical_values():
    changes = [{"step": 0, "lr": 1}, {"step": 500, "momentum": 0.5, "clip_norm": None}]
    assert check_changes(changes, "momentum") == [
        {"step": 0, "lr": 1.0},
        {"step": 500, "momentum": 0.5, "clip_norm": None},
    ]
    assert isinstance(check_changes(changes, "momentum")[0]["lr"], float)
    assert check_changes([], "sgd") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step": 1, "lr": 0.1}, "changes must be a list of changes"),
        ([3], "change 1 must be an object"),
        ([{"lr": 0.1}], "change 1 must have a step, a whole number of at least 0, got None"),
        ([{"step": -1, "lr": 0.1}], "change 1 must have a step, a whole number of at least 0, got -1"),
        ([{"step": 2.5, "lr": 0.1}], "change 1 must have a step"),
        ([{"step": True, "lr": 0.1}], "change 1 must have a step"),
        (
            [{"step": 5, "lr": 0.1}, {"step": 5, "lr": 0.2}],
            "the steps of the changes must increase, but change 2 at step 5 follows one at step 5",
        ),
        (
            [{"step": 9, "lr": 0.1}, {"step": 4, "lr": 0.2}],
            "change 2 at step 4 follows one at step 9",
        ),
        ([{"step": 5}], 'the change at step 5 sets nothing; give at least one optimizer setting, e.g. "lr"'),
        (
            [{"step": 5, "momentum": 0.5}],
            "the change at step 5 (sgd): unknown setting 'momentum' (allowed: lr, weight_decay, clip_norm)",
        ),
        ([{"step": 5, "lr": -0.1}], "the change at step 5: lr must be at least 0, got -0.1"),
        ([{"step": 5, "lr": "fast"}], "the change at step 5: lr must be a finite number, got 'fast'"),
        ([{"step": 5, "weight_decay": float("nan")}], "weight_decay must be a finite number"),
    ],
)
def test_each_bad_list_of_changes_is_refused_with_one_sentence(changes, message):
    with pytest.raises(SettingsError) as caught:
        check_changes(changes, "sgd")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_one_change_is_checked_against_its_optimizers_own_settings():
    assert check_change({"beta1": 0.8, "lr": 0.002}, "adam") == {"beta1": 0.8, "lr": 0.002}
    with pytest.raises(SettingsError, match="the change: beta1 must be below 1, got 1"):
        check_change({"beta1": 1}, "adam")
    with pytest.raises(SettingsError, match="must map optimizer settings to values"):
        check_change(["lr", 0.1], "adam")


def test_applying_a_change_sets_the_optimizer_and_returns_what_it_replaced():
    optimizer = Momentum(lr=0.01, momentum=0.9)
    previous = apply_change(optimizer, {"lr": 0.003, "momentum": 0.5})
    assert previous == {"lr": 0.01, "momentum": 0.9}
    assert (optimizer.lr, optimizer.momentum) == (0.003, 0.5)
    assert apply_change(Adam(), {"clip_norm": 1.0}) == {"clip_norm": None}


def test_changes_merge_by_step_the_later_value_winning():
    changes = [{"step": 5, "lr": 0.1}, {"step": 20, "lr": 0.01}]
    assert merge_change(changes, 5, {"lr": 0.2, "momentum": 0.5}) == [
        {"step": 5, "lr": 0.2, "momentum": 0.5},
        {"step": 20, "lr": 0.01},
    ]
    assert merge_change(changes, 9, {"lr": 0.05}) == [
        {"step": 5, "lr": 0.1},
        {"step": 9, "lr": 0.05},
        {"step": 20, "lr": 0.01},
    ]
    assert changes == [{"step": 5, "lr": 0.1}, {"step": 20, "lr": 0.01}]  # not changed in place


def test_a_change_reads_old_to_new():
    assert change_text({"lr": 0.003}, {"lr": 0.01}) == "lr 0.01 → 0.003"
    assert change_text({"lr": 0.003, "clip_norm": None}, {"lr": 0.01, "clip_norm": 1.0}) == (
        "lr 0.01 → 0.003, clip_norm 1 → off"
    )
    assert change_text({"lr": 0.5}) == "lr 0.5"
