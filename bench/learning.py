"""Learning runs too long for the test suite: the book's networks on the full MNIST, accuracy and time.

    python bench/learning.py simple_conv_net --epochs 1
    python bench/learning.py deep_conv_net --epochs 3

Prints, after every epoch, the test accuracy (the test set is only looked at, never trained or tuned on),
the epoch's time and the throughput. Adam, learning rate 0.001, batch 100, standardised inputs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import dllab
from dllab import data, metrics
from dllab.trainer import EpochEnded, Finished, Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="a file name in assets/networks, without .json")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = parser.parse_args()
    model = dllab.build(ROOT / "assets" / "networks" / f"{args.network}.json", seed=0)
    prepared = data.prepare(
        data.load_dataset(Path(args.mnist)),
        input_shape=model.input_shape,
        val_fraction=0.0,
        normalization="standardize",
        seed=0,
    )
    config = TrainingConfig(optimizer="adam", lr=0.001, batch_size=100, epochs=args.epochs, stats_every=0)
    print(f"{model.name}: {model.param_count:,} parameters, {len(prepared.x_train)} training samples")
    last = time.perf_counter()
    for event in Trainer(model, prepared, config).run():
        if isinstance(event, EpochEnded):
            now = time.perf_counter()
            test = metrics.evaluate(model, prepared.x_test, prepared.y_test)
            print(
                f"epoch {event.epoch}: test accuracy {test.accuracy:.2%}, {now - last:.0f} s, "
                f"{len(prepared.x_train) / (now - last):,.0f} samples/s (with evaluation)",
                flush=True,
            )
            last = time.perf_counter()
        elif isinstance(event, Finished):
            print(f"finished: test accuracy {event.test_accuracy:.2%} in {event.elapsed:.0f} s")


if __name__ == "__main__":
    main()
