"""The catalogue of the book's experiments: every entry points at something that exists, and every command line
is one the real parser takes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from dllab.cli.main import build_parser
from dllab.experiment import Experiment
from dllab.experiments.chapters import BOOK_EXPERIMENTS, CHAPTERS, OPENS, experiments_of
from dllab.experiments.presets import BOOK_SEARCH, PRESETS
from dllab.spec import read_design

ROOT = Path(__file__).resolve().parents[3]
BOOK_WEIGHTS = ("ch03_sample_weight.pkl", "ch07_params.pkl", "ch08_deep_convnet_params.pkl")


def test_every_chapter_has_its_experiments_in_the_books_order() -> None:
    assert [e.chapter for e in BOOK_EXPERIMENTS] == sorted(e.chapter for e in BOOK_EXPERIMENTS)
    for chapter in CHAPTERS:
        assert list(experiments_of(chapter)), chapter
    assert {e.opens for e in BOOK_EXPERIMENTS} == set(OPENS)
    assert len({e.title for e in BOOK_EXPERIMENTS}) == len(BOOK_EXPERIMENTS)
    assert all(e.book and e.figure for e in BOOK_EXPERIMENTS)


@pytest.mark.parametrize("entry", BOOK_EXPERIMENTS, ids=lambda e: e.title)
def test_every_entry_points_at_something_that_exists(entry) -> None:
    if entry.opens == "experiment":
        spec, document = read_design(ROOT / "assets" / "experiments" / entry.target)
        experiment = Experiment.from_dict(document)
        assert experiment.data.dataset == "mnist" and experiment.network == spec
    elif entry.opens == "comparison":
        assert entry.target in PRESETS
    elif entry.opens == "search":
        assert entry.target == BOOK_SEARCH.name
    elif entry.opens == "book_weights":
        assert entry.target in BOOK_WEIGHTS
    elif entry.opens == "playground":
        assert entry.target  # the playground's own test checks the keys
    else:
        assert entry.target == ""


@pytest.mark.parametrize("entry", [e for e in BOOK_EXPERIMENTS if e.command], ids=lambda e: e.title)
def test_every_command_is_one_the_command_line_takes(entry) -> None:
    parser = build_parser()
    for command in entry.command.split("&&"):
        argv = shlex.split(command)
        assert argv[0] == "dllab"
        args = parser.parse_args(argv[1:])
        for name in ("network", "config"):
            path = getattr(args, name, None)
            if path and path.startswith("assets/"):
                assert (ROOT / path).is_file(), path
