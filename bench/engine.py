"""Training throughput of the numpy engine, with PyTorch's on the same machine when it is importable.

Prints, for the book's SimpleConvNet and the MLP 784-100-100-100-100-10 (float32, batch 100, SGD):
samples per second for forward + backward + update, the peak memory numpy allocated during training, and
numpy's float32 matmul GFLOPS for context. With torch installed (not a dependency) it times the same two
networks in PyTorch and prints the ratio dllab / PyTorch.

    python bench/engine.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np

import dllab
from dllab.optimizers import SGD

NETWORKS = Path(__file__).resolve().parents[1] / "assets" / "networks"
BATCH = 100


def mlp_spec() -> dict:
    hidden = [layer for _ in range(4) for layer in ({"type": "Dense", "units": 100}, {"type": "ReLU"})]
    return {
        "name": "MLP 784-100x4-10",
        "input_shape": [784],
        "layers": [*hidden, {"type": "Dense", "units": 10}],
    }


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def time_loop(step, seconds: float) -> float:
    """Samples per second of ``step`` (one batch), after a warm-up, run for about ``seconds``."""
    for _ in range(3):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    return count * BATCH / (time.perf_counter() - start)


def dllab_throughput(spec: dict | Path, seconds: float) -> tuple[float, float]:
    model = dllab.build(spec, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, *model.input_shape), dtype=np.float32)
    t = rng.integers(0, 10, BATCH)
    opt = SGD(lr=0.01)
    params = model.params

    def step() -> None:
        _, grads = model.loss_and_grads(x, t)
        opt.update(params, grads)

    step()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return time_loop(step, seconds), peak / 2**20


def torch_throughput(kind: str, seconds: float) -> float:
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count() or 1)
    if kind == "conv":
        net = nn.Sequential(
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4320, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        )
        x = torch.rand(BATCH, 1, 28, 28)
    else:
        layers: list[nn.Module] = []
        width = 784
        for _ in range(4):
            layers += [nn.Linear(width, 100), nn.ReLU()]
            width = 100
        net = nn.Sequential(*layers, nn.Linear(100, 10))
        x = torch.rand(BATCH, 784)
    t = torch.randint(0, 10, (BATCH,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), t).backward()
        opt.step()

    return time_loop(step, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, {os.cpu_count()} cores; float32 matmul: {matmul_gflops():.1f} GFLOPS")
    results = {
        "conv": ("SimpleConvNet", dllab_throughput(NETWORKS / "simple_conv_net.json", args.seconds)),
        "mlp": ("MLP 784-100x4-10", dllab_throughput(mlp_spec(), args.seconds)),
    }
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: no PyTorch comparison (pip install torch)")
    print(f"{'network':18} {'dllab samples/s':>16} {'peak MiB':>9} {'torch samples/s':>16} {'ratio':>6}")
    for kind, (name, (speed, peak)) in results.items():
        line = f"{name:18} {speed:16,.0f} {peak:9.1f}"
        if torch is not None:
            reference = torch_throughput(kind, args.seconds)
            line += f" {reference:16,.0f} {speed / reference:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
