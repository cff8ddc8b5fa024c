"""``dllab train --init-from MODEL --freeze LAYERS``: start from a saved model, freeze layers."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np

import dllab
from dllab.cli.main import main
from dllab.runs import CLAIM_FILE

ROOT = Path(__file__).resolve().parents[3]
SPIRAL = ROOT / "assets" / "networks" / "spiral_mlp.json"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_init_from_copies_freezes_and_says_so_and_config_json_repeats_it(tmp_path: Path) -> None:
    source = tmp_path / "source"
    flags = ("--data", "spiral", "--optimizer", "adam", "--lr", "0.02", "--epochs", "2", "--batch-size", "50")
    code, _, err = _run("train", str(SPIRAL), *flags, "--out", str(source))
    assert code == 0, err
    network = json.loads(SPIRAL.read_text())
    network["layers"][-1]["name"] = "new_head"
    new = tmp_path / "new.json"
    new.write_text(json.dumps(network))
    target = tmp_path / "target"
    code, _, err = _run(
        "train", str(new), *flags, "--out", str(target),
        "--init-from", str(source / "model_final"), "--freeze", "dense_1, dense_2",
    )  # fmt: skip
    assert code == 0, err
    assert "copied: dense_1, dense_2\n" in err
    assert "frozen: dense_1, dense_2\n" in err
    assert "new: new_head\n" in err
    start, final = dllab.load(source / "model_final"), dllab.load(target / "model_final")
    for key in ("dense_1.W", "dense_2.b"):
        assert np.array_equal(start.params[key], final.params[key])
    config = json.loads((target / "config.json").read_text())
    assert config["training"]["init_from"] == str((source / "model_final.dllab.npz").resolve())
    assert [layer.get("trainable", True) for layer in config["network"]["layers"]][::2] == [
        False,
        False,
        True,
    ]
    # The run repeats from its config.json: the same start, the same layers frozen.
    code, _, err = _run("train", "--config", str(target / "config.json"), "--out", str(tmp_path / "again"))
    assert code == 0, err
    assert "copied: dense_1, dense_2\n" in err and "frozen: dense_1, dense_2\n" in err


def test_freezing_a_name_that_is_no_layer_is_one_clear_error(tmp_path: Path) -> None:
    code, out, err = _run(
        "train", str(SPIRAL), "--data", "spiral", "--freeze", "dense_1,conv9", "--out", str(tmp_path / "x")
    )
    assert code == 2 and out == ""
    assert err.startswith("dllab: error: cannot freeze 'conv9': SpiralMLP has no layer of that name")
    assert err.count("\n") == 1
    code, _, err = _run("train", str(SPIRAL), "--data", "spiral", "--init-from", str(tmp_path / "none"))
    assert code == 2 and err.startswith("dllab: error:") and "none" in err


def test_dllab_transfer_prints_the_table_and_writes_csv_and_png_into_a_claimed_folder(
    mnist_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    import dllab.cli.experiments as experiments

    tiny = experiments.QUICK.__class__(pretrain_samples=500, pretrain_epochs=1, epochs=2, sample_counts=(20,))
    monkeypatch.setattr(experiments, "QUICK", tiny)
    out = tmp_path / "transfer"
    code, printed, err = _run("transfer", "--data", str(mnist_dir), "--quick", "--out", str(out))
    assert code == 0, err
    assert err.startswith("pretraining on mnist[0,1,2,3,4]: 500 samples, 1 epochs")
    assert (
        "frozen features, new head: copied: conv2d_1, conv2d_2, dense_1; frozen: conv2d_1, conv2d_2"
        in printed
    )
    table = printed.splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("samples"))
    assert table[header + 2].split()[0] == "20" and len(table[header + 2].split()) == 4
    assert sorted(p.name for p in out.iterdir()) == sorted([CLAIM_FILE, "transfer.csv", "transfer.png"])
    assert (out / "transfer.csv").read_text().startswith("samples,scratch,finetune,frozen\n20,")
    # The folder is claimed: a second run into it is refused before any training.
    code, printed, err = _run("transfer", "--data", str(mnist_dir), "--quick", "--out", str(out))
    assert code == 2 and err.startswith("dllab: error: the folder") and err.count("\n") == 1
    code, _, err = _run("transfer", "--data", "spiral", "--out", str(tmp_path / "spiral"))
    assert code == 2 and "needs ten classes of 1x28x28 images" in err and err.count("\n") == 1
