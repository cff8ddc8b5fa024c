"""``dllab evaluate --dtype`` and ``dllab precision``: a model file computed in another precision."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import dllab
from dllab.text import format_bytes
from tests.engine.cli.test_main import SPIRAL, _run


@pytest.fixture(scope="module")
def spiral_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spiral network trained for a few epochs, as a model file."""
    folder = tmp_path_factory.mktemp("precision") / "run"
    code, _, err = _run(
        "train", SPIRAL, "--data", "spiral", "--optimizer", "adam", "--lr", "0.02", "--epochs", "8",
        "--batch-size", "50", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    return folder / "model_final.dllab.npz"


def _accuracy(out: str) -> float:
    return float(re.search(r"accuracy (\d\.\d+)", out).group(1))


def test_evaluate_in_each_precision(spiral_model: Path) -> None:
    code, plain, err = _run("evaluate", str(spiral_model), "--data", "spiral")
    assert code == 0, err
    for precision in ("float64", "float32", "float16"):
        code, out, err = _run("evaluate", str(spiral_model), "--data", "spiral", "--dtype", precision)
        assert code == 0, err
        assert f" in {precision}; spiral test split" in out.splitlines()[0]
        assert ("float16 is computed here" in out) == (precision == "float16")
        assert abs(_accuracy(out) - _accuracy(plain)) <= 0.02
    assert (
        _run("evaluate", str(spiral_model), "--data", "spiral", "--dtype", "float32")[1].split("\n", 1)[1]
        == (plain.split("\n", 1)[1])
    )  # the model file is float32: the same evaluation


def test_precision_prints_a_row_per_precision(spiral_model: Path) -> None:
    code, out, err = _run("precision", str(spiral_model), "--data", "spiral", "--batch-size", "64")
    assert code == 0, err
    lines = out.splitlines()
    assert "batches of 64" in lines[0]
    assert lines[1].split() == [
        "precision", "accuracy", "changed", "time", "vs", "float64", "parameters", "activations", "peak"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[3:6]}
    assert list(rows) == ["float64", "float32", "float16"]
    assert rows["float64"].split()[2] == "0"  # nothing changed against itself
    params = dllab.load(spiral_model).param_count
    for precision, size in (("float64", 8), ("float32", 4), ("float16", 2)):
        assert f" {format_bytes(size * params)} " in rows[precision]
    assert "Changed: predictions that differ" in out and "float16 is computed here" in out


def test_the_books_network_keeps_its_accuracy_in_every_precision(
    book_weights_dir: Path, mnist_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "ch03.dllab.npz"
    assert _run("import-book", str(book_weights_dir / "ch03_sample_weight.pkl"), "--out", str(model))[0] == 0
    code, out, err = _run("precision", str(model), "--data", str(mnist_dir))
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[3:6]]
    assert [row[:2] for row in rows] == [["float64", "93.52%"], ["float32", "93.52%"], ["float16", "93.52%"]]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--dtype", "float8"], "argument --dtype: invalid choice: 'float8'"),
        (["--dtype", "int32"], "argument --dtype: invalid choice"),
    ],
)
def test_evaluate_refuses_an_unknown_precision(spiral_model: Path, argv: list[str], problem: str) -> None:
    code, out, err = _run("evaluate", str(spiral_model), "--data", "spiral", *argv)
    assert (code, out) == (2, "") and problem in err and err.count("\n") == 1


def test_precision_refuses_a_bad_batch_size_in_one_line(spiral_model: Path) -> None:
    code, out, err = _run("precision", str(spiral_model), "--data", "spiral", "--batch-size", "0")
    assert (code, out) == (
        2,
        "",
    ) and err == "dllab: error: the batch size must be a whole number of at least 1, got 0\n"


def test_info_describes_an_onnx_file_and_evaluate_takes_the_lab_s_export(
    spiral_model: Path, tmp_path
) -> None:
    onnx_file = tmp_path / "spiral.onnx"
    assert _run("export", str(spiral_model), "--onnx", str(onnx_file))[0] == 0
    code, out, err = _run("info", str(onnx_file))
    assert code == 0, err
    params = dllab.load(spiral_model).param_count
    assert "input: float32 [batch, 2]" in out and "output: float32 [batch, 3]" in out
    assert "operators (6 nodes): Gemm ×3, Relu ×2, Softmax" in out
    assert f"parameters: {params:,}" in out
    code, from_onnx, err = _run("evaluate", str(onnx_file), "--data", "spiral")
    assert code == 0, err
    plain = _run("evaluate", str(spiral_model), "--data", "spiral")[1]
    assert from_onnx.split("\n", 1)[1] == plain.split("\n", 1)[1]


def test_evaluate_names_the_operators_of_a_foreign_file_it_cannot_map(tmp_path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Resize", ["x"], ["y"])],
        "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "foreign.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    code, _, err = _run("evaluate", str(path), "--data", "spiral")
    assert code == 2
    assert err.strip().endswith("has operators dllab cannot map to its layers: Resize")
    assert err.count("\n") == 1


def test_train_and_evaluate_on_an_image_folder(tmp_path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "bars"
    for label, axis in (("rows", 0), ("columns", 1)):
        (root / label).mkdir(parents=True)
        for i in range(30):
            pixels = rng.integers(0, 60, (12, 12), dtype=np.uint8)
            index = [slice(None), slice(None)]
            index[axis] = slice(4 + i % 4, 6 + i % 4)
            pixels[tuple(index)] = 250
            Image.fromarray(pixels).save(root / label / f"{i:02d}.png")
    (root / "rows" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    network = tmp_path / "net.json"
    layers = [
        {"type": "Flatten"},
        {"type": "Dense", "units": 16},
        {"type": "ReLU"},
        {"type": "Dense", "units": 2},
    ]
    network.write_text(json.dumps({"name": "bars", "input_shape": [1, 8, 8], "layers": layers}))
    out = tmp_path / "run"
    code, _, err = _run(
        "train", str(network), "--data", str(root), "--image-size", "8", "--optimizer", "adam", "--lr", "0.01",
        "--epochs", "15", "--batch-size", "16", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "Skipped 1 of 61 files that are not readable images: rows/broken.png" in err
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["image_size"] == [8, 8] and config["data"]["dataset"] == str(root)
    code, report, err = _run("evaluate", str(out / "model_final.dllab.npz"), "--data", str(root))
    assert code == 0, err
    assert "bars test split, 12 samples" in report
    assert _accuracy(report) >= 0.9
