"""What layer statistics cost: training time with the default statistics against none.

Trains the same network on the same real MNIST batches twice, once with ``stats_every=0`` (statistics only
at the end of each epoch) and once with the default setting, and prints the overhead in percent.

    python bench/trainer_stats.py [--steps 300] [--network simple_conv_net]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import dllab
from dllab import data
from dllab.trainer import LayerStatistics, Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[1]


def timed_run(network: Path, prepared: data.PreparedData, steps: int, stats_every: int) -> tuple[float, int]:
    model = dllab.build(network, seed=0)
    config = TrainingConfig(
        optimizer="adam",
        lr=0.001,
        batch_size=100,
        epochs=-(-steps * 100 // len(prepared.x_train)),
        max_steps=steps,
        stats_every=stats_every,
        eval_samples=1,
    )
    start = time.perf_counter()
    count = sum(isinstance(e, LayerStatistics) for e in Trainer(model, prepared, config).run())
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--network", default="simple_conv_net")
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = parser.parse_args()
    network = ROOT / "assets" / "networks" / f"{args.network}.json"
    shape = tuple(dllab.build(network).input_shape)
    prepared = data.prepare(
        data.load_dataset(Path(args.mnist)),
        input_shape=shape,
        val_fraction=0.0,
        seed=0,
    )
    default_every = TrainingConfig().stats_every
    timed_run(network, prepared, 20, 0)  # warm-up
    # The best of three runs each, so that other work on the machine counts as little as possible.
    base = min(timed_run(network, prepared, args.steps, 0)[0] for _ in range(3))
    with_stats, count = min(timed_run(network, prepared, args.steps, default_every) for _ in range(3))
    print(f"{args.network}, {args.steps} steps of batch 100")
    print(f"  without statistics:              {base:7.2f} s")
    print(f"  statistics every {default_every} steps ({count}x): {with_stats:7.2f} s")
    print(f"  overhead:                        {100 * (with_stats - base) / base:7.1f} %")


if __name__ == "__main__":
    main()
