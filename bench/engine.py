"""Training and inference speed of the numpy engine, beside PyTorch's on the same machine when it is importable.

Prints, for the book's SimpleConvNet and DeepConvNet and the MLP 784-100x4-10 (float32, batch 100, Adam):

- samples per second of training (forward + backward + update) and, with torch importable (it is not a
  dependency of dllab), PyTorch's on the same network and the ratio dllab / PyTorch;
- the share of the machine's float32 matrix-product peak that this reaches (the peak measured in the same run,
  the networks' multiply-adds counted from their layers);
- inference (``predict`` of 10,000 samples) against training, per sample;
- the memory one SimpleConvNet training step adds above the idle process (peak resident set, each framework
  measured in a fresh process of its own);
- a whole run as the command line makes it (trainer, layer statistics, epoch evaluations, run-folder writes
  into a temporary folder) against the same number of mini-batches alone, on MNIST when its files are found:
  up to the end of the last epoch (as the trainer's own samples per second count), and with the final
  evaluation on the test set.

The machine may be busy with other work: every figure is the median of interleaved rounds (dllab, then
PyTorch, then dllab again...), and the load average is printed before and after. Compare ratios, not rates.

    python bench/engine.py [--rounds 5] [--seconds 1.5] [--mnist FOLDER] [--run-rounds 3] [--skip-run]

Measuring against PyTorch needs an environment with torch and this project importable, e.g. a virtual
environment of its own with ``pip install torch numpy`` and ``PYTHONPATH`` pointing at the project.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import dllab
from dllab.optimizers import Adam

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = ROOT / "assets" / "networks"
BATCH = 100


def mlp_spec() -> dict:
    hidden = [layer for _ in range(4) for layer in ({"type": "Dense", "units": 100}, {"type": "ReLU"})]
    return {
        "name": "MLP 784-100x4-10",
        "input_shape": [784],
        "layers": [*hidden, {"type": "Dense", "units": 10}],
    }


SPECS: dict[str, Callable[[], dict | Path]] = {
    "SimpleConvNet": lambda: NETWORKS / "simple_conv_net.json",
    "DeepConvNet": lambda: NETWORKS / "deep_conv_net.json",
    "MLP 784-100x4-10": mlp_spec,
}


# --- measuring ---------------------------------------------------------------------------------------------


def matmul_gflops(n: int = 1024, seconds: float = 1.0) -> float:
    """float32 matrix products of n x n per second, in GFLOP/s (the machine's practical peak)."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = a.T.copy()
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        np.matmul(a, b, out=out)
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start) / 1e9


def rate(step: Callable[[], None], seconds: float, per_step: int = BATCH) -> float:
    """Samples per second of ``step`` run for about ``seconds`` after two warm-up steps."""
    step()
    step()
    count, start = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - start < seconds:
        step()
        count += 1
    return count * per_step / (time.perf_counter() - start)


def training_multiply_adds(model: dllab.Sequential) -> int:
    """Multiply-adds of one sample's forward and backward pass through the matrix products (Dense, Conv2D):
    forward, the weight gradient, and the input gradient except for the first layer that learns."""
    total, first = 0, True
    for layer in model.layers:
        w = layer.params.get("W")
        if w is None or layer.type_name not in ("Dense", "Conv2D"):
            continue
        positions = math.prod(layer.output_shape[1:]) if layer.type_name == "Conv2D" else 1
        forward = w.size * positions
        total += forward * (2 if first else 3)
        first = False
    return total


class DllabNet:
    """One network in dllab: a training step on a fixed batch, and prediction."""

    def __init__(self, name: str) -> None:
        self.model = dllab.build(SPECS[name](), seed=0)
        rng = np.random.default_rng(0)
        self.x = rng.random((BATCH, *self.model.input_shape), dtype=np.float32)
        self.t = rng.integers(0, 10, BATCH)
        self.x_test = rng.random((10_000, *self.model.input_shape), dtype=np.float32)
        self.optimizer = Adam(lr=0.001)
        self.params = self.model.trainable_params

    def step(self) -> None:
        _, grads = self.model.loss_and_grads(self.x, self.t)
        self.optimizer.update(self.params, grads)

    def predict(self) -> None:
        self.model.predict(self.x_test)


class TorchNet:
    """The same network in PyTorch (CPU, all cores), built from the dllab model's layers."""

    def __init__(self, name: str, torch) -> None:
        from torch import nn

        self.torch = torch
        model = dllab.build(SPECS[name](), seed=0)
        modules: list = []
        for layer in model.layers:
            o = layer.options
            if layer.type_name == "Conv2D":
                pad = layer.pads[0]
                modules.append(nn.Conv2d(layer.input_shape[0], o["filters"], layer.kernel, layer.stride, pad))
            elif layer.type_name == "Dense":
                modules.append(nn.Linear(layer.input_shape[0], o["units"]))
            elif layer.type_name == "MaxPool2D":
                modules.append(nn.MaxPool2d(layer.kernel, layer.stride))
            elif layer.type_name == "ReLU":
                modules.append(nn.ReLU())
            elif layer.type_name == "Flatten":
                modules.append(nn.Flatten())
            elif layer.type_name == "Dropout":
                modules.append(nn.Dropout(o["rate"]))
            else:
                raise ValueError(f"no PyTorch counterpart for {layer.type_name}")
        self.net = nn.Sequential(*modules)
        self.x = torch.rand(BATCH, *model.input_shape)
        self.t = torch.randint(0, 10, (BATCH,))
        self.x_test = torch.rand(10_000, *model.input_shape)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=0.001)
        self.loss = nn.CrossEntropyLoss()

    def step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.net(self.x), self.t).backward()
        self.optimizer.step()

    def predict(self) -> None:
        with self.torch.no_grad():
            for start in range(0, len(self.x_test), 1000):
                self.torch.softmax(self.net(self.x_test[start : start + 1000]), dim=1)


# --- memory of one step, each framework in a fresh process ----------------------------------------------------

_MEMORY_CHILD = """
import sys
import numpy as np

def status_kib(field):
    # VmHWM, not getrusage: a child's ru_maxrss starts from its parent's at the fork.
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

framework = sys.argv[1]
if framework == "torch":
    import torch
    from torch import nn
    torch.set_num_threads({threads})
    net = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4320, 100),
                        nn.ReLU(), nn.Linear(100, 10))
    x, t = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
    opt, loss = torch.optim.Adam(net.parameters(), lr=0.001), nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(set_to_none=True)
        loss(net(x), t).backward()
        opt.step()
else:
    import dllab
    from dllab.optimizers import Adam
    model = dllab.build({network!r}, seed=0)
    rng = np.random.default_rng(0)
    x, t = rng.random((100, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 100)
    opt, params = Adam(lr=0.001), model.trainable_params
    def step():
        opt.update(params, model.loss_and_grads(x, t)[1])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak starts again from here
idle = status_kib("VmRSS")
for _ in range(20):
    step()
print(status_kib("VmHWM") - idle)
"""


def step_memory_mib(framework: str, python: str) -> float:
    """Peak resident memory above the idle process (model and batch made) over 20 SimpleConvNet steps."""
    code = _MEMORY_CHILD.format(threads=os.cpu_count() or 1, network=str(NETWORKS / "simple_conv_net.json"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [python, "-c", code, framework], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout.split()[-1]) / 1024


# --- a whole run against its mini-batches alone -----------------------------------------------------------


def whole_run(network: dict | Path, mnist: Path, epochs: int, rounds: int) -> tuple[float, float, float]:
    """Samples per second of a run as ``dllab train`` makes it, up to the end of its last epoch and with the
    final test evaluation, and of its mini-batches alone (medians of ``rounds`` interleaved runs of each)."""
    from dllab import data
    from dllab.runs import RunRecorder
    from dllab.trainer import EpochEnded, Trainer, TrainingConfig

    shape = tuple(dllab.build(network).input_shape)
    prepared = data.prepare(data.load_dataset(mnist), input_shape=shape, seed=0)
    config = TrainingConfig(optimizer="adam", lr=0.001, batch_size=BATCH, epochs=epochs)
    steps = epochs * (len(prepared.x_train) // BATCH)
    order = np.random.default_rng(0).permutation(len(prepared.x_train))
    epochs_done, wholes, alones = [], [], []
    for _ in range(rounds):
        model = dllab.build(network, seed=0)
        with tempfile.TemporaryDirectory() as folder:
            recorder = RunRecorder(Path(folder) / "run", model, data=prepared, config=config)
            start = time.perf_counter()
            for event in Trainer(model, prepared, config.unwatched()).run():  # as dllab train runs it
                recorder.handle(event)
                if isinstance(event, EpochEnded) and event.epoch == epochs:
                    epochs_done.append(epochs * len(prepared.x_train) / (time.perf_counter() - start))
            wholes.append(epochs * len(prepared.x_train) / (time.perf_counter() - start))

        model = dllab.build(network, seed=0)
        optimizer, params = Adam(lr=0.001), model.trainable_params
        start = time.perf_counter()
        for i in range(steps):
            batch = order[(i * BATCH) % len(order) :][:BATCH]
            _, grads = model.loss_and_grads(prepared.x_train[batch], prepared.y_train[batch])
            optimizer.update(params, grads)
        alones.append(steps * BATCH / (time.perf_counter() - start))
    return median(epochs_done), median(wholes), median(alones)


# --- report ---------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians are printed)")
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the whole run")
    parser.add_argument("--run-rounds", type=int, default=3, help="interleaved whole runs and batches alone")
    parser.add_argument("--skip-run", action="store_true", help="leave out the whole run (it takes a while)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(os.cpu_count() or 1)

    print(
        f"numpy {np.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        + (f", torch {torch.__version__}" if torch else ", torch not importable: no PyTorch figures")
    )
    mine = {name: DllabNet(name) for name in SPECS}
    theirs = {name: TorchNet(name, torch) for name in SPECS} if torch else {}
    train: dict[str, list[float]] = {f"{who}:{name}": [] for who in ("dllab", "torch") for name in SPECS}
    infer: dict[str, list[float]] = {f"{who}:{name}": [] for who in ("dllab", "torch") for name in SPECS}
    peaks: list[float] = []
    for _ in range(args.rounds):
        peaks.append(matmul_gflops())
        for name in SPECS:
            for who, nets in (("dllab", mine), ("torch", theirs)):
                if name in nets:
                    train[f"{who}:{name}"].append(rate(nets[name].step, args.seconds))
                    infer[f"{who}:{name}"].append(rate(nets[name].predict, args.seconds, 10_000))
    peak = median(peaks)
    print(f"float32 matrix product (1024 x 1024): {peak:.0f} GFLOP/s, the peak the shares below refer to")
    print()
    header = f"{'network':18} {'dllab/s':>9} {'torch/s':>9} {'ratio':>6} {'of peak':>8} {'infer/s':>9} {'÷train':>7}"
    print("training, batch 100, float32, Adam (samples per second, medians)")
    print(header)
    for name in SPECS:
        speed = median(train[f"dllab:{name}"])
        reference = median(train[f"torch:{name}"])
        inference = median(infer[f"dllab:{name}"])
        share = speed * 2 * training_multiply_adds(mine[name].model) / 1e9 / peak
        line = f"{name:18} {speed:9,.0f} {reference:9,.0f} {speed / reference:6.2f} {share:8.0%}"
        print(line + f" {inference:9,.0f} {inference / speed:7.1f}")
    if torch:
        print(
            "PyTorch inference (samples per second): "
            + ", ".join(f"{name} {median(infer[f'torch:{name}']):,.0f}" for name in SPECS)
        )
    print()
    memory = step_memory_mib("dllab", sys.executable)
    line = f"memory one SimpleConvNet step adds (peak above the idle process): dllab {memory:.1f} MiB"
    if torch:
        line += f", PyTorch {step_memory_mib('torch', sys.executable):.1f} MiB"
    print(line)
    if not args.skip_run:
        if (args.mnist / "train-images-idx3-ubyte.gz").exists():
            for name in ("SimpleConvNet", "MLP 784-100x4-10"):
                epochs_done, whole, alone = whole_run(SPECS[name](), args.mnist, args.epochs, args.run_rounds)
                print(
                    f"whole run, {name}, {args.epochs} epoch(s) of MNIST: {epochs_done:,.0f} samples/s to the end "
                    f"of the last epoch ({epochs_done / alone:.0%} of its mini-batches alone, {alone:,.0f}), "
                    f"{whole:,.0f} with the final test evaluation ({whole / alone:.0%})"
                )
        else:
            print(f"no MNIST files in {args.mnist}: the whole run is left out (--mnist FOLDER)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
