"""Error analysis: the likely mislabelled samples, tags and their share of the errors, mislabelled marks kept in
the run folder (read back by ``open_run``), the CSV export, and damaged files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import dllab
from dllab.error_analysis import (
    CSV_COLUMNS,
    ERROR_ANALYSIS_FILE,
    MARKED,
    ErrorAnalysis,
    ErrorAnalysisError,
    likely_mislabelled,
    read_error_analysis,
    write_error_analysis,
    write_error_csv,
)
from dllab.metrics import Mistake
from dllab.runs import DataSettings, RunRecorder, open_run
from dllab.trainer import Trainer, TrainingConfig

MISTAKES = [
    Mistake(7, 3, 5, 4.6, 0.99),
    Mistake(2, 1, 7, 3.0, 0.95),
    Mistake(9, 4, 9, 2.5, 0.60),  # unsure: not a likely mislabelled sample
    Mistake(4, 7, 1, 2.3, 0.90),
]


def test_likely_mislabelled_are_the_confident_mistakes_highest_loss_first() -> None:
    assert [m.index for m in likely_mislabelled(MISTAKES)] == [7, 2, 4]
    assert [m.index for m in likely_mislabelled(reversed(MISTAKES), limit=2)] == [7, 2]
    assert [m.index for m in likely_mislabelled(MISTAKES, min_confidence=0.97)] == [7]


def test_tags_are_free_text_several_per_sample_and_their_share_of_the_errors() -> None:
    analysis = ErrorAnalysis(10)
    analysis.add_tag(7, "blurry")
    analysis.add_tag(7, "  looks   like 5 ")
    analysis.add_tag(7, "blurry")  # once only
    analysis.add_tag(2, "blurry")
    analysis.add_tag(0, "blurry")  # not an error of this evaluation: left out of the shares
    analysis.mark_mislabelled(9)
    assert analysis.tags_of(7) == ["blurry", "looks like 5"]
    shares = analysis.tag_shares(m.index for m in MISTAKES)
    assert [(s.tag, s.count, s.share) for s in shares] == [
        ("blurry", 2, 0.5),
        ("looks like 5", 1, 0.25),
        (MARKED, 1, 0.25),
    ]
    analysis.remove_tag(7, "blurry")
    analysis.remove_tag(2, "blurry")
    assert 2 not in analysis.tags and analysis.all_tags() == ["looks like 5", "blurry"]
    for bad, message in [(10, "not one of the 10"), (-1, "not one of the 10"), (True, "not one of")]:
        with pytest.raises(ErrorAnalysisError, match=message):
            analysis.add_tag(bad, "x")
    with pytest.raises(ErrorAnalysisError, match="cannot be empty"):
        analysis.add_tag(1, "   ")
    with pytest.raises(ErrorAnalysisError, match="longer than"):
        analysis.add_tag(1, "x" * 500)


def test_the_csv_has_one_row_per_misclassified_sample(tmp_path: Path) -> None:
    analysis = ErrorAnalysis(10)
    analysis.set_tags(2, ["blurry", "thin, broken stroke"])
    analysis.mark_mislabelled(7)
    names = [f"digit {k}" for k in range(10)]
    with write_error_csv(tmp_path / "errors.csv", MISTAKES, analysis, names).open(newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1:] == [
        ["7", "digit 3", "digit 5", "4.6", "0.99", "", "True"],
        ["2", "digit 1", "digit 7", "3.0", "0.95", "blurry; thin, broken stroke", "False"],
        ["9", "digit 4", "digit 9", "2.5", "0.6", "", "False"],
        ["4", "digit 7", "digit 1", "2.3", "0.9", "", "False"],
    ]


@pytest.fixture(scope="module")
def mnist_run(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """One epoch of a softmax regression on 2,000 real MNIST digits, recorded into a run folder."""
    settings = DataSettings(str(mnist_dir), val_fraction=0.0, subset=2000, normalization="scale")
    model = dllab.build({"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]}, seed=0)
    prepared = settings.prepare(model.input_shape, seed=0)
    config = TrainingConfig(optimizer="adam", lr=0.01, batch_size=100, epochs=1, seed=0)
    folder = tmp_path_factory.mktemp("runs") / "mnist-run"
    recorder = RunRecorder(folder, model, data=prepared, config=config, data_settings=settings)
    for event in Trainer(model, prepared, config).run():
        recorder.handle(event)
    assert recorder.test is not None
    return folder, recorder.test


def test_tags_and_marks_survive_reopening_the_run(mnist_run) -> None:
    folder, test = mnist_run
    mistakes = test.misclassified()
    assert 200 < len(mistakes) < 2000  # a real model on real digits makes real mistakes
    losses = [m.loss for m in mistakes]
    assert losses == sorted(losses, reverse=True)
    suspects = likely_mislabelled(mistakes, limit=5)
    assert suspects and all(m.confidence >= 0.9 for m in suspects)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    run = open_run(folder)
    analysis = run.error_analysis()
    assert analysis.tags == {} and analysis.mislabelled == set() and analysis.test_samples == 10_000
    analysis.set_tags(mistakes[0].index, ["blurry", "looks like 7"])
    analysis.mark_mislabelled(suspects[0].index)
    write_error_analysis(folder, analysis)

    again = open_run(folder).error_analysis()
    assert again == analysis
    assert again.tags_of(mistakes[0].index) == ["blurry", "looks like 7"]
    assert again.mislabelled == {suspects[0].index}
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after.pop(ERROR_ANALYSIS_FILE) and after == before  # nothing else in the run folder changed


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "is not valid JSON"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'{"format": "other/1", "test_samples": 5, "samples": []}', "format is 'other/1'"),
        (
            b'{"format": "dllab.error_analysis/1", "test_samples": 5, "samples": {}}',
            "'samples' is not a list",
        ),
        (
            b'{"format": "dllab.error_analysis/1", "test_samples": 5, "samples": [{"index": 9, "tags": ["a"]}]}',
            "sample entry 0: the test sample 9 is not one of the 5",
        ),
        (
            b'{"format": "dllab.error_analysis/1", "test_samples": 5, "samples": [{"index": 1, "tags": [3]}]}',
            "sample entry 0: a tag must be text",
        ),
        (
            b'{"format": "dllab.error_analysis/1", "test_samples": 5,'
            b' "samples": [{"index": 1, "mislabelled": "yes"}]}',
            "'mislabelled' is not true or false",
        ),
        (b'{"format": "dllab.error_analysis/1", "test_samples": 6, "samples": []}', "test set of 6 samples"),
        (b"\xff\xfe", "is not UTF-8"),
    ],
)
def test_a_damaged_file_is_one_clear_error_and_is_left_as_it_is(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / ERROR_ANALYSIS_FILE
    path.write_bytes(content)
    with pytest.raises(ErrorAnalysisError, match=problem) as caught:
        read_error_analysis(tmp_path, 5)
    assert ERROR_ANALYSIS_FILE in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_bytes() == content


def test_a_damaged_file_loses_nothing_else_of_the_run(mnist_run) -> None:
    folder, _ = mnist_run
    path = folder / ERROR_ANALYSIS_FILE
    kept = path.read_bytes() if path.exists() else None
    try:
        path.write_text('{"format": "dllab.error_analysis/1", "samples": []}', encoding="utf-8")
        run = open_run(folder)  # the run itself still opens, its models and records intact
        assert run.model_final is not None and run.summary is not None and len(run.metrics["epoch"]) == 1
        with pytest.raises(ErrorAnalysisError, match="'test_samples' is not a count"):
            run.error_analysis()
    finally:
        if kept is None:
            path.unlink()
        else:
            path.write_bytes(kept)


def test_the_file_is_versioned_json_written_atomically(tmp_path: Path) -> None:
    analysis = ErrorAnalysis(3)
    analysis.set_tags(1, ["ambiguous"])
    analysis.mark_mislabelled(2)
    document = json.loads(write_error_analysis(tmp_path, analysis).read_text(encoding="utf-8"))
    assert document == {
        "format": "dllab.error_analysis/1",
        "test_samples": 3,
        "samples": [
            {"index": 1, "tags": ["ambiguous"], "mislabelled": False},
            {"index": 2, "tags": [], "mislabelled": True},
        ],
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [ERROR_ANALYSIS_FILE]
    assert ErrorAnalysis.from_dict(document) == analysis
