"""The transfer experiment: pretrain on digits 0-4, learn 5-9 from few samples from scratch, fine-tuning
everything, or with frozen features under a new head."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from dllab.data import load_dataset, make_toy
from dllab.errors import SettingsError
from dllab.experiments.transfer import (
    QUICK,
    WAYS,
    TransferResult,
    TransferSettings,
    transfer_experiment,
)


@pytest.mark.slow
def test_fine_tuning_a_pretrained_convnet_beats_training_from_scratch_on_100_samples(mnist_dir: Path) -> None:
    lines: list[str] = []
    result = transfer_experiment(
        load_dataset(mnist_dir), dataclasses.replace(QUICK, sample_counts=(100,)), progress=lines.append
    )
    assert lines[0].startswith("pretraining on mnist[0,1,2,3,4]: 15,000 samples") and len(lines) == 4
    assert result.pretrain_accuracy > 0.97
    scratch, finetune, frozen = (result.accuracy[way][0] for way in WAYS)
    assert 0.5 < scratch < finetune, result.table()
    assert frozen > 0.5
    assert result.report is not None and result.report.to_dict() == {
        "copied": ["conv2d_1", "conv2d_2", "dense_1"],
        "frozen": ["conv2d_1", "conv2d_2"],
        "new": ["head_new"],
    }


def _result() -> TransferResult:
    settings = TransferSettings(sample_counts=(50, 100, 500, 5000))
    accuracy = {
        "scratch": [0.8, 0.87, 0.95, 0.98],
        "finetune": [0.89, 0.93, 0.97, 0.99],
        "frozen": [0.9, 0.93, 0.96, 0.975],
    }
    return TransferResult(settings, accuracy, pretrain_accuracy=0.99)


def test_the_table_csv_and_figure_hold_every_way_and_sample_count(tmp_path: Path) -> None:
    result = _result()
    header, *rows = result.table().splitlines()
    assert header.split("  ")[0] == "samples" and "fine-tuning everything" in header
    assert rows[-1].split() == ["5,000", "0.9800", "0.9900", "0.9750"]
    written = result.write(tmp_path)
    assert set(written) == {"table", "figure"}
    with written["table"].open() as file:
        table = list(csv.DictReader(file))
    assert [row["samples"] for row in table] == ["50", "100", "500", "5000"]
    assert [float(row["finetune"]) for row in table] == result.accuracy["finetune"]
    assert written["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = result.figure().axes[0]
    assert axes.get_xscale() == "log" and len(axes.get_lines()) == len(WAYS)
    assert np.allclose(axes.get_lines()[1].get_ydata(), result.accuracy["finetune"])


def test_data_that_are_not_ten_classes_of_28x28_images_are_refused_in_one_sentence() -> None:
    with pytest.raises(SettingsError, match=r"needs ten classes of 1x28x28 images") as error:
        transfer_experiment(make_toy("spiral"))
    assert "\n" not in str(error.value)


def test_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="epochs must be a whole number"):
        TransferSettings(epochs=0)
    with pytest.raises(SettingsError, match="finetune_lr must be a positive number"):
        TransferSettings(finetune_lr=-1.0)
    with pytest.raises(SettingsError, match="sample counts"):
        TransferSettings(sample_counts=())
