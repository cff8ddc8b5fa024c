"""Error analysis of a run's test set: the mistakes sorted by loss, the likely mislabelled ones, the user's tags
and the share of the errors each tag covers, kept in the run folder.

The course's error-analysis spreadsheet, in the lab: look at the misclassified test samples (highest loss
first), tag each with categories of one's own ("blurry", "looks like 7", ...; several per sample), and read the
share of the errors each tag covers. That share is a ceiling: fixing every mistake of one category removes at
most that share of the errors, so it says which category is worth the work. Confident mistakes with the
highest loss are often wrongly labelled samples (the course's "cleaning up incorrectly labelled data"):
:func:`likely_mislabelled` lists them, and the user marks those that are.

Tags and marks live in the run folder's ``error_analysis.json`` (format :data:`FORMAT`), written atomically,
read within the limits of a user's file, and keyed by the sample's row in the test set; the data set's own
files are never changed. A retrain leaves the marked samples out of its test evaluation through the data
setting :attr:`dllab.experiment.DataSettings.excluded_test`.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dllab.errors import DamagedFileError, DllabError, quote
from dllab.files import atomic_write
from dllab.metrics import Mistake
from dllab.spec import read_json_file

#: The format of ``error_analysis.json``.
FORMAT = "dllab.error_analysis/1"
#: The error analysis's file in a run folder.
ERROR_ANALYSIS_FILE = "error_analysis.json"
#: The largest ``error_analysis.json`` read, in bytes.
FILE_LIMIT = 16 * 2**20
#: A few tags to start from (the user types any others).
SUGGESTED_TAGS = ("blurry", "ambiguous", "looks like another class", "unusual writing", "cut off or shifted")
#: The confidence of the predicted class from which a mistake is a likely mislabelled sample.
MISLABELLED_CONFIDENCE = 0.9
#: The longest tag, in characters.
MAX_TAG_LENGTH = 80
#: The most tags one sample may have.
MAX_TAGS_PER_SAMPLE = 32
#: The line of the tag shares that counts the samples marked mislabelled.
MARKED = "(marked mislabelled)"
#: The columns of the exported table.
CSV_COLUMNS = ("index", "true", "predicted", "loss", "confidence", "tags", "mislabelled")


class ErrorAnalysisError(DllabError, ValueError):
    """An error-analysis file or a tag that cannot be used; the message names the file or the tag."""


def clean_tag(tag: Any) -> str:
    """A tag as kept: its text with runs of white space made one space.

    Raises
    ------
    ErrorAnalysisError
        For something that is not text, empty text, or text longer than :data:`MAX_TAG_LENGTH`.
    """
    if not isinstance(tag, str):
        raise ErrorAnalysisError(f"a tag must be text, not {type(tag).__name__}")
    text = " ".join(tag.split())
    if not text:
        raise ErrorAnalysisError("a tag cannot be empty")
    if len(text) > MAX_TAG_LENGTH:
        raise ErrorAnalysisError(f"the tag {quote(text, 40)} is longer than {MAX_TAG_LENGTH} characters")
    return text


def likely_mislabelled(
    mistakes: Iterable[Mistake], *, min_confidence: float = MISLABELLED_CONFIDENCE, limit: int | None = None
) -> list[Mistake]:
    """The confident mistakes (the predicted class at ``min_confidence`` or more), highest loss first: the
    samples most worth checking for a wrong label."""
    chosen = [m for m in mistakes if m.confidence >= min_confidence]
    chosen.sort(key=lambda m: (-m.loss, m.index))
    return chosen[:limit]


@dataclass(frozen=True)
class TagShare:
    """How many of the errors carry one tag, and their share of all errors (the ceiling of fixing them)."""

    tag: str
    count: int
    share: float


@dataclass
class ErrorAnalysis:
    """The user's tags and mislabelled marks on the samples of one test set.

    Attributes
    ----------
    test_samples : int
        The size of the test set the indices refer to.
    tags : dict of int to list of str
        Each tagged sample's tags, in the order given.
    mislabelled : set of int
        The samples marked as wrongly labelled.
    """

    test_samples: int
    tags: dict[int, list[str]] = field(default_factory=dict)
    mislabelled: set[int] = field(default_factory=set)

    def _checked(self, index: Any) -> int:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.test_samples:
            raise ErrorAnalysisError(
                f"the test sample {quote(index)} is not one of the {self.test_samples:,} of the test set"
            )
        return index

    def tags_of(self, index: int) -> list[str]:
        """The tags of sample ``index`` (a copy; empty when it has none)."""
        return list(self.tags.get(index, ()))

    def set_tags(self, index: int, tags: Iterable[str]) -> None:
        """Give sample ``index`` these tags (cleaned, duplicates dropped; none removes its entry)."""
        index = self._checked(index)
        unique = list(dict.fromkeys(clean_tag(tag) for tag in tags))
        if len(unique) > MAX_TAGS_PER_SAMPLE:
            raise ErrorAnalysisError(f"a sample may have {MAX_TAGS_PER_SAMPLE} tags at most")
        if unique:
            self.tags[index] = unique
        else:
            self.tags.pop(index, None)

    def add_tag(self, index: int, tag: str) -> None:
        """Add one tag to sample ``index`` (nothing when it has it already)."""
        self.set_tags(index, [*self.tags_of(index), tag])

    def remove_tag(self, index: int, tag: str) -> None:
        """Remove one tag from sample ``index`` (nothing when it does not have it)."""
        self.set_tags(index, [t for t in self.tags_of(index) if t != tag])

    def mark_mislabelled(self, index: int, mislabelled: bool = True) -> None:
        """Mark sample ``index`` as wrongly labelled, or take the mark off."""
        index = self._checked(index)
        if mislabelled:
            self.mislabelled.add(index)
        else:
            self.mislabelled.discard(index)

    def all_tags(self) -> list[str]:
        """Every tag in use, in the order first given."""
        return list(dict.fromkeys(tag for tags in self.tags.values() for tag in tags))

    def tag_shares(self, errors: Iterable[int]) -> list[TagShare]:
        """Each tag's count among the misclassified samples ``errors`` and its share of them, the most
        frequent first; :data:`MARKED` counts the marked ones (tags of samples that are not errors of this
        evaluation are left out)."""
        wrong = set(errors)
        counts: dict[str, int] = {}
        for index in sorted(wrong & self.tags.keys()):
            for tag in self.tags[index]:
                counts[tag] = counts.get(tag, 0) + 1
        marked = len(wrong & self.mislabelled)
        total = max(len(wrong), 1)
        shares = [TagShare(tag, count, count / total) for tag, count in counts.items()]
        if marked:
            shares.append(TagShare(MARKED, marked, marked / total))
        shares.sort(key=lambda s: -s.count)
        return shares

    # --- plain dicts ----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The document of ``error_analysis.json``: one entry per tagged or marked sample, by index."""
        indices = sorted(self.tags.keys() | self.mislabelled)
        return {
            "format": FORMAT,
            "test_samples": self.test_samples,
            "samples": [
                {"index": i, "tags": self.tags_of(i), "mislabelled": i in self.mislabelled} for i in indices
            ],
        }

    @classmethod
    def from_dict(cls, document: Any, source: str = "the error analysis") -> ErrorAnalysis:
        """Rebuild from :meth:`to_dict` output; ``source`` names it in errors.

        Raises
        ------
        ErrorAnalysisError
            For another format, or an entry that is not what :meth:`to_dict` writes (the message names
            ``source`` and what is wrong).
        """

        def damaged(problem: str) -> ErrorAnalysisError:
            return ErrorAnalysisError(f"{source} is damaged ({problem})")

        if not isinstance(document, Mapping):
            raise damaged(f"a JSON {type(document).__name__}, not an object")
        if document.get("format") != FORMAT:
            raise damaged(f"its format is {quote(document.get('format'))}, not {FORMAT!r}")
        size = document.get("test_samples")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise damaged("'test_samples' is not a count")
        samples = document.get("samples")
        if not isinstance(samples, list):
            raise damaged("'samples' is not a list")
        analysis = cls(size)
        for n, entry in enumerate(samples):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("tags", []), list):
                raise damaged(f"sample entry {n} is not an object with a list of tags")
            try:
                analysis.set_tags(entry.get("index"), entry.get("tags", []))
                if entry.get("mislabelled", False) is not False:
                    if entry["mislabelled"] is not True:
                        raise ErrorAnalysisError("'mislabelled' is not true or false")
                    analysis.mark_mislabelled(entry["index"])
            except ErrorAnalysisError as exc:
                raise damaged(f"sample entry {n}: {exc}") from None
        return analysis


def error_analysis_path(folder: str | os.PathLike[str]) -> Path:
    """The error-analysis file of the run folder ``folder``."""
    return Path(folder) / ERROR_ANALYSIS_FILE


def read_error_analysis(folder: str | os.PathLike[str], test_samples: int) -> ErrorAnalysis:
    """The error analysis kept in a run folder; an empty one when it has none yet.

    Parameters
    ----------
    folder
        The run folder.
    test_samples
        The size of the run's test set; a file about a test set of another size is refused.

    Raises
    ------
    ErrorAnalysisError
        When the file is damaged, foreign, too large or about another test set (the file is left as it is).
    """
    path = error_analysis_path(folder)
    if not path.exists():
        return ErrorAnalysis(test_samples)
    try:
        document = read_json_file(path, limit=FILE_LIMIT)
    except DamagedFileError as exc:
        raise ErrorAnalysisError(str(exc)) from None
    analysis = ErrorAnalysis.from_dict(document, quote(str(path)))
    if analysis.test_samples != test_samples:
        raise ErrorAnalysisError(
            f"{quote(str(path))} is about a test set of {analysis.test_samples:,} samples, not the run's "
            f"{test_samples:,}"
        )
    return analysis


def write_error_analysis(folder: str | os.PathLike[str], analysis: ErrorAnalysis) -> Path:
    """Write ``analysis`` to the run folder's ``error_analysis.json`` atomically; returns its path."""
    text = json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return atomic_write(error_analysis_path(folder), lambda file: file.write(text.encode("utf-8")))


def error_table(
    mistakes: Iterable[Mistake], analysis: ErrorAnalysis, class_names: Sequence[str] = ()
) -> list[list[Any]]:
    """One row per misclassified sample (:data:`CSV_COLUMNS`), in the order given: its index, true and predicted
    class (by name where known), loss, confidence, tags (joined by ``"; "``) and whether it is marked
    mislabelled."""

    def name(k: int) -> str:
        return class_names[k] if k < len(class_names) else str(k)

    return [
        [
            m.index,
            name(m.true),
            name(m.predicted),
            round(m.loss, 6),
            round(m.confidence, 6),
            "; ".join(analysis.tags_of(m.index)),
            m.index in analysis.mislabelled,
        ]
        for m in mistakes
    ]


def write_error_csv(
    path: str | os.PathLike[str],
    mistakes: Iterable[Mistake],
    analysis: ErrorAnalysis,
    class_names: Sequence[str] = (),
) -> Path:
    """Write :func:`error_table` with its header as CSV, atomically; returns ``path``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(error_table(mistakes, analysis, class_names))
    data = buffer.getvalue().encode("utf-8")
    return atomic_write(path, lambda file: file.write(data))
