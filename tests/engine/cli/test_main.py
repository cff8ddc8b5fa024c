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
from dllab.cli.main import ProgressBar, main, parse_augment, parse_named_options
from dllab.trainer import BatchEnded, EpochEnded, RunStarted

ROOT = Path(__file__).resolve().parents[3]
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
    for command in (
        "train",
        "evaluate",
        "export",
        "info",
        "gradcheck",
        "runs",
        "compare",
        "search",
        "search-worker",
    ):
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


@pytest.mark.slow
def test_search_ranks_trials_and_writes_its_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "search"
    argv = [
        "search", SPIRAL, "--data", "spiral", "--trials", "4", "--lr-range", "1e-3,1", "--wd-range", "1e-8,1e-4",
        "--epochs", "3", "--batch-size", "50", "--seed", "2", "--out", str(out_dir),
    ]  # fmt: skip
    code, out, err = _run(*argv)
    assert code == 0, err
    assert (
        "learning rate 0.001 to 1, log-uniform; weight decay 1e-08 to 0.0001, log-uniform (random sampler"
        in err
    )
    assert "the test set is not used" in err
    assert err.count("val acc") == 4 and "[4/4 done]" in err
    assert "dllab search-worker --study search --storage sqlite:///" in err
    lines = out.splitlines()
    assert lines[0] == "study 'search': 4 of 4 trials done"
    assert lines[1].split()[:4] == ["rank", "trial", "lr", "weight_decay"]
    ranks = [line.split() for line in lines[3:7]]
    assert [row[0] for row in ranks] == ["1", "2", "3", "4"]
    scores = [float(row[4]) for row in ranks]
    assert scores == sorted(scores, reverse=True)
    assert lines[7].startswith(f"best: trial {ranks[0][1]}, lr ")
    assert "optuna-dashboard sqlite:///" in out
    for name in ("search.csv", "search_epochs.csv", "search.png", "search.json", "study.db", "trial-0000"):
        assert (out_dir / name).exists()
    # The same command again: the study has its trials, nothing more runs; more trials resume it.
    code, _, err = _run(*argv)
    assert code == 0 and "resuming the study 'search' (4 of 4 trials done)" in err and "val acc" not in err
    code, out, err = _run(*argv[:5], "6", *argv[6:])
    assert code == 0 and err.count("val acc") == 2 and "study 'search': 6 of 6 trials done" in out
    code, _, err = _run(*argv[:-2], "--search", "optimizer=sgd,adam", "--out", str(out_dir))
    assert code == 2 and "holds another search (its the searched settings differ)" in err


@pytest.mark.slow
def test_a_search_with_more_settings_pruning_and_two_workers_in_a_journal_file(tmp_path: Path) -> None:
    journal = tmp_path / "shared" / "study.log"
    argv = [
        "search", SPIRAL, "--data", "spiral", "--trials", "4", "--epochs", "3", "--batch-size", "50",
        "--lr", "0.05", "--search", "optimizer=sgd,adam", "--search", "hidden_units=8..32", "--sampler", "tpe",
        "--pruner", "median", "--study", "wide", "--storage", str(journal), "--processes", "2",
        "--out", str(tmp_path / "here"),
    ]  # fmt: skip
    code, out, err = _run(*argv)
    assert code == 0, err
    assert (
        "weight decay 1e-08 to 0.0001, log-uniform; optimizer: sgd, adam; hidden units 8 to 32, log-uniform"
        in err
    )
    assert "(TPE sampler, median pruning, seed 0)" in err
    assert f"study 'wide' in journal:{journal}" in err
    lines = out.splitlines()
    assert lines[1].split()[:5] == ["rank", "trial", "weight_decay", "optimizer", "hidden_units"]
    assert len(list((tmp_path / "here").glob("trial-*"))) == 4
    code, out, err = _run(
        "search-worker", "--study", "wide", "--storage", str(journal), "--out", str(tmp_path / "w")
    )
    assert code == 0, err
    assert "joining the study 'wide'" in err and "study 'wide': 4 of 4 trials done" in out


def test_the_books_search_takes_its_settings_from_the_book(tmp_path: Path, mnist_dir: Path) -> None:
    out_dir = tmp_path / "book"
    code, out, err = _run(
        "search", "--book", "--data", str(mnist_dir), "--trials", "2", "--epochs", "1", "--out", str(out_dir)
    )
    assert code == 0, err
    assert "Hyperparameter search on a log scale (figure 6-24)" in err
    assert "searching 2 trials of MultiLayerNet on" in err
    assert "learning rate 1e-06 to 0.01, log-uniform; weight decay 1e-08 to 0.0001, log-uniform" in err
    assert "training on 400 samples, scored on 100 validation samples" in err
    assert "after the last epoch" in out
    record = json.loads((out_dir / "search.json").read_text(encoding="utf-8"))
    assert record["rank_by"] == "last" and record["experiment"]["training"]["optimizer"] == "sgd"
    assert record["sampler"] == "random" and record["trials"] == 2
    assert (
        len(record["experiment"]["network"]["layers"]) == 13
    )  # six hidden Dense + ReLU pairs and the output
    assert (out_dir / "search.png").is_file()
    code, _, err = _run("search", "--book", SPIRAL, "--lr-range", "1e-3,1", "--optimizer", "adam")
    assert code == 2
    assert f"leave out {SPIRAL}, --optimizer, --lr-range (only --data" in err


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
        ["search", SPIRAL, "--data", "spiral", "--lr", "0.1", "--lr-range", "1e-3,1"],
        ["search", SPIRAL, "--data", "spiral", "--lr", "0.1", "--weight-decay", "0"],
        ["search", SPIRAL, "--data", "spiral", "--search", "momentum=0.5..0.9"],
        ["search", SPIRAL, "--data", "spiral", "--search", "optimizer=sgd,nadam"],
        ["search", SPIRAL, "--data", "spiral", "--search", "optimizer=0..1"],
        ["search", SPIRAL, "--data", "spiral", "--search", "batchnorm"],
        ["search", SPIRAL, "--data", "spiral", "--search", "lr=1e-3..1", "--lr-range", "1e-3,1"],
        ["search", SPIRAL, "--data", "spiral", "--storage", "sqlite:///elsewhere.db"],
        ["search", SPIRAL, "--data", "spiral", "--storage", "notes.txt", "--study", "s"],
        ["search", SPIRAL, "--data", "spiral", "--heartbeat", "0"],
        ["search", SPIRAL, "--data", "spiral", "--search", "dropout=0..0.5", "--processes", "0"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-2,1e-6"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "fast"],
        ["search", SPIRAL, "--data", "spiral", "--wd-range", "0,1e-4"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--trials", "0"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--val-split", "0"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1", "--top-k", "0"],
        ["search-worker", "--study", "s", "--storage", "sqlite:///missing/study.db", "--trials", "0"],
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


# --- what a run may touch, and what a bad input gets ------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    "argv",
    [
        ["train", SPIRAL, "--data", "spiral", "--epochs", "1"],
        ["compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd,adam", "--epochs", "1"],
        ["search", SPIRAL, "--data", "spiral", "--lr-range", "1e-3,1e-1", "--trials", "2", "--epochs", "1"],
    ],
)
def test_a_run_never_writes_into_an_existing_folder_or_an_empty_name(argv: list[str], tmp_path: Path) -> None:
    mine = tmp_path / "my work"
    mine.mkdir()
    (mine / "summary.json").write_text('{"mine": true}', encoding="utf-8")
    (mine / "metrics.csv").write_text("epoch\n1\n", encoding="utf-8")
    before = _snapshot(mine)
    code, out, err = _run(*argv, "--out", str(mine))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "my work" in err and "not empty" in err
    assert _snapshot(mine) == before
    code, _, err = _run(*argv, "--out", "")
    assert code == 2 and "empty name" in err and err.count("\n") == 1
    empty = tmp_path / "empty"  # an existing empty folder is taken
    empty.mkdir()
    code, _, err = _run(*argv, "--out", str(empty))
    assert code == 0, err
    assert (empty / ".dllab-run").is_file()


def test_two_runs_racing_for_one_folder_exactly_one_wins(tmp_path: Path) -> None:
    for attempt in range(2):
        out = tmp_path / f"race{attempt}"
        command = [sys.executable, "-m", "dllab", "train", SPIRAL, "--data", "spiral", "--epochs", "2",
                   "--out", str(out)]  # fmt: skip
        racers = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]  # fmt: skip
        results = [(p.wait(timeout=120), *p.communicate()) for p in racers]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        loser = next(err for code, _, err in results if code == 2)
        assert "taken by another run" in loser or "not empty" in loser
        assert loser.count("\n") == 1
        assert dllab.runs.open_run(out).status == "finished"
        metrics = (out / "metrics.csv").read_text(encoding="utf-8").splitlines()
        assert [line.split(",")[0] for line in metrics] == ["epoch", "1", "2"]  # one run's rows, not two


def test_divergence_on_the_last_step_is_caught_and_nothing_non_finite_is_saved(tmp_path: Path) -> None:
    for lr, steps in (("1e6", "2"), ("1e20", "1")):
        folder = tmp_path / f"lr{lr}"
        code, _, err = _run(
            "train", SPIRAL, "--data", "spiral", "--lr", lr, "--max-steps", steps, "--out", str(folder)
        )
        assert code == 1, err
        assert "Traceback" not in err and "diverged" in err
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["status"] == "diverged"
        for name in ("model_final.dllab.npz", "model_best.dllab.npz"):
            if (folder / name).exists():
                model = dllab.load(folder / name)
                assert all(np.isfinite(v).all() for v in model.params.values())
                assert np.isfinite(model.predict(np.zeros((4, 2), dtype=np.float32))).all()
        assert (folder / "model_final.dllab.npz").exists()


def test_without_a_validation_split_the_best_model_follows_the_training_loss(tmp_path: Path) -> None:
    folder = tmp_path / "noval"
    code, _, err = _run(
        "train", SPIRAL, "--data", "spiral", "--optimizer", "adam", "--lr", "0.02", "--epochs", "6",
        "--val-split", "0", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    run = dllab.runs.open_run(folder)
    train_loss = run.metrics["train_loss"]
    assert summary["best_measure"] == "training loss"
    assert summary["best_epoch"] == int(np.argmin(train_loss)) + 1 > 1
    best = dllab.load(folder / "model_best.dllab.npz")
    assert best.training_summary["epoch"] == summary["best_epoch"]


def _model_naming_data(folder: Path, dataset: str) -> Path:
    model = dllab.build(SPIRAL, seed=0)
    model.training_summary = {"dataset": dataset}
    return dllab.save(model, folder / "named.dllab.npz")


def test_bad_command_lines_each_get_one_line_and_exit_2(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    huge = tmp_path / "huge.json"
    spec = json.loads(Path(SPIRAL).read_text(encoding="utf-8"))
    spec["layers"][0]["units"] = 1e308
    huge.write_text(json.dumps(spec), encoding="utf-8")
    nan_data = tmp_path / "nan.npz"
    x = np.random.default_rng(0).normal(size=(50, 2))
    x[7, 1] = np.nan
    np.savez(nan_data, x=x, y=np.arange(50) % 3)
    named_path = _model_naming_data(tmp_path, str(tmp_path / "secret"))
    cases = [
        ["gradcheck", SPIRAL, "--batch-size", "0"],
        ["gradcheck", SPIRAL, "--checks", "0"],
        ["evaluate", str(named_path)],
        ["info", "/dev/zero"],
        ["train", SPIRAL, "--data", "5"],
        ["train", str(nested), "--data", "spiral"],
        ["train", str(huge), "--data", "spiral"],
        ["train", SPIRAL, "--data", str(nan_data)],
        ["train", SPIRAL, "--data", "spiral", "--optimizer", "adam:beta1=" + "9" * 5000],
        ["train", SPIRAL, "--data", "spiral", "--lr", "nan"],
        ["train", SPIRAL, "--data", "spiral", "--seed", "-1"],
        ["compare", SPIRAL, "--data", "spiral", "--optimizers", "sgd,adam", "--seed", "-1"],
    ]
    for argv in cases:
        code, out, err = _run(*argv)
        assert (code, out) == (2, ""), (argv, err)
        assert err.startswith("dllab: error: ") and err.count("\n") == 1, (argv, err)
        assert "Traceback" not in err and len(err) < 400, (argv, err)
    _, _, err = _run("train", SPIRAL, "--data", str(nan_data))
    assert "nan.npz" in err and "7" in err  # the file and the first bad sample


def test_evaluate_without_data_says_which_built_in_set_the_model_names(tmp_path: Path) -> None:
    model = _model_naming_data(tmp_path, "spiral")
    code, out, err = _run("evaluate", str(model))
    assert code == 0, err
    assert "evaluating on spiral" in err and "loss" in out


def test_an_error_raised_for_a_ctrl_c_is_an_interruption(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted_in_a_class_definition(args: object) -> int:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:  # what Python 3.11 does when Ctrl-C falls in a __set_name__
            raise RuntimeError("Error calling __set_name__") from exc

    monkeypatch.setattr("dllab.cli.main.info_command", interrupted_in_a_class_definition)
    code, out, err = _run("info", "x.dllab.npz")
    assert code == 130 and out == "" and err == "\ndllab: interrupted\n"


def test_an_internal_error_asks_for_a_report_instead_of_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: object) -> int:
        raise KeyError("oops")

    monkeypatch.setattr("dllab.cli.main.info_command", broken)
    code, out, err = _run("info", "x.dllab.npz")
    assert code == 70 and out == ""
    assert err.count("\n") == 1 and "internal error (KeyError" in err and "please report" in err
    monkeypatch.setenv("DLLAB_TRACEBACK", "1")
    _, _, err = _run("info", "x.dllab.npz")
    assert "Traceback" in err


def test_names_from_files_are_printed_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = dllab.build(SPIRAL, seed=0)
    model.class_names = ["cat\x1b]0;owned\x07", "dog\x1b[2J", "bird\r\nfake line"]
    model.training_summary = {"note\x1b[31m": "red\x1b[0m"}
    path = dllab.save(model, tmp_path / "m.dllab.npz")
    code, out, _ = _run("info", str(path))
    assert code == 0
    assert "\x1b" not in out and "\r" not in out
    assert "cat\\x1b]0;owned\\x07" in out and "bird\\r\\nfake line" in out
    runs = tmp_path / "runs"
    run = runs / "r"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"network": {"name": "net\x1b]2;x\x07"}}), encoding="utf-8")
    code, out, err = _run("runs", "--root", str(runs))
    assert code == 0 and "\x1b" not in out + err and "net\\x1b]2;x\\x07" in out


def test_runs_lists_good_runs_and_marks_a_damaged_one(trained: tuple[Path, str, str], tmp_path: Path) -> None:
    good, _, _ = trained
    runs = tmp_path / "runs"
    runs.mkdir()
    import shutil

    shutil.copytree(good, runs / "a-good")
    shutil.copytree(good, runs / "b-list-summary")
    (runs / "b-list-summary" / "summary.json").write_text("[1, 2]", encoding="utf-8")
    shutil.copytree(good, runs / "c-bad-accuracy")
    summary = json.loads((good / "summary.json").read_text(encoding="utf-8"))
    (runs / "c-bad-accuracy" / "summary.json").write_text(
        json.dumps({**summary, "test_accuracy": [1]}), encoding="utf-8"
    )
    code, out, err = _run("runs", "--root", str(runs))
    assert code == 0
    assert "a-good" in out and "finished" in out
    assert out.count("damaged") == 2 and err.count("damaged:") == 2


def _dllab_command() -> list[str]:
    """The ``dllab`` command as installed, or what it runs (``ui.app.main``) where it is not."""
    script = Path(sys.executable).with_name("dllab")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from ui.app import main; sys.exit(main())"]


def _wait_for_python_to_start(process: subprocess.Popen) -> None:
    """Until the child runs the project's code (it has loaded numpy's library), so that a signal sent then falls
    in dllab's start and not in the interpreter's own, which no program can handle (on a busy machine the
    interpreter alone may take longer than the delays below). Returns at once where /proc is not there."""
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if "numpy" in maps.read_text():
                return
        except OSError:
            return
        time.sleep(0.002)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
def test_ctrl_c_while_starting_exits_130_without_a_traceback(delay: float, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            *_dllab_command(),
            "train",
            SPIRAL,
            "--data",
            "spiral",
            "--epochs",
            "100000",
            "--out",
            str(tmp_path / "r"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a test run started in the background (where the shell ignores Ctrl-C for it and
        # its children) would otherwise start dllab deaf to it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _wait_for_python_to_start(process)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert process.returncode in (130, -signal.SIGINT), err


_INTERRUPTED_IN_A_CLASS_DEFINITION = """
import os, signal, sys, time

class Interrupting:  # a descriptor: Python calls its __set_name__ while it makes a class that holds one
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)

class MakesAClass:  # as the command line's modules load, a class holding one is made
    def find_spec(self, name, path=None, target=None):
        if name == "dllab.cli.main":
            type("Made", (), {"field": Interrupting()})

sys.meta_path.insert(0, MakesAClass())
from ui.app import main
sys.exit(main(["info", "x.dllab.npz"]))
"""


def test_ctrl_c_in_pythons_own_machinery_while_starting_exits_130_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_IN_A_CLASS_DEFINITION],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert (done.returncode, done.stderr) == (130, "\ndllab: interrupted\n")


def test_a_reader_that_goes_away_is_not_an_error(trained: tuple[Path, str, str]) -> None:
    folder, _, _ = trained
    read, write = os.pipe()
    os.close(read)  # like `dllab info MODEL | head -0`: nobody reads the output
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dllab", "info", str(folder / "model_final.dllab.npz")],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        os.close(write)
    assert done.returncode == 0 and done.stderr == ""


# --- one experiment: the fit rule and --config ----------------------------------------------------------------

FLAT_CNN = {
    "name": "FlatCNN",
    "input_shape": [784],  # a flat input, as a hand-written file may say; the first layer needs images
    "layers": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 5},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10},
    ],
}


def _flat_cnn_file(tmp_path: Path) -> Path:
    path = tmp_path / "flat_cnn.json"
    path.write_text(json.dumps(FLAT_CNN), encoding="utf-8")
    return path


@pytest.mark.parametrize("source", ["shapes", "mnist"])
def test_a_cnn_with_a_flat_input_takes_the_image_shape_with_a_one_line_note(
    source: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data = "shapes" if source == "shapes" else str(request.getfixturevalue("mnist_dir"))
    folder = tmp_path / "run"
    code, _, err = _run(
        "train", str(_flat_cnn_file(tmp_path)), "--data", data, "--subset", "300", "--epochs", "1",
        "--batch-size", "50", "--max-steps", "3", "--optimizer", "adam", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    assert err.splitlines()[0] == "input shape set to 1×28×28 from the data"
    assert err.count("input shape set") == 1
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["network"]["input_shape"] == [1, 28, 28]  # the run records the network it trained
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["steps"] == 3


def test_a_network_whose_first_layer_cannot_take_the_data_or_whose_outputs_differ_is_one_line(
    tmp_path: Path,
) -> None:
    code, out, err = _run(
        "train", str(_flat_cnn_file(tmp_path)), "--data", "spiral", "--out", str(tmp_path / "a")
    )
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "layer 0 (Conv2D)" in err and "spiral samples of shape 2" in err and "expects images" in err
    ten_for_three = tmp_path / "ten.json"
    spec = json.loads(Path(SPIRAL).read_text(encoding="utf-8"))
    spec["layers"][-1]["units"] = 10
    ten_for_three.write_text(json.dumps(spec), encoding="utf-8")
    code, out, err = _run("train", str(ten_for_three), "--data", "spiral", "--out", str(tmp_path / "b"))
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "ends in 10 outputs but the spiral data has 3 classes" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_config_repeats_a_run_and_flags_given_beside_it_win(
    trained: tuple[Path, str, str], tmp_path: Path
) -> None:
    folder, _, _ = trained
    again = tmp_path / "again"
    code, _, err = _run("train", "--config", str(folder / "config.json"), "--out", str(again))
    assert code == 0, err
    first, second = dllab.runs.open_run(folder), dllab.runs.open_run(again)
    for column in ("train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(first.metrics[column], second.metrics[column])
    assert second.summary["test_accuracy"] == first.summary["test_accuracy"]
    old, new = first.config, second.config
    assert (new["network"], new["training"], new["seed"]) == (old["network"], old["training"], old["seed"])
    assert new["data"] == old["data"]
    # A run folder names its config too; the flags given replace what it says, the rest stays.
    changed = tmp_path / "changed"
    code, _, err = _run(
        "train",
        "--config",
        str(folder),
        "--epochs",
        "2",
        "--lr",
        "0.05",
        "--subset",
        "200",
        "--out",
        str(changed),
    )
    assert code == 0, err
    config = dllab.runs.open_run(changed).config
    assert config["training"]["epochs"] == 2 and config["training"]["lr"] == 0.05
    assert config["training"]["optimizer"] == "adam" and config["training"]["batch_size"] == 50
    assert config["data"]["subset"] == 200 and config["seed"] == 1
    # Another optimizer without --lr takes its book learning rate, as without --config.
    code, _, err = _run(
        "train",
        "--config",
        str(folder),
        "--optimizer",
        "sgd",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "sgd"),
    )
    assert code == 0, err
    assert dllab.runs.open_run(tmp_path / "sgd").config["training"]["lr"] == 0.01


def test_an_experiment_file_trains_and_its_network_is_read_wherever_a_network_is(tmp_path: Path) -> None:
    from dllab.experiment import DataSettings, Experiment
    from dllab.trainer import TrainingConfig

    network = json.loads(Path(SPIRAL).read_text(encoding="utf-8"))
    experiment = Experiment(
        network,
        DataSettings("moons", val_fraction=0.2, n_samples=200, normalization="scale"),
        TrainingConfig(optimizer="adam", lr=0.01, batch_size=20, epochs=1),
        seed=3,
    )
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment.to_dict()), encoding="utf-8")
    code, _, err = _run("train", "--config", str(path), "--out", str(tmp_path / "run"))
    assert code == 2 and "ends in 3 outputs but the moons data has 2 classes" in err
    network["layers"][-1]["units"] = 2
    path.write_text(json.dumps({**experiment.to_dict(), "network": network}), encoding="utf-8")
    code, _, err = _run("train", "--config", str(path), "--out", str(tmp_path / "run"))
    assert code == 0, err
    config = dllab.runs.open_run(tmp_path / "run").config
    assert config["data"]["n_samples"] == 200 and config["data"]["dataset"] == "moons"
    assert (
        config["data"]["train_samples"] + config["data"]["val_samples"] + config["data"]["test_samples"]
        == 200
    )
    assert config["seed"] == 3 and config["training"]["batch_size"] == 20
    code, _, err = _run(
        "train", str(path), "--data", "moons", "--epochs", "1", "--out", str(tmp_path / "net")
    )
    assert code == 0, err  # as a network file: its network, the flags for the rest


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must hold a JSON object"),
        (b'{"format": "dllab.run/1", "data": {"dataset": "spiral"}}', "without a network"),
        (b'{"format": "dllab.experiment/9", "network": {}}', "newer experiment"),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral", "colour": 1}}',
            "unknown data setting 'colour'",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral"}, "training": {"lr": "fast"}}',
            "lr",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral"}, "training": {"optimizer_options": [1]}}',
            "optimizer_options",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral", "subset": "all"}}',
            "subset",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral"}, "seed": -4}',
            "seed",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral", "val_fraction": 1e999}}',
            "val_fraction",
        ),
        (
            b'{"format": "dllab.experiment/1", "network": {"layers": []}, "data": {"dataset": "spiral"}, "extra": 1}',
            "unknown key 'extra'",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral"}, "training": {"epochs": 1'
            + b"0" * 5000
            + b"}}",
            "too large",
        ),
        (
            b'{"format": "dllab.run/1", "network": {"layers": []}, "data": {"dataset": "spiral", "augment": {"shift": 1e9}}}',
            "shift",
        ),
        (
            b'{"format": "dllab.network/1", "input_shape": [2], "layers": [{"type": "Dense"}]}',
            "is a network, not an experiment",
        ),
    ],
)
def test_a_bad_or_hostile_config_is_one_line_and_starts_no_run(
    content: bytes, what: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    code, out, err = _run("train", "--config", str(path), "--out", str(tmp_path / "run"))
    assert (code, out) == (2, ""), err
    assert err.startswith("dllab: error: ") and err.count("\n") == 1 and len(err) < 400, err
    assert what in err and "config.json" in err, err
    assert not (tmp_path / "run").exists()


def test_train_needs_a_network_and_data_unless_a_config_gives_them(tmp_path: Path) -> None:
    code, _, err = _run("train", "--data", "spiral")
    assert code == 2 and "give a network file to train, or --config" in err
    code, _, err = _run("train", SPIRAL)
    assert code == 2 and "say which data to train on with --data" in err


def test_train_in_float64_writes_a_float64_model_and_float16_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "run64"
    code, _, err = _run(
        "train", SPIRAL, "--data", "spiral", "--epochs", "2", "--dtype", "float64", "--out", str(folder)
    )  # fmt: skip
    assert code == 0, err
    assert "batch 100, float64" in err
    model = dllab.load(folder / "model_final.dllab.npz")
    assert model.dtype == np.float64 and all(v.dtype == np.float64 for v in model.params.values())
    code, out, err = _run(
        "train", SPIRAL, "--data", "spiral", "--dtype", "float16", "--out", str(tmp_path / "x")
    )
    assert (code, out) == (2, "") and "argument --dtype: invalid choice: 'float16'" in err
    assert not (tmp_path / "x").exists()


def test_train_with_a_train_dev_split_and_a_dev_shift_prints_the_four_way_reading(
    tmp_path: Path, mnist_dir: Path
) -> None:
    network = str(ROOT / "assets" / "networks" / "two_layer_net.json")
    folder = tmp_path / "shifted"
    code, out, err = _run(
        "train", network, "--data", str(mnist_dir), "--subset", "1000", "--val-split", "0.2",
        "--train-dev-split", "0.2", "--dev-shift", "invert", "--human-error", "1", "--optimizer", "adam",
        "--epochs", "2", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    assert "600 training, 200 train-dev, 200 validation" in err and "shifted: invert" in err
    assert "train-dev acc" in err
    assert "errors: human-level 1.0%, training" in out and "test" in out
    assert "data mismatch" in out and "overfitting to dev" in out
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert (config["data"]["train_dev_fraction"], config["data"]["dev_shift"]) == (0.2, "invert")
    assert config["training"]["human_error"] == 0.01 and config["data"]["train_dev_samples"] == 200
    fit = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["fit"]
    assert fit["dev_error"] > fit["train_dev_error"] and fit["largest"] == "data mismatch"
    assert f"{fit['reading']}\n" in out
    # The remedy is one flag away: the same run repeated with a share of inverted training images.
    remedied = tmp_path / "remedied"
    code, _, err = _run("train", "--config", str(folder), "--shift-mix", "0.5", "--out", str(remedied))
    assert code == 0, err
    config = json.loads((remedied / "config.json").read_text(encoding="utf-8"))
    assert (config["data"]["dev_shift"], config["data"]["shift_mix"]) == ("invert", 0.5)
    remedied_fit = json.loads((remedied / "summary.json").read_text(encoding="utf-8"))["fit"]
    assert remedied_fit["gaps"]["data mismatch"] < fit["gaps"]["data mismatch"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--human-error", "100"), "--human-error is a percentage of at least 0 and below 100"),
        (
            ("--train-dev-split", "0.95"),
            "train-dev and validation fractions (0.95 and 0.1) leave no training",
        ),
        (("--dev-shift", "blur"), "argument --dev-shift: invalid choice: 'blur'"),
        (("--dev-shift", "noise"), "a dev shift works on images, and the data set 'spiral' holds none"),
    ],
)
def test_bad_mismatch_flags_are_one_sentence(tmp_path: Path, flags: tuple[str, ...], message: str) -> None:
    code, out, err = _run("train", SPIRAL, "--data", "spiral", *flags, "--out", str(tmp_path / "x"))
    assert (code, out) == (2, "") and message in err
    assert "Traceback" not in err


def test_runs_are_found_named_tagged_deleted_and_restored(
    trained: tuple[Path, str, str], tmp_path: Path
) -> None:
    import shutil

    good, _, _ = trained
    runs = tmp_path / "runs"
    for name in ("a-first", "b-second"):
        shutil.copytree(good, runs / name)
    code, out, _ = _run("runs", "--root", str(runs), "--tags", "b-second", "baseline, adam")
    assert code == 0 and out == "b-second: tags baseline, adam\n"
    code, out, _ = _run("runs", "--root", str(runs), "--rename", "a-first", "My first run")
    assert code == 0 and "named My first run" in out
    code, out, _ = _run("runs", "--root", str(runs), "--find", "ADAM")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[2:-1]] == ["b-second"] and "baseline, adam" in lines[2]
    assert lines[-1] == f"1 of 2 runs in {runs}"
    code, out, _ = _run("runs", "--root", str(runs), "--network", "SpiralMLP", "--data", "moons")
    assert lines[0].split()[4:6] == ["name", "tags"] and out.splitlines()[-1].startswith("0 of 2 runs")
    test_accuracy = json.loads((good / "summary.json").read_text(encoding="utf-8"))["test_accuracy"]
    code, out, _ = _run("runs", "--root", str(runs), "--min-test-accuracy", str(test_accuracy + 0.001))
    assert out.splitlines()[-1].startswith("0 of 2 runs")
    code, out, _ = _run("runs", "--root", str(runs), "--min-test-accuracy", str(test_accuracy))
    assert "My first run" in out and out.splitlines()[-1] == f"2 runs in {runs}"
    code, out, _ = _run("runs", "--root", str(runs), "--delete", "a-first")
    assert (
        code == 0
        and not (runs / "a-first").exists()
        and (runs / ".trash" / "a-first" / "config.json").is_file()
    )
    assert "--restore a-first" in out
    code, out, err = _run("runs", "--root", str(runs), "--delete", "a-first")
    assert code == 2 and err.startswith("dllab: error: ") and "not a run folder" in err
    code, out, _ = _run("runs", "--root", str(runs), "--restore", "a-first")
    assert code == 0 and (runs / "a-first" / "model_final.dllab.npz").is_file()
    code, out, _ = _run("runs", "--root", str(runs))
    assert "My first run" in out and out.splitlines()[-1] == f"2 runs in {runs}"
