"""``dllab import-book``: the book's weights as a model file, what it says, and what it refuses."""

from __future__ import annotations

import os
import pickle
import shlex
from pathlib import Path

import numpy as np
import pytest

import dllab
from tests.engine.cli.test_main import _run


def _simple_conv_pickle(path: Path) -> Path:
    """A pickle of SimpleConvNet-shaped weights (random values), as the book's ch07 file is laid out."""
    rng = np.random.default_rng(0)
    shapes = {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}
    path.write_bytes(pickle.dumps({k: rng.normal(size=s) for k, s in shapes.items()}, protocol=3))
    return path


class _System:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


@pytest.mark.parametrize(
    ("name", "said", "accuracy"),
    [
        (
            "ch03_sample_weight.pkl",
            "neuralnet_mnist (chapter 3): 5 layers, 45,360 parameters (float32)",
            "93.52",
        ),
        ("ch07_params.pkl", "SimpleConvNet (chapter 7): 7 layers, 433,890 parameters (float64)", "98.90"),
        (
            "ch08_deep_convnet_params.pkl",
            "DeepConvNet (chapter 8): 21 layers, 123,552 parameters (float64)",
            "99.35",
        ),
    ],
)
def test_each_book_file_becomes_a_model_file(
    book_weights_dir: Path, tmp_path: Path, name: str, said: str, accuracy: str
) -> None:
    code, out, err = _run("import-book", str(book_weights_dir / name), "--out", str(tmp_path / "model"))
    assert code == 0, err
    written = tmp_path / "model.dllab.npz"
    assert out.splitlines() == [
        f"recognised {said}; the book's {name}, which scores {accuracy}% on the MNIST test set in the book",
        f"wrote {written}",
    ]
    model = dllab.load(written)
    assert model.training_summary["imported_from"] == name
    assert model.training_summary["dataset"] == "mnist"


def test_the_imported_model_evaluates_to_the_books_accuracy(
    book_weights_dir: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    out_file = str(tmp_path / "ch03.dllab.npz")
    assert _run("import-book", str(book_weights_dir / "ch03_sample_weight.pkl"), "--out", out_file)[0] == 0
    code, out, err = _run("evaluate", out_file, "--data", str(mnist_dir))
    assert code == 0, err
    assert "accuracy 0.9352 (9,352 of 10,000 correct)" in out
    code, out, err = _run("evaluate", out_file, "--data", str(mnist_dir), "--dtype", "float16")
    assert code == 0, err
    assert (
        "in float16;" in out
        and "float16 is computed here with weights and activations stored in float16" in out
    )
    assert "accuracy 0.9352" in out


def test_an_existing_model_file_is_kept_unless_force_is_given(tmp_path: Path) -> None:
    weights = _simple_conv_pickle(tmp_path / "w.pkl")
    target = tmp_path / "net.dllab.npz"
    target.write_bytes(b"keep me")
    for out in (str(target), str(tmp_path / "net")):  # the name completed as the file is written
        code, stdout, err = _run("import-book", str(weights), "--out", out)
        assert (code, stdout) == (2, "")
        assert err == f"dllab: error: {str(target)!r} already exists; give --force to replace it\n"
        assert target.read_bytes() == b"keep me"
    code, stdout, err = _run("import-book", str(weights), "--out", str(target), "--force")
    assert code == 0, err
    assert "recognised SimpleConvNet (chapter 7)" in stdout and "the book's" not in stdout
    assert dllab.load(target).param_count == 433_890


def test_a_network_that_does_not_fit_is_refused_in_one_line(tmp_path: Path) -> None:
    weights = _simple_conv_pickle(tmp_path / "w.pkl")
    cases = {
        "DeepConvNet": "does not fit the network DeepConvNet: it holds W1, b1, W2, b2, W3, b3, where it needs W1",
        "neuralnet-mnist": "does not fit the network neuralnet_mnist: it has W1 of shape (30, 1, 5, 5)",
        "LeNet": "'LeNet' is not a network of the book whose weights dllab reads",
    }
    for network, problem in cases.items():
        code, out, err = _run("import-book", str(weights), "--out", str(tmp_path / "m"), "--network", network)
        assert (code, out) == (2, "")
        assert err.startswith("dllab: error: ") and problem in err and err.count("\n") == 1
        assert not (tmp_path / "m.dllab.npz").exists()
    code, _, err = _run(
        "import-book", str(weights), "--out", str(tmp_path / "m"), "--network", "simpleconvnet"
    )
    assert code == 0, err


def test_a_pickle_that_runs_code_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"W1": _System(f"touch {shlex.quote(str(marker))}")}))
    code, out, err = _run("import-book", str(path), "--out", str(tmp_path / "m.dllab.npz"))
    assert (code, out) == (2, "")
    assert err.startswith(f"dllab: error: book weights file {str(path)!r} names ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not marker.exists() and not (tmp_path / "m.dllab.npz").exists()


def test_missing_and_damaged_files_are_refused_in_one_line(tmp_path: Path) -> None:
    whole = _simple_conv_pickle(tmp_path / "w.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(whole[:1000])
    for path, problem in (
        (tmp_path / "no.pkl", "does not exist"),
        (tmp_path / "cut.pkl", "damaged or cut short"),
    ):
        code, out, err = _run("import-book", str(path), "--out", str(tmp_path / "m"))
        assert (code, out) == (2, "") and problem in err and err.count("\n") == 1


def test_out_is_required() -> None:
    code, _, err = _run("import-book", "w.pkl")
    assert code == 2 and "--out" in err
