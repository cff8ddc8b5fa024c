"""Training in the desktop app against the command line: throughput, and how responsive the window stays.

    python bench/ui_training.py [--networks simple_conv_net multi_layer_net] [--repeats 3]

For each network it trains the same configuration on the same real MNIST subset in three ways, each in a fresh
process:

- **cli**: the command line's path, ``Trainer`` with a ``RunRecorder`` and the progress bar (``dllab train``),
  with the environment as it is;
- **gui**: the desktop app's path, the ``MainWindow`` with its training controller (training in a process of
  its own, on every core at a lower priority than the window), started from the Train button once the window
  has settled, with **every training view open at once** (the six views in a 3x2 grid of a 1400x900 window,
  each of a fixed size as in a tab, offscreen);
- **gui_tab**: the same with the window as it comes, its views in tabs, the weights and gradients showing (the
  view that draws the most).

Throughput is training samples per second up to the end of the last epoch (training steps, layer statistics,
epoch evaluations and run-folder writes included, the final test evaluation not), as the trainer measures it
in the process that trains; the best of ``--repeats`` runs counts, so that other work on the machine counts as
little as possible. The window's responsiveness is measured by a 5 ms timer on the GUI thread during training:
the lag is how much later than due each tick fired (p50, p99, max), from the first trainer event to the end
of the run. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
SETTINGS: dict[str, dict[str, Any]] = {
    # Enough batches that the measurement is about training, not start-up.
    "simple_conv_net": {"subset": 20000, "epochs": 1},
    "multi_layer_net": {"subset": 60000, "epochs": 5},
}
BATCH_SIZE = 100
LR = 0.001
TICK_MS = 5
#: Milliseconds the window runs its event loop after the set-up, before training starts.
SETTLE_MS = 1000


def _config_kwargs(epochs: int) -> dict[str, Any]:
    return {"optimizer": "adam", "lr": LR, "batch_size": BATCH_SIZE, "epochs": epochs, "seed": 0}


def _throughput(events: list[Any]) -> dict[str, float]:
    from dllab.trainer import BatchEnded, EpochEnded

    epochs = [e for e in events if isinstance(e, EpochEnded)]
    rates = sorted(e.samples_per_second for e in events if isinstance(e, BatchEnded))
    last = epochs[-1]
    return {
        "samples_per_second": last.step * BATCH_SIZE / last.elapsed,
        "batch_samples_per_second": rates[len(rates) // 2],
        "steps": last.step,
        "seconds": last.elapsed,
    }


def run_cli(network: str, mnist: Path) -> dict[str, Any]:
    """The command line's training path in this process."""
    import io
    import tempfile

    import dllab
    from dllab.cli.terminal import ProgressBar
    from dllab.runs import DataSettings, RunRecorder
    from dllab.trainer import Trainer, TrainingConfig

    model = dllab.build(ROOT / "assets" / "networks" / f"{network}.json", seed=0)
    setting = SETTINGS[network]
    data = DataSettings(str(mnist), val_fraction=0.1, subset=setting["subset"], normalization="scale")
    prepared = data.prepare(model.input_shape, seed=0)
    config = TrainingConfig(**_config_kwargs(setting["epochs"]))
    trainer = Trainer(model, prepared, config)
    with tempfile.TemporaryDirectory() as folder:
        recorder = RunRecorder(Path(folder) / "run", model, data=prepared, config=config, data_settings=data)
        progress = ProgressBar(io.StringIO(), tty=False)
        events = []
        for event in trainer.run():
            recorder.handle(event)
            progress.handle(event)
            events.append(event)
    return _throughput(events)


class _Probe:
    """Collects the run's trainer events from the controller, as a view does, and starts the lag timer when
    training starts (the first trainer event)."""

    def __init__(self, on_training_started: Any) -> None:
        self.events: list[Any] = []
        self._on_training_started = on_training_started

    def begin_run(self, started: Any) -> None:
        self.events.clear()

    def handle_items(self, items: list[Any]) -> None:
        from dllab.trainer import BatchEnded, EpochEnded, RunStarted

        if any(isinstance(i, RunStarted) for i in items):
            self._on_training_started()
        self.events.extend(i for i in items if isinstance(i, BatchEnded | EpochEnded))

    def end_run(self, status: str) -> None:
        pass

    def set_model(self, model: Any) -> None:
        pass


def run_gui(network: str, mnist: Path, grid: bool = True) -> dict[str, Any]:
    """The desktop app's training path in this process: every view open at once (``grid``), or the window as
    it comes, its views in tabs, showing the weights and gradients (the view that draws the most)."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DLLAB_HOME"] = tempfile.mkdtemp(prefix="dllab-bench-")
    from ui.app import reserve_a_core_for_the_window

    reserve_a_core_for_the_window()  # as the app does
    import numpy as np
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

    from dllab.data import load_dataset
    from dllab.spec import read_spec
    from ui.app import configure_application
    from ui.common import dialogs
    from ui.common.view import PlotCanvas
    from ui.main_window import MainWindow
    from ui.training.process import training_threads

    app = QApplication.instance() or QApplication([])
    configure_application(app)
    dialogs.show_error = lambda *args: print("error:", *args[1:], file=sys.stderr)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    host = QWidget()
    if grid:
        layout = QGridLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        for i, view in enumerate(window.training_views):
            layout.addWidget(view, i // 3, i % 3)  # out of the tabs: all six visible at once
            # Each keeps its size, as a tab does: the grid would otherwise shift the columns whenever one
            # view's content changes, and views whose plots no longer fit rebuild them (as after a resize).
            view.setFixedSize(1400 // 3, 900 // 2)
            view.show()
        host.resize(1400, 900)
        host.show()
    else:
        window.views.setCurrentWidget(window.weights_view)
    setting = SETTINGS[network]
    state = window.state
    state.load_network(read_spec(ROOT / "assets" / "networks" / f"{network}.json"))
    state.set_data_settings(
        source=str(mnist), subset=setting["subset"], val_fraction=0.1, normalization="scale"
    )
    state.set_dataset(load_dataset(mnist))
    state.set_training_settings(optimizer="adam", batch_size=BATCH_SIZE, epochs=setting["epochs"], seed=0)
    state.set_hyperparameter("lr", LR)
    # As a person would: the window has laid itself out and painted the data before Train is pressed.
    settle = QEventLoop()
    QTimer.singleShot(SETTLE_MS, settle.quit)
    settle.exec()

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    ended: list[str] = []
    cpu: list[float] = []
    probe = _Probe(lambda: (ticks.clear(), timer.start(), cpu.append(time.thread_time())))
    window.training.views.append(probe)  # type: ignore[arg-type]
    window.training.run_ended.connect(lambda status, message: (timer.stop(), ended.append(status)))
    if not state.request_training():
        raise SystemExit(f"cannot train: {state.training_blocker()}")
    loop = QEventLoop()
    window.training.run_ended.connect(loop.quit)
    loop.exec()  # the GUI thread runs its event loop as in the app (no polling)
    gui_cpu = time.thread_time() - cpu[0]
    lags = np.maximum(np.diff(np.asarray(ticks)) - TICK_MS / 1000, 0) * 1000
    result = _throughput(probe.events)
    result.update(
        status=ended[0],
        training_threads=training_threads(),
        lag_p50_ms=float(np.percentile(lags, 50)),
        lag_p99_ms=float(np.percentile(lags, 99)),
        lag_max_ms=float(lags.max()),
        ticks=len(ticks),
        gui_thread_cpu_seconds=gui_cpu,
        redraws={v.title: v.redraw_count for v in window.training_views},
        drawing_seconds=sum(v.redraw_seconds for v in window.training_views),
        painting_seconds=sum(
            c.paint_seconds for v in window.training_views for c in v.findChildren(PlotCanvas)
        ),
    )
    window.state.undo_stack.setClean()
    window.state._unsaved_outside_undo = False
    host.close()
    window.close()
    return result


def _child(mode: str, network: str, mnist: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--networks", network]
    command += ["--mnist", str(mnist)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"the {mode} run failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mnist", type=Path, default=MNIST_DIR)
    parser.add_argument("--child", choices=("cli", "gui", "gui_tab"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        if args.child == "cli":
            result = run_cli(args.networks[0], args.mnist)
        else:
            result = run_gui(args.networks[0], args.mnist, grid=args.child == "gui")
        print(json.dumps(result), flush=True)
        os._exit(0)  # skip Qt's and pyqtgraph's teardown: the figures are out
    for network in args.networks:
        setting = SETTINGS[network]
        print(
            f"{network}: {setting['subset']:,} MNIST samples (90% trained), {setting['epochs']} epoch(s), "
            f"Adam lr {LR}, batch {BATCH_SIZE}; best of {args.repeats} interleaved runs each"
        )
        runs: dict[str, list[dict[str, Any]]] = {"cli": [], "gui": [], "gui_tab": []}
        for _ in range(args.repeats):  # interleaved, so all see the same machine
            runs["cli"].append(_child("cli", network, args.mnist))
            runs["gui"].append(_child("gui", network, args.mnist))
            runs["gui_tab"].append(_child("gui_tab", network, args.mnist))
        best = {key: max(values, key=lambda r: r["samples_per_second"]) for key, values in runs.items()}
        gui_titles = {"gui": "every view open at once", "gui_tab": "views in tabs, weights showing"}
        for key, title in (
            ("cli", "cli (BLAS threads as the environment says)"),
            *((key, f"gui, {title}") for key, title in gui_titles.items()),
        ):
            r = best[key]
            print(
                f"  {title:<46} {r['samples_per_second']:9,.0f} samples/s "
                f"(batches alone {r['batch_samples_per_second']:9,.0f})   runs: "
                f"{[round(x['samples_per_second']) for x in runs[key]]}"
            )
        for gui_key, gui_title in gui_titles.items():
            gui = best[gui_key]
            print(f"  gui, {gui_title}:")
            ratio = gui["samples_per_second"] / best["cli"]["samples_per_second"]
            batches = gui["batch_samples_per_second"] / best["cli"]["batch_samples_per_second"]
            print(f"    {'/ cli':<44} {ratio:9.1%}              (batches alone {batches:6.1%})")
            lags = runs[gui_key]
            print(
                f"    event-loop lag of the GUI thread while training: p50 "
                f"{min(r['lag_p50_ms'] for r in lags):.1f} ms, p99 {min(r['lag_p99_ms'] for r in lags):.1f}-"
                f"{max(r['lag_p99_ms'] for r in lags):.1f} ms over the runs, max {max(r['lag_max_ms'] for r in lags):.1f} ms"
            )
            print(
                f"    best run: redraws {gui['redraws']}; {gui['drawing_seconds']:.2f} s updating and building "
                f"plots, {gui['painting_seconds']:.2f} s painting; GUI thread busy "
                f"{gui['gui_thread_cpu_seconds']:.2f} s of {gui['seconds']:.1f} s of training"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
