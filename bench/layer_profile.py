"""Per-layer time of one training step of a book network (forward and backward of each layer, Adam's update).

Runs the model's own training pass layer by layer, timing each call, and prints the median over rounds in
milliseconds, with the load average before and after. Measure with one BLAS thread on a shared machine:

    OPENBLAS_NUM_THREADS=1 python bench/layer_profile.py [--network DeepConvNet] [--rounds 15] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import dllab
from dllab.optimizers import Adam

NETWORKS = Path(__file__).resolve().parents[1] / "assets" / "networks"
FILES = {"DeepConvNet": "deep_conv_net.json", "SimpleConvNet": "simple_conv_net.json"}


def profile(network: str, rounds: int, batch: int) -> None:
    model = dllab.build(NETWORKS / FILES[network], seed=0)
    rng = np.random.default_rng(0)
    x0 = rng.random((batch, *model.input_shape), dtype=np.float32)
    t = rng.integers(0, 10, batch)
    optimizer = Adam(lr=0.001)
    params = model.trainable_params
    first = model._plan_backward()
    model._allow_overwrites()
    layers = model.layers
    forward = {i: [] for i in range(len(layers))}
    backward = {i: [] for i in range(len(layers))}
    update, total = [], []
    for _ in range(rounds + 2):
        start = time.perf_counter()
        x = x0
        for i, layer in enumerate(layers):
            s = time.perf_counter()
            x = layer.forward(x, True)
            forward[i].append(time.perf_counter() - s)
        model.loss.forward(x, t)
        dout = model.loss.backward()
        for i in range(len(layers) - 1, first - 1, -1):
            s = time.perf_counter()
            dout = layers[i].backward(dout)
            backward[i].append(time.perf_counter() - s)
        grads = {f"{ly.name}.{k}": v for ly in layers[first:] if ly.trainable for k, v in ly.grads.items()}
        s = time.perf_counter()
        optimizer.update(params, grads)
        update.append(time.perf_counter() - s)
        total.append(time.perf_counter() - start)

    def ms(values: list[float]) -> float:
        return 1000 * statistics.median(values[2:]) if len(values) > 2 else 0.0

    print(f"{network}, batch {batch}, median of {rounds} rounds (ms)")
    print(f"{'layer':<28}{'forward':>9}{'backward':>10}")
    for i, layer in enumerate(layers):
        print(
            f"{i:>2} {layer.name + ' ' + layer.describe():<25.25}{ms(forward[i]):>9.2f}{ms(backward[i]):>10.2f}"
        )
    fw = sum(ms(v) for v in forward.values())
    bw = sum(ms(v) for v in backward.values())
    print(f"{'sum':<28}{fw:>9.2f}{bw:>10.2f}")
    print(f"Adam update {ms(update):.2f}; step {ms(total):.2f} ms = {batch / ms(total) * 1000:.0f} samples/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="DeepConvNet", choices=sorted(FILES))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    profile(args.network, args.rounds, args.batch)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
