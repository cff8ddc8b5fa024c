"""``dllab train --changes FILE``: changes of optimizer settings at given steps, their validation (one sentence
naming the file each) and their replay from the run's ``config.json``."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.cli.main import main
from dllab.runs import open_run

ROOT = Path(__file__).resolve().parents[3]
SPIRAL = str(ROOT / "assets" / "networks" / "spiral_mlp.json")
TRAIN = (
    "train",
    SPIRAL,
    "--data",
    "spiral",
    "--optimizer",
    "momentum",
    "--lr",
    "0.05",
    "--epochs",
    "3",
    "--batch-size",
    "32",
)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _changes_file(folder: Path, changes: object, name: str = "changes.json") -> str:
    path = folder / name
    path.write_text(json.dumps(changes), encoding="utf-8")
    return str(path)


def test_a_changes_file_changes_the_settings_at_its_steps_and_the_run_replays_them(tmp_path: Path) -> None:
    changes = [{"step": 10, "lr": 0.01}, {"step": 20, "momentum": 0.5, "weight_decay": 0.001}]
    path = _changes_file(tmp_path, changes)
    code, _, err = _run(*TRAIN, "--changes", path, "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert "step 10: lr 0.05 → 0.01" in err and "step 20: momentum 0.9 → 0.5, weight_decay 0 → 0.001" in err
    run = open_run(tmp_path / "a")
    assert run.config["training"]["changes"] == changes
    assert run.steps is not None
    lrs = dict(zip(run.steps["step"].astype(int), run.steps["lr"], strict=True))
    assert lrs[10] == 0.05 and lrs[11] == 0.01 and lrs[max(lrs)] == 0.01
    code, _, err = _run(
        "train", "--config", str(tmp_path / "a" / "config.json"), "--out", str(tmp_path / "b")
    )
    assert code == 0, err
    first, again = (dllab.load(tmp_path / name / "model_final.dllab.npz") for name in ("a", "b"))
    for key, value in first.params.items():
        assert np.array_equal(again.params[key], value), key
    code, _, err = _run(*TRAIN, "--out", str(tmp_path / "c"))  # without them the run ends elsewhere
    plain = dllab.load(tmp_path / "c" / "model_final.dllab.npz")
    assert code == 0 and not np.array_equal(plain.params["dense_1.W"], first.params["dense_1.W"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([{"step": 20, "lr": 0.1}, {"step": 10, "lr": 0.2}], "change 2 at step 10 follows one at step 20"),
        (
            [{"step": 10, "beta1": 0.5}],
            "unknown setting 'beta1' (allowed: lr, momentum, weight_decay, clip_norm)",
        ),
        ([{"step": 10, "lr": -0.1}], "the change at step 10: lr must be at least 0, got -0.1"),
        ([{"step": 10, "momentum": 1.5}], "the change at step 10: momentum must be below 1, got 1.5"),
        ([{"lr": 0.1}], "change 1 must have a step"),
        ({"step": 10, "lr": 0.1}, "changes must be a list of changes"),
    ],
)
def test_each_bad_changes_file_is_one_line_naming_the_file(
    tmp_path: Path, changes: object, message: str
) -> None:
    path = _changes_file(tmp_path, changes)
    code, out, err = _run(*TRAIN, "--changes", path, "--out", str(tmp_path / "run"))
    assert (code, out) == (2, "")
    assert err.startswith("dllab: error: ") and err.count("\n") == 1
    assert path in err and message in err
    assert not (tmp_path / "run").exists()


def test_a_changes_file_that_is_not_json_or_missing_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    for path in (broken, tmp_path / "missing.json"):
        code, _, err = _run(*TRAIN, "--changes", str(path))
        assert code == 2 and err.count("\n") == 1 and path.name in err
