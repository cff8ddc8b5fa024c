"""The four-way fit reading: each gap named on constructed errors, its sign read, one remedy for the largest."""

from __future__ import annotations

import math

import pytest

from dllab.errors import SettingsError
from dllab.fit_reading import check_human_error, read_accuracies, read_fit


@pytest.mark.parametrize(
    ("errors", "largest", "remedy"),
    [
        (
            {"human_error": 0.01, "train_error": 0.15, "train_dev_error": 0.16, "dev_error": 0.17},
            "avoidable bias",
            "bigger network",
        ),
        ({"train_error": 0.01, "train_dev_error": 0.12, "dev_error": 0.13}, "variance", "regularisation"),
        (
            {"train_error": 0.01, "train_dev_error": 0.015, "dev_error": 0.20},
            "data mismatch",
            "more like the dev",
        ),
        (
            {"train_error": 0.01, "train_dev_error": 0.015, "dev_error": 0.02, "test_error": 0.09},
            "overfitting to dev",
            "bigger dev set",
        ),
    ],
)
def test_the_largest_gap_is_named_with_its_remedy(errors, largest, remedy):
    reading = read_fit(**errors)
    assert reading.largest == largest
    assert reading.sentence.startswith(f"{largest} is the largest gap")
    assert remedy in reading.sentence


def test_the_gaps_are_the_differences_of_neighbouring_errors():
    reading = read_fit(0.05, 0.20, train_dev_error=0.08, test_error=0.22, human_error=0.01)
    assert reading.gaps == pytest.approx(
        {"avoidable bias": 0.04, "variance": 0.03, "data mismatch": 0.12, "overfitting to dev": 0.02}
    )
    assert list(reading.errors) == ["human-level", "training", "train-dev", "dev", "test"]


def test_small_gaps_read_as_a_good_fit():
    reading = read_fit(0.01, 0.02, train_dev_error=0.015, test_error=0.025)
    assert reading.largest is None and reading.negative is None
    assert reading.sentence.startswith("good fit")


@pytest.mark.parametrize(
    ("errors", "negative", "words"),
    [
        (
            {"train_error": 0.05, "dev_error": 0.01},
            "variance and data mismatch",
            "dev error is 4.0 points below training",
        ),
        (
            {"train_error": 0.05, "train_dev_error": 0.01, "dev_error": 0.02},
            "variance",
            "train-dev error is 4.0",
        ),
        (
            {"train_error": 0.01, "train_dev_error": 0.10, "dev_error": 0.05},
            "data mismatch",
            "dev error is 5.0",
        ),
        (
            {"train_error": 0.01, "train_dev_error": 0.01, "dev_error": 0.10, "test_error": 0.05},
            "overfitting to dev",
            "test error is 5.0",
        ),
        (
            {"human_error": 0.08, "train_error": 0.02, "dev_error": 0.03},
            "avoidable bias",
            "below the human-level",
        ),
    ],
)
def test_a_negative_gap_is_never_a_good_fit(errors, negative, words):
    reading = read_fit(**errors)
    assert reading.negative == negative
    assert reading.gaps[negative] < 0
    assert "good fit" not in reading.sentence.replace("not a good fit", "")
    assert "not a good fit" in reading.sentence and words in reading.sentence


def test_the_old_two_number_case_of_a_negative_gap():
    # Training 90.0 %, validation 95.8 %: the gap is -5.8 points, which says the validation set reads easier.
    reading = read_accuracies(0.90, 0.958)
    assert reading.negative == "variance and data mismatch"
    assert "5.8 points below training error" in reading.sentence
    assert "augmentation or dropout" in reading.sentence


def test_a_negative_gap_is_said_beside_the_largest_positive_one():
    reading = read_fit(0.01, 0.30, train_dev_error=0.02, test_error=0.25)
    assert reading.largest == "data mismatch" and reading.negative == "overfitting to dev"
    assert reading.sentence.startswith("data mismatch is the largest gap")
    assert "test error is 5.0 points below dev error" in reading.sentence


def test_without_a_train_dev_set_variance_and_mismatch_are_one_gap():
    reading = read_fit(0.01, 0.10)
    assert reading.gaps == pytest.approx({"avoidable bias": 0.01, "variance and data mismatch": 0.09})
    assert "train-dev" in reading.sentence


def test_unmeasured_sets_are_left_out_and_summarised_as_none():
    reading = read_accuracies(0.99, math.nan)
    assert reading.sentence.startswith("no validation data")
    summary = reading.summary()
    assert summary["dev_error"] is None and summary["train_error"] == pytest.approx(0.01)
    assert summary["gaps"] == {"avoidable bias": pytest.approx(0.01)}
    assert read_fit(math.nan).sentence == "no training error measured yet"


@pytest.mark.parametrize("value", [-0.1, 1.0, 5, "1%", True, None])
def test_a_human_error_out_of_range_is_one_sentence(value):
    with pytest.raises(SettingsError, match="human-level error must be a share"):
        check_human_error(value)
