"""The ``dllab`` command line, run in-process through ``main`` (and a few times as a real process)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.cli import ProgressBar, main, parse_augment, parse_named_options
from dllab.trainer import BatchEnded, EpochEnded, RunStarted

ROOT = Path(__file__).resolve().parents[2]
SPIRAL = str(ROOT / "assets" / "networks" / "spiral_mlp.json")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """``dllab train`` on the spiral set, into a run folder."""
    folder = tmp_path_factory.mktemp("cli") / "runs" / "spiral"
    code, out, err = _run(
        "train", SPIRAL, "--data", "spiral", "--optimizer", "adam", "--lr", "0.02", "--epochs", "15",
        "--batch-size", "50", "--seed", "1", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    return folder, out, err


def test_help_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dllab", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0
    for command in ("train", "evaluate", "export", "info", "gradcheck", "runs", "compare", "search"):
        assert command in result.stdout


def test_train_prints_test_accuracy_and_writes_the_run_folder(trained: tuple[Path, str, str]) -> None:
    folder, out, err = trained
    assert "test accuracy" in out
    assert f"run folder: {folder.resolve()}" in out
    assert "epoch 15/15" in err and "samples/s" in err
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "finished"
    assert f"test accuracy {summary['test_accuracy']:.4f}" in out
    assert summary["test_accuracy"] > 0.8  # a spiral is learnable in 15 epochs of Adam
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["data"]["normalization"] == "standardize"
    assert (config["training"]["optimizer"], config["training"]["lr"]) == ("adam", 0.02)


def test_evaluate_applies_the_stored_preprocessing(trained: tuple[Path, str, str]) -> None:
    folder, _, _ = trained
    code, out, err = _run("evaluate", str(folder / "model_final.dllab.npz"), "--data", "spiral")
    assert code == 0, err
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert f"accuracy {summary['test_accuracy']:.4f}" in out
    assert "confusion matrix" in out and "per-class accuracy" in out
    assert out.count("arm 2") == 2  # a confusion row and a per-class line
    # Without --data, the data set named in the model file.
    assert _run("evaluate", str(folder / "model_final.dllab.npz"))[1] == out


def test_info_describes_the_model(trained: tuple[Path, str, str]) -> None:
    folder, _, _ = trained
    code, out, _ = _run("info", str(folder / "model_best.dllab.npz"))
    assert code == 0
    assert "Model: SpiralMLP" in out and "Total parameters: 1,251" in out
    assert "preprocessing: standardize" in out
    assert "classes (3): arm 0, arm 1, arm 2" in out
    assert "val_accuracy" in out


def test_export_writes_a_valid_onnx_file(trained: tuple[Path, str, str], tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    folder, _, _ = trained
    target = tmp_path / "spiral.onnx"
    code, out, err = _run("export", str(folder / "model_final.dllab.npz"), "--onnx", str(target))
    assert code == 0, err
    assert str(target) in out
    onnx.checker.check_model(onnx.load(str(target)))


def test_gradcheck_passes_and_fails_by_tolerance() -> None:
    code, out, _ = _run("gradcheck", SPIRAL, "--checks", "5")
    assert code == 0
    assert "dense_1.W" in out and "passed" in out
    code, out, _ = _run("gradcheck", SPIRAL, "--checks", "5", "--tolerance", "1e-30")
    assert code == 1 and "FAILED" in out


def test_runs_lists_past_runs(trained: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _, _ = trained
    code, out, _ = _run("runs", "--root", str(folder.parent))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["run", "network", "data", "status"]
    assert lines[2].split()[:5] == ["spiral", "SpiralMLP", "spiral", "finished", "15"]
    monkeypatch.setenv("DLLAB_HOME", str(folder.parent.parent / "empty-home"))
    code, out, _ = _run("runs")
    assert code == 0 and out.startswith("no runs in")


def test_compare_writes_curves_and_a_table(tmp_path: Path) -> None:
    code, out, _ = _run("compare", "--help")
    text = " ".join(out.split())
    assert code == 0 and "--processes N train N settings at once" in text and "at most one per core" in text
    out_dir = tmp_path / "cmp"
    code, out, err = _run(
        "compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd,adam", "--batchnorm", "on,off",
        "--max-steps", "12", "--batch-size", "64", "--processes", "2", "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    assert "validation samples, 2 at a time)" in err
    assert "[adam, batchnorm off] epoch" in err
    for label in ("sgd, batchnorm on", "adam, batchnorm off"):
        assert label in out
    assert (out_dir / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((out_dir / "comparison_steps.csv").read_text(encoding="utf-8").splitlines()) == 1 + 4 * 12
    assert len(list(out_dir.glob("*/metrics.csv"))) == 4


def test_compare_lists_and_runs_the_book_presets(mnist_dir: Path, tmp_path: Path) -> None:
    code, out, _ = _run("compare", "--list-presets")
    assert code == 0
    for name in ("optimizers", "initializers", "batchnorm", "weight_decay", "dropout"):
        assert out.count(f"{name}: ") == 1
    assert "figure 6-9" in out and "--book" in out
    out_dir = tmp_path / "dropout"
    code, out, err = _run(
        "compare", "--preset", "dropout", "--quick", "--data", str(mnist_dir), "--max-steps", "6",
        "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    assert err.startswith("Overfitting and dropout (figures 6-20 and 6-23)")
    assert "300 training, 0 validation samples" in err
    assert "[dropout 0.2] epoch 2/" in err
    lines = out.splitlines()
    assert " ".join(lines[0].split()) == "variant status final loss train acc val acc test acc"
    assert lines[2].startswith("dropout 0 ") and lines[3].startswith("dropout 0.2 ")
    assert "for display only" in out
    header = (out_dir / "comparison.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("test_loss,test_accuracy")
    assert len((out_dir / "comparison_steps.csv").read_text(encoding="utf-8").splitlines()) == 1 + 2 * 6


def test_search_ranks_trials_and_writes_its_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "search"
    code, out, err = _run(
        "search", SPIRAL, "--data", "spiral", "--trials", "4", "--lr-range", "1e-3,1", "--wd-range",
        "1e-8,1e-4", "--epochs", "3", "--batch-size", "50", "--seed", "2", "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    assert "log-uniform learning rate 0.001 to 1; weight decay 1e-08 to 0.0001 (seed 2)" in err
    assert "the test set is not used" in err
    assert err.count("best val acc") == 4
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["rank", "trial", "lr", "weight_decay"]
    ranks = [line.split() for line in lines[2:6]]
    assert [row[0] for row in ranks] == ["1", "2", "3", "4"]
    scores = [float(row[4]) for row in ranks]
    assert scores == sorted(scores, reverse=True)
    assert lines[6].startswith(f"best: trial {ranks[0][1]}, lr ")
    for name in ("search.csv", "search_epochs.csv", "search.png", "search.json"):
        assert (out_dir / name).is_file()
    again = tmp_path / "again"  # the same search, two trials at a time in worker processes
    _run(
        "search", SPIRAL, "--data", "spiral", "--trials", "4", "--lr-range", "1e-3,1", "--wd-range",
        "1e-8,1e-4", "--epochs", "3", "--batch-size", "50", "--seed", "2", "--processes", "2",
        "--out", str(again),
    )  # fmt: skip
    first, second = ((folder / "search.csv").read_text(encoding="utf-8") for folder in (out_dir, again))
    assert first == second


def test_divergence_prints_the_message_and_exits_1(tmp_path: Path) -> None:
    code, out, err = _run("train", SPIRAL, "--data", "spiral", "--lr", "1e12", "--out", str(tmp_path / "r"))
    assert code == 1
    assert "diverged" in err and "learning rate" in err
    assert "run folder:" in out
    assert json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))["status"] == "diverged"


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "missing.json", "--data", "spiral"],
        ["train", SPIRAL, "--data", "no-such-set"],
        ["train", SPIRAL, "--data", "spiral", "--epochs", "0"],
        ["train", SPIRAL, "--data", "spiral", "--lr", "fast"],
        ["train", SPIRAL, "--data", "spiral", "--optimizer", "sgdd"],
        ["train", SPIRAL, "--data", "spiral", "--augment", "zoom=2"],
        ["train", SPIRAL, "--data", "spiral", "--schedule", "step:gamma"],
        ["train", SPIRAL, "--data", "spiral", "--val-split", "1"],
        ["train", str(ROOT / "assets" / "networks" / "two_layer_net.json"), "--data", "spiral"],
        ["train", str(ROOT / "pyproject.toml"), "--data", "spiral"],
        ["evaluate", "missing.dllab.npz", "--data", "spiral"],
        ["evaluate", SPIRAL, "--data", "spiral"],
        ["info", str(ROOT / "pyproject.toml")],
        ["export", "missing.dllab.npz", "--onnx", "x.onnx"],
        ["gradcheck", "missing.json"],
        ["compare", SPIRAL, "--data", "spiral"],
        ["compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd", "--inits", "he", "--lrs", "0.1"],
        ["compare", SPIRAL, "--data", "spiral", "--inits", "uniformish"],
        ["compare", SPIRAL, "--optimizers", "sgd,adam"],
        ["compare", "--data", "spiral", "--optimizers", "sgd,adam"],
        ["compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd", "--quick"],
        ["compare", "--preset", "adamw"],
        ["compare", "--preset", "dropout", SPIRAL],
        ["compare", "--preset", "dropout", "--optimizer", "adam", "--dropouts", "0,0.5"],
        ["compare", "--preset", "dropout", "--quick", "--book"],
        ["compare", "--preset", "dropout", "--data", "no-such-folder"],
        ["compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd,adam", "--processes", "0"],
        ["search", SPIRAL, "--data", "spiral"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-2,1e-6"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "fast"],
        ["search", SPIRAL, "--data", "spiral", "--wd-range", "0,1e-4"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--trials", "0"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--val-split", "0"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--top-k", "0"],
        ["frobnicate"],
        [],
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLLAB_HOME", str(tmp_path))
    code, out, err = _run(*argv)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("dllab: error: ")
    assert not list(tmp_path.iterdir())  # no run folder was started


def test_a_corrupt_model_file_is_a_user_mistake(trained: tuple[Path, str, str], tmp_path: Path) -> None:
    folder, _, _ = trained
    damaged = tmp_path / "cut.dllab.npz"
    damaged.write_bytes((folder / "model_final.dllab.npz").read_bytes()[:300])
    for argv in (["evaluate", str(damaged), "--data", "spiral"], ["info", str(damaged)]):
        code, _, err = _run(*argv)
        assert code == 2 and err.startswith("dllab: error: model file") and err.count("\n") == 1


def test_option_parsers() -> None:
    assert parse_named_options("Momentum:momentum=0.95", "optimizer") == ("momentum", {"momentum": 0.95})
    assert parse_named_options("step:step_size=5,gamma=0.5", "schedule") == (
        "step",
        {"step_size": 5, "gamma": 0.5},
    )
    augment = parse_augment("shift=2,rotation=10,noise=0.1,flip")
    assert augment is not None
    assert (augment["shift"], augment["rotation"], augment["noise"], augment["flip"]) == (2, 10.0, 0.1, True)
    assert parse_augment("none") is None


def test_progress_bar_rewrites_one_line_on_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, tty=True, refresh=0.0)
    bar.handle(RunStarted(2, 3, 6, 300, 0, 0))
    for step in (1, 2):
        bar.handle(BatchEnded(step, 1, step, 1.0 / step, 0.01, 1000.0))
    text = stream.getvalue()
    assert text.startswith("\r") and "\n" not in text
    assert "epoch 1/2" in text and "loss 0.7500" in text and "ETA" in text and "1,000 samples/s" in text
    bar.handle(EpochEnded(1, 3, 0.5, 0.8, 0.6, 0.7, 0.01, 1.0, 900.0, True, ""))
    assert stream.getvalue().endswith("\n") and "val acc 0.700" in stream.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_stops_cleanly_and_keeps_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "dllab", "train", SPIRAL, "--data", "spiral", "--epochs", "100000",
         "--out", str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (folder / "metrics.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (folder / "metrics.csv").exists()
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "stopped at step" in out
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "stopped"
    model = dllab.load(folder / "model_final.dllab.npz")
    assert np.isfinite(model.params["dense_1.W"]).all()
