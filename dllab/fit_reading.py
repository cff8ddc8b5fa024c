"""The fit of a run read as the deep-learning course reads it: errors on four sets against a human-level estimate.

Five errors, from the lowest one can hope for to the one that is reported, and the four gaps between them::

    human-level (Bayes) error  ─┐ avoidable bias       bigger network, train longer, better optimizer
    training error             ─┤ variance             more data, regularisation
    train-dev error            ─┤ data mismatch        make the training data more like the dev data
    dev (validation) error     ─┤ overfitting to dev   a bigger dev set
    test error                 ─┘

The train-dev set is held out of the training data (same distribution, never trained on); the dev set is the
validation split. Without a train-dev set the step from training to dev error is variance and data mismatch
together. A gap below zero is not a good fit but a sign that the lower set is easier than the upper one; the
reading says so. One function, :func:`read_fit`, makes the reading for the trainer, the run summary, the
command line and the app.

>>> reading = read_fit(train_error=0.01, train_dev_error=0.015, dev_error=0.10)
>>> reading.largest
'data mismatch'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dllab.errors import SettingsError

#: The gaps, in order, with the errors they lie between (lower, upper).
GAPS = (
    ("avoidable bias", "human_error", "train_error"),
    ("variance", "train_error", "train_dev_error"),
    ("data mismatch", "train_dev_error", "dev_error"),
    ("overfitting to dev", "dev_error", "test_error"),
)
#: What to try when a gap is the largest.
REMEDIES = {
    "avoidable bias": "try a bigger network, training longer or a better optimizer",
    "variance": "try more training data or regularisation (weight decay, dropout, augmentation)",
    "variance and data mismatch": (
        "try more data or regularisation, and hold out a train-dev split to tell variance from data mismatch"
    ),
    "data mismatch": (
        "make the training data more like the dev data (collect or synthesise dev-like samples, such as "
        "shifted images mixed into training)"
    ),
    "overfitting to dev": "get a bigger dev set",
}
#: The words of each error in a reading.
ERROR_LABELS = {
    "human_error": "human-level",
    "train_error": "training",
    "train_dev_error": "train-dev",
    "dev_error": "dev",
    "test_error": "test",
}
#: Gaps within this many points (as a share) of zero are read as none.
DEFAULT_TOLERANCE = 0.02


def check_human_error(value: object, owner: str = "the training settings") -> float:
    """A human-level (Bayes) error estimate as a share in [0, 1), checked.

    Raises
    ------
    SettingsError
        For anything else, in one sentence.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise SettingsError(
            f"{owner}: the human-level error must be a share of at least 0 and below 1 (0.01 is 1 %), "
            f"got {value!r}"
        )
    return float(value)


@dataclass(frozen=True)
class FitReading:
    """Errors (shares, NaN where unmeasured) on each set, the gaps between them and one sentence about them.

    Attributes
    ----------
    human_error, train_error, train_dev_error, dev_error, test_error : float
    tolerance : float
        Gaps within it of zero count as none.
    """

    human_error: float
    train_error: float
    train_dev_error: float = math.nan
    dev_error: float = math.nan
    test_error: float = math.nan
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def gaps(self) -> dict[str, float]:
        """Each measurable gap by name, upper error minus lower. Without a train-dev error the step from
        training to dev error is one gap, ``"variance and data mismatch"``."""
        out: dict[str, float] = {}
        for name, lower, upper in GAPS:
            low, high = getattr(self, lower), getattr(self, upper)
            if name == "data mismatch" and not math.isfinite(self.train_dev_error):
                low, name = self.train_error, "variance and data mismatch"
            if math.isfinite(low) and math.isfinite(high):
                out[name] = high - low
        return out

    @property
    def largest(self) -> str | None:
        """The name of the largest gap above the tolerance, or None when no gap is."""
        gaps = {name: gap for name, gap in self.gaps.items() if gap > self.tolerance}
        return max(gaps, key=gaps.__getitem__) if gaps else None

    @property
    def negative(self) -> str | None:
        """The name of the most negative gap below ``-tolerance`` (a lower set harder than the upper), or None."""
        gaps = {name: gap for name, gap in self.gaps.items() if gap < -self.tolerance}
        return min(gaps, key=gaps.__getitem__) if gaps else None

    @property
    def errors(self) -> dict[str, float]:
        """The measured errors by their label (``"training"``, ``"dev"``, ...), in the order of the reading."""
        return {
            label: getattr(self, key)
            for key, label in ERROR_LABELS.items()
            if math.isfinite(getattr(self, key))
        }

    @property
    def sentence(self) -> str:
        """What the gaps say and what to try, in one sentence."""
        if not math.isfinite(self.train_error):
            return "no training error measured yet"
        if not any(math.isfinite(v) for v in (self.train_dev_error, self.dev_error)):
            return "no validation data: hold out a validation split to read bias and variance"
        negative, largest = self.negative, self.largest
        if largest is None and negative is None:
            return f"good fit: every gap is within {self.tolerance * 100:.0f} points"
        parts = []
        if largest is not None:
            parts.append(
                f"{largest} is the largest gap ({self.gaps[largest] * 100:+.1f} points): {REMEDIES[largest]}"
            )
        if negative is not None:
            parts.append(_negative_sentence(negative, self.gaps[negative]))
        return "; ".join(parts)

    def summary(self) -> dict[str, object]:
        """The reading as plain JSON values (None for what was not measured): errors, gaps, largest, sentence."""

        def plain(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return {
            **{key: plain(getattr(self, key)) for key in ERROR_LABELS},
            "gaps": {name: plain(gap) for name, gap in self.gaps.items()},
            "largest": self.largest,
            "reading": self.sentence,
        }

    def lines(self) -> list[str]:
        """The reading as text lines: the errors, the gaps, the sentence (for the command line)."""
        errors = ", ".join(f"{label} {error:.1%}" for label, error in self.errors.items())
        gaps = ", ".join(f"{name} {gap * 100:+.1f}" for name, gap in self.gaps.items())
        return [f"errors: {errors}", f"gaps (points): {gaps}", self.sentence]


def _negative_sentence(name: str, gap: float) -> str:
    """What a gap below zero means: the set below is easier than the one above, which is no good fit."""
    points = f"{-gap * 100:.1f} points"
    if name == "avoidable bias":
        return (
            f"training error is {points} below the human-level estimate: the estimate is too high (lower it) "
            "or the training data is memorised, which is not a good fit"
        )
    lower, upper, why = {
        "variance": ("train-dev", "training", _TRAINING_HARDER),
        "variance and data mismatch": ("dev", "training", _TRAINING_HARDER),
        "data mismatch": (
            "dev",
            "train-dev",
            "the dev data is easier than the training data, or the dev set is too small to trust",
        ),
        "overfitting to dev": (
            "test",
            "dev",
            "the test data is easier than the dev data, or one of the two "
            "sets is too small to tell them apart",
        ),
    }[name]
    return f"{lower} error is {points} below {upper} error, which is not a good fit: {why}"


#: Why a set held out of training can read easier than the training data.
_TRAINING_HARDER = (
    "the training numbers were taken with augmentation or dropout on, the training data is harder, or the "
    "held-out set is small or unrepresentative"
)


def read_fit(
    train_error: float,
    dev_error: float = math.nan,
    *,
    train_dev_error: float = math.nan,
    test_error: float = math.nan,
    human_error: float = 0.0,
    tolerance: float = DEFAULT_TOLERANCE,
) -> FitReading:
    """The four-way reading of a run's errors (shares; NaN for a set not measured).

    Parameters
    ----------
    train_error, dev_error, train_dev_error, test_error : float
        Error (1 − accuracy) on each set.
    human_error : float
        The human-level or Bayes error estimate (0: a perfect classifier is possible).
    tolerance : float
        Gaps within it of zero are none.

    Returns
    -------
    FitReading
    """
    return FitReading(
        human_error=float(human_error),
        train_error=float(train_error),
        train_dev_error=float(train_dev_error),
        dev_error=float(dev_error),
        test_error=float(test_error),
        tolerance=tolerance,
    )


def read_accuracies(
    train: float,
    dev: float = math.nan,
    *,
    train_dev: float = math.nan,
    test: float = math.nan,
    human_error: float = 0.0,
) -> FitReading:
    """:func:`read_fit` from accuracies (as the trainer measures them) rather than errors."""
    return read_fit(
        1 - train, 1 - dev, train_dev_error=1 - train_dev, test_error=1 - test, human_error=human_error
    )
