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
of the run; the lag from the Train button's press to the first trainer event (building the run, starting its
process, the views' first layout) is reported apart. ``--stalls`` also names what the GUI thread was doing when a
tick came more than 16 ms late: the event it was dispatching (its receiver, the receiver's view, the event's
type) and the functions of the project it spent that time in (a thread samples the GUI thread's Python stack
every millisecond while an event takes long). Prints figures, asserts nothing.

Figures on two cores shared with other developers' tests (load average 2.4 to 7), the code before and after the
fixes of the stalls run back to back, one run each, six pairs of figures (every view open, and in tabs; both
networks):

- press of Train to the first trainer event, longest lag: 76-363 ms before (median 123), 15-80 ms after (median
  24): the data set no longer crosses to the training process pickled under the GIL, the run's control is made
  ahead, plots are built one per slice. What remains over 16 ms (``--stalls``): one pyqtgraph plot made in
  18-41 ms when the machine is busy, and the design panel's repaint when it locks;
- while training, longest lag: 24-136 ms before (median 50), 17-113 ms after (median 26; over 50 ms only at a load
  of 7); p99 5-16 ms before and 8-18 ms after. What remains over 16 ms: painting a canvas of many small plots
  (their axes) in one go, 17-25 ms;
- throughput: the training process had lowered the priority of its main thread only, so on a busy machine its
  BLAS threads spun waiting for it: the MLP's batches ran at 6,300 samples/s with every view open before
  (the command line's 11,200 at the same time) and at 98,900 after (the command line's 65,800). With other
  programs taking the cores, gui / cli says more about the load than about the app (SimpleConvNet at a load of
  3: 107 % and 89 % before, 120 % and 131 % after; the MLP 52 % and 87 % at a load of 6 before, 562 % and 449 %
  after, its command-line run slowed by other work): the app's training runs below the other programs' priority
  by design.

Throughput with every view open, measured after that (two cores, the code before and after run back to back):
while a run trains on every core, the GUI thread's time is what the run loses (each moment the window draws, one
BLAS thread of the training process waits for its core, and the others for it), and the views' drawing budget
is always spent then. The share of the training time the GUI thread was busy is the figure that other work on
the machine changes least:

- MLP, every view open or in tabs: 8.6-12.9 % of the training time before (items handed over every 50 ms, the
  losses smoothed at each hand-over), less after (items every 100 ms, the losses smoothed when drawn). A drawing
  budget of 1/40 of the GUI thread's time instead of 1/15 brought the busy share to 4.8-6.7 % and gui / cli to
  98.8 % once, but it left a paused run's views seconds behind (a costly first draw waits forty times its
  length), so the budget stays 1/15. On an idle machine the MLP's gui / cli then ranged 59-93 % between runs
  minutes apart, its products on two BLAS threads waiting for the core the window drew on; with the training
  process computing in threads of one BLAS thread each, the MLP leaves that core to the window: 69,200-79,900
  samples/s with every view open in twelve runs (50,400-75,300 in six before), gui / cli 88-94 %;
- SimpleConvNet, 20,000 samples (2.3 s of training): gui / cli 105-111 % on an idle machine: a run this short
  is mostly its fixed costs (the plots built and first drawn, one set of layer statistics more or less in a run
  of 180 batches: 0.1 s each, 4 % of the run).

Stalls after that (idle 2-core machine, both networks, every view open and in tabs, two runs each, ``--stalls``):
a pyqtgraph plot is made in 8-13 ms on an idle machine, most of it its options form and axes, and the window made
the activation and weight views' plots when Train was pressed: 8-16 ticks over 16 ms late at the press of Train in
each run, the longest 17-37 ms, and 0.15-0.28 s of the window's time building plots in a run. The window now makes
spare plots while it is idle (``ui.common.plot_reserve``; this script waits for them, as a person would take a few
seconds): 2 such ticks in eight runs (16.7, 18.0 ms), the press of Train's longest lag 13-27 ms, 0.07-0.16 s building
plots. A run's end repainted the unlocking design panel inside its progress update (``QProgressBar.setValue``
repaints the window's waiting parts at once): 16-24 ms, gone with ``ui.common.widgets.ProgressBar``. What remains
over 16 ms while training: painting a canvas of many small plots (their axes), 16-25 ms. The Curves view laid out
its three iteration axes at every draw (autorange); they now run to a round number the run grows into: the longest
lag while training 17.9-25.9 ms over eight runs, 1-5 ticks over 16 ms a run (24-36 ms and 4-8 before these
changes).

The Curves view's paints, timed one by one while the MLP trained with every view open (another day, a busier
machine: the longest lag 24-41 ms): 10-19 ms each, the longest of the window's paints. Most of a paint went to
its y axes' autorange (pyqtgraph measures every curve's bounds when it paints, and a new range lays out the
axes, moves the labels and thins the curves again) and to its three iteration axes' numbers. The view now keeps
steady y ranges (``ui.training.views.curves``) and numbers the shared iterations once, under its last plot: its
paints 6-12 ms, the view's painting in a run 107-133 ms -> 76-79 ms; the longest lag 17-33 ms in eight runs,
p99 9-15 ms.
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
#: A tick later than this is a stall (a frame at 60 Hz).
STALL_MS = 16.0
#: Milliseconds the window runs its event loop after the set-up, before training starts.
SETTLE_MS = 1000
MODES = ("cli", "gui", "gui_tab")


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


class _StallRecorder:
    """Names the causes of the GUI thread's stalls: times every event the application dispatches (its
    ``notify``), and while one takes longer than :data:`STALL_MS`, samples the GUI thread's Python stack from a
    thread of its own every millisecond, so that a stall's event and the project's functions it ran are known.
    """

    def __init__(self) -> None:
        import threading

        self.gui_thread = threading.get_ident()
        self.depth = 0
        self.started = 0.0
        self.current = ""
        self.samples: list[str] = []
        self.stalls: list[dict[str, Any]] = []
        self.active = False
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="stall sampler", daemon=True)
        self._sampler.start()

    @staticmethod
    def describe(receiver: Any, event: Any) -> str:
        from PySide6.QtCore import QObject

        name = type(receiver).__name__
        owner = receiver
        view = ""
        while isinstance(owner, QObject) and owner is not None:
            if type(owner).__module__.startswith("ui.") and type(owner).__name__ != name:
                view = type(owner).__name__
                break
            owner = owner.parent()
        kind = getattr(event.type(), "name", str(event.type()))
        return f"{name}{'<' + view + '>' if view else ''} {kind}"

    def notify(self, call: Any, receiver: Any, event: Any) -> bool:
        import threading

        if threading.get_ident() != self.gui_thread or not self.active:
            return call(receiver, event)
        self.depth += 1
        outer = self.depth == 1
        if outer:
            self.current = self.describe(receiver, event)
            self.samples = []
            self.started = time.perf_counter()
        try:
            return call(receiver, event)
        finally:
            self.depth -= 1
            if outer:
                spent = (time.perf_counter() - self.started) * 1000
                self.started = 0.0
                if spent > STALL_MS:
                    self.stalls.append(
                        {"ms": round(spent, 1), "event": self.current, "where": self._where(self.samples)}
                    )

    @staticmethod
    def _where(samples: list[str]) -> list[str]:
        from collections import Counter

        return [f"{count}x {frame}" for frame, count in Counter(samples).most_common(4)]

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            started = self.started
            if not started or (time.perf_counter() - started) * 1000 < STALL_MS / 2:
                continue
            frame = sys._current_frames().get(self.gui_thread)
            names = []
            while frame is not None and len(names) < 3:
                path = frame.f_code.co_filename.replace(os.sep, "/")
                for package in ("/ui/", "/dllab/", "/pyqtgraph/"):
                    if package in path:
                        short = path[path.rindex(package) + 1 :].removesuffix(".py")
                        names.append(f"{short}:{frame.f_code.co_name}")
                        break
                frame = frame.f_back
            if self.started == started:
                self.samples.append(" < ".join(names) or "(Qt, no Python)")

    def close(self) -> None:
        self._stop.set()


def run_gui(network: str, mnist: Path, grid: bool = True, stalls: bool = False) -> dict[str, Any]:
    """The desktop app's training path in this process: every view open at once (``grid``), or the window as
    it comes, its views in tabs, showing the weights and gradients (the view that draws the most); ``stalls``:
    name the causes of the stalls (:class:`_StallRecorder`)."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DLLAB_HOME"] = tempfile.mkdtemp(prefix="dllab-bench-")
    from ui.app import share_cores_with_training

    share_cores_with_training()  # as the app does
    import numpy as np
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

    from dllab.data import load_dataset
    from dllab.spec import read_spec
    from ui.app import configure_application
    from ui.common import dialogs
    from ui.common.garbage import set_aside_what_lives
    from ui.common.view import PlotCanvas
    from ui.main_window import MainWindow
    from ui.training.process import training_threads

    recorder = _StallRecorder() if stalls else None

    class _Application(QApplication):
        def notify(self, receiver: Any, event: Any) -> bool:
            return recorder.notify(super().notify, receiver, event)  # type: ignore[union-attr]

    app = QApplication.instance() or (_Application([]) if recorder is not None else QApplication([]))
    configure_application(app)
    dialogs.show_error = lambda *args: print("error:", *args[1:], file=sys.stderr)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    set_aside_what_lives()  # as the app does once its window shows
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
    # ... and the window has made its spare plots (ui.common.plot_reserve), as it does in its first seconds.
    reserve, deadline = window.plot_reserve, time.perf_counter() + 20
    while len(reserve.spares) < reserve.size and time.perf_counter() < deadline:
        settle = QEventLoop()
        QTimer.singleShot(50, settle.quit)
        settle.exec()

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    ended: list[str] = []
    cpu: list[float] = []
    start_ticks: list[float] = []  # from the press of Train to the first trainer event

    def training_started() -> None:
        now = time.perf_counter()
        start_ticks.extend([*ticks, now])
        ticks[:] = [now]
        cpu.append(time.thread_time())
        if recorder is not None:
            start_stalls.extend(recorder.stalls)
            recorder.stalls.clear()

    start_stalls: list[dict[str, Any]] = []
    probe = _Probe(training_started)
    window.training.views.append(probe)  # type: ignore[arg-type]
    window.training.run_ended.connect(lambda status, message: (timer.stop(), ended.append(status)))
    loop = QEventLoop()
    window.training.run_ended.connect(loop.quit)
    if recorder is not None:
        recorder.active = True
    ticks.append(time.perf_counter())
    timer.start()
    # As the Train button does: the press's slot runs in the event loop, and the ticks measure it.
    QTimer.singleShot(0, lambda: state.request_training() or loop.quit())
    loop.exec()  # the GUI thread runs its event loop as in the app (no polling)
    if not ended:
        raise SystemExit(f"cannot train: {state.training_blocker()}")
    if recorder is not None:
        recorder.active = False
        recorder.close()
    gui_cpu = time.thread_time() - cpu[0]
    lags = np.maximum(np.diff(np.asarray(ticks)) - TICK_MS / 1000, 0) * 1000
    start_lags = np.maximum(np.diff(np.asarray(start_ticks)) - TICK_MS / 1000, 0) * 1000
    result = _throughput(probe.events)
    result.update(
        status=ended[0],
        training_threads=training_threads(),
        lag_p50_ms=float(np.percentile(lags, 50)),
        lag_p99_ms=float(np.percentile(lags, 99)),
        lag_max_ms=float(lags.max()),
        start_lag_max_ms=float(start_lags.max()),
        start_seconds=start_ticks[-1] - start_ticks[0],
        stalls=len(lags[lags > STALL_MS]),
        ticks=len(ticks),
        gui_thread_cpu_seconds=gui_cpu,
        redraws={v.title: v.redraw_count for v in window.training_views},
        drawing_seconds=sum(v.redraw_seconds for v in window.training_views),
        painting_seconds=sum(
            c.paint_seconds for v in window.training_views for c in v.findChildren(PlotCanvas)
        ),
    )
    if recorder is not None:
        result.update(stall_causes=recorder.stalls, start_stall_causes=start_stalls)
    window.state.undo_stack.setClean()
    window.state._unsaved_outside_undo = False
    host.close()
    window.close()
    return result


def _child(mode: str, network: str, mnist: Path, stalls: bool = False) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--networks", network]
    command += ["--mnist", str(mnist)] + (["--stalls"] if stalls else [])
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"the {mode} run failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mnist", type=Path, default=MNIST_DIR)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--stalls", action="store_true", help="name the causes of the GUI thread's stalls")
    parser.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.child:
        if args.child == "cli":
            result = run_cli(args.networks[0], args.mnist)
        else:
            result = run_gui(args.networks[0], args.mnist, grid=args.child == "gui", stalls=args.stalls)
        print(json.dumps(result), flush=True)
        os._exit(0)  # skip Qt's and pyqtgraph's teardown: the figures are out
    for network in args.networks:
        setting = SETTINGS[network]
        print(
            f"{network}: {setting['subset']:,} MNIST samples (90% trained), {setting['epochs']} epoch(s), "
            f"Adam lr {LR}, batch {BATCH_SIZE}; best of {args.repeats} interleaved runs each"
        )
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in args.modes}
        for _ in range(args.repeats):  # interleaved, so all see the same machine
            for mode in args.modes:
                runs[mode].append(_child(mode, network, args.mnist, stalls=args.stalls))
        best = {key: max(values, key=lambda r: r["samples_per_second"]) for key, values in runs.items()}
        titles = {
            "cli": "cli (BLAS threads as the environment says)",
            "gui": "gui, every view open at once",
            "gui_tab": "gui, views in tabs, weights showing",
        }
        for key in runs:
            r = best[key]
            print(
                f"  {titles[key]:<46} {r['samples_per_second']:9,.0f} samples/s "
                f"(batches alone {r['batch_samples_per_second']:9,.0f})   runs: "
                f"{[round(x['samples_per_second']) for x in runs[key]]}"
            )
        for gui_key in (key for key in runs if key != "cli"):
            gui = best[gui_key]
            print(f"  {titles[gui_key]}:")
            if "cli" in best:
                ratio = gui["samples_per_second"] / best["cli"]["samples_per_second"]
                batches = gui["batch_samples_per_second"] / best["cli"]["batch_samples_per_second"]
                print(f"    {'/ cli':<44} {ratio:9.1%}              (batches alone {batches:6.1%})")
            lags = runs[gui_key]
            print(
                f"    event-loop lag of the GUI thread while training: p50 "
                f"{min(r['lag_p50_ms'] for r in lags):.1f} ms, p99 {min(r['lag_p99_ms'] for r in lags):.1f}-"
                f"{max(r['lag_p99_ms'] for r in lags):.1f} ms over the runs, max "
                f"{max(r['lag_max_ms'] for r in lags):.1f} ms; ticks over {STALL_MS:.0f} ms late: "
                f"{[r['stalls'] for r in lags]}"
            )
            print(
                f"    from the press of Train to the first trainer event: lag max "
                f"{[round(r['start_lag_max_ms'], 1) for r in lags]} ms, in "
                f"{[round(r['start_seconds'], 1) for r in lags]} s"
            )
            print(
                f"    best run: redraws {gui['redraws']}; {gui['drawing_seconds']:.2f} s updating and building "
                f"plots, {gui['painting_seconds']:.2f} s painting; GUI thread busy "
                f"{gui['gui_thread_cpu_seconds']:.2f} s of {gui['seconds']:.1f} s of training"
            )
            for r in lags if args.stalls else ():
                for when, key in (
                    ("at the press of Train", "start_stall_causes"),
                    ("training", "stall_causes"),
                ):
                    for stall in sorted(r[key], key=lambda s: -s["ms"])[:8]:
                        print(
                            f"    stall {when}: {stall['ms']:6.1f} ms {stall['event']}: {'; '.join(stall['where'])}"
                        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
