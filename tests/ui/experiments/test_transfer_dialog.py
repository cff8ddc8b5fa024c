"""The transfer-learning dialog: the experiment runs off the GUI thread on real MNIST, its parts are told as
they start, the result is a table and a figure, Stop ends it between parts, and unsuitable data are not used."""

from __future__ import annotations

from pathlib import Path

import pytest

from dllab.data import load_dataset
from dllab.experiments.transfer import TransferSettings
from ui.experiments.transfer_dialog import TransferDialog, is_ten_digit_images

TINY = TransferSettings(pretrain_samples=600, pretrain_epochs=1, epochs=2, sample_counts=(20, 40))


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    return load_dataset(str(mnist_dir))


def test_the_experiment_runs_in_the_background_and_shows_its_table_and_figure(qtbot, mnist) -> None:
    dialog = TransferDialog(mnist, TINY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.run_button.click()
    assert dialog.running and dialog.run_button.text() == "Stop" and not dialog.quick_check.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    result = dialog.result
    assert result is not None and dialog.run_button.text() == "Run"
    assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == ["20", "40"]
    for r in range(2):
        for c, way in enumerate(("scratch", "finetune", "frozen"), start=1):
            assert float(dialog.table.item(r, c).text()) == pytest.approx(result.accuracy[way][r], abs=1e-4)
    assert not dialog.figure.pixmap().isNull() and dialog.figure.pixmap().width() > 400
    assert dialog.status.text().startswith("Pretrained on digits 0-4 to a test accuracy of")
    dialog.close()


def test_stop_ends_the_experiment_between_two_parts(qtbot, mnist) -> None:
    dialog = TransferDialog(mnist, TINY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Now: pretraining"), timeout=30_000)
    dialog.run_button.click()  # Stop
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.result is None and dialog.status.text() == "Stopped." and dialog.run_button.text() == "Run"


def test_data_that_are_not_ten_digit_sized_classes_are_not_used() -> None:
    spiral = load_dataset("spiral")
    assert not is_ten_digit_images(spiral) and not is_ten_digit_images(None)
    assert TransferDialog(spiral).dataset is None  # MNIST is loaded instead
