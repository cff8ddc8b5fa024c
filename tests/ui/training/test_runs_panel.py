"""The Runs panel: a run that starts or ends is read alone and listed in its place, newest first."""

from __future__ import annotations

import shutil
from pathlib import Path

import dllab
from dllab.run_history import run_history, tag_run
from dllab.runs import DataSettings, RunRecorder, runs_root
from dllab.trainer import Trainer, TrainingConfig
from ui.training.runs_panel import RunsPanel

SPEC = {
    "input_shape": [2],
    "layers": [{"type": "Dense", "units": 8}, {"type": "ReLU"}, {"type": "Dense", "units": 3}],
}


def recorded_run(folder: Path) -> Path:
    model = dllab.build(SPEC, seed=0)
    data = DataSettings("spiral")
    prepared = data.prepare(model.input_shape)
    config = TrainingConfig(batch_size=64, epochs=1)
    recorder = RunRecorder(folder, model, data=prepared, config=config, data_settings=data)
    for event in Trainer(model, prepared, config).run():
        recorder.handle(event)
    return folder


def test_a_run_read_alone_is_listed_in_its_place_as_the_whole_folder_lists_it(qtbot, tmp_path):
    root = runs_root()
    first = recorded_run(root / "20260101-000001-Net")
    last = shutil.copytree(first, root / "20260101-000003-Net")
    panel = RunsPanel()
    qtbot.addWidget(panel)
    assert [info.path for info in panel.runs] == [last, first]

    middle = shutil.copytree(first, root / "20260101-000002-Net")
    panel.refresh_run(middle)
    assert [info.path for info in panel.runs] == [last, middle, first]

    tag_run(first, "baseline")  # read again, its line changes in place, still the one chosen
    panel.list.setCurrentRow(2)
    panel.refresh_run(first)
    assert [info.path for info in panel.runs] == [last, middle, first] and panel.list.currentRow() == 2
    assert "[baseline]" in panel.list.item(2).text()
    texts = [panel.list.item(row).text() for row in range(panel.list.count())]
    panel.refresh()
    assert [panel.list.item(row).text() for row in range(panel.list.count())] == texts
    assert [info.path for info in panel.runs] == [entry.path for entry in run_history()]

    elsewhere = shutil.copytree(first, tmp_path / "20260101-000004-Net")
    panel.refresh_run(elsewhere)  # not in the runs folder: not listed
    assert len(panel.runs) == 3


def test_the_first_run_replaces_the_empty_state(qtbot):
    panel = RunsPanel()
    qtbot.addWidget(panel)
    assert panel.stack.currentWidget() is panel.empty
    folder = recorded_run(runs_root() / "20260101-000001-Net")
    panel.refresh_run(folder)
    assert panel.stack.currentWidget() is panel.list and [info.path for info in panel.runs] == [folder]
