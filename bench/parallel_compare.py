"""The book's optimizer comparison (figure 6-9) trained in turn and in parallel processes: seconds and speed-up.

    python bench/parallel_compare.py
    python bench/parallel_compare.py --processes 1,2,4 --max-steps 500

Times :func:`dllab.experiments.presets.comparison_from_preset` ``"optimizers"`` (SGD, Momentum, AdaGrad and Adam, the
book's MultiLayerNet on MNIST) with each number of processes, from ``run()`` to its end: worker start-up, the
data sent to each worker and the events sent back included; MNIST is loaded once, before. Each worker
process uses ``cpu_count // processes`` BLAS threads (:func:`dllab.experiments.parallel_runs.blas_threads`); the runs in
turn use this process's (all cores by default). BLAS sums in an order that depends on its thread count, so the
final losses printed match exactly only where the thread counts do, e.g. with ``OPENBLAS_NUM_THREADS=1`` on
two cores. Prints figures, asserts nothing; on a machine other work shares, the figures vary from run to run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from dllab.data import load_dataset
from dllab.experiments.parallel_runs import blas_threads
from dllab.experiments.presets import comparison_from_preset

ROOT = Path(__file__).resolve().parents[1]


def time_comparison(dataset, mnist: Path, processes: int, max_steps: int | None) -> tuple[float, list[float]]:
    """Seconds to run the comparison with ``processes``, and each variant's final loss."""
    changes = {} if max_steps is None else {"max_steps": max_steps}
    comparison = comparison_from_preset("optimizers", data_dir=mnist, dataset=dataset, changes=changes)
    comparison.processes = processes
    start = time.perf_counter()
    for _ in comparison.run():
        pass
    seconds = time.perf_counter() - start
    return seconds, [float(np.mean(r.losses[-20:])) for r in comparison.results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2", help="the numbers of processes to time (default: 1,2)")
    parser.add_argument(
        "--max-steps", type=int, help="mini-batches per optimizer (default: the preset's 2000)"
    )
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]
    mnist = Path(args.mnist)
    dataset = load_dataset(mnist)
    print(
        f"{os.cpu_count()} cores, BLAS threads in this process: {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}"
    )
    base = None
    for processes in counts:
        seconds, losses = time_comparison(dataset, mnist, processes, args.max_steps)
        base = seconds if base is None else base
        threads = "this process's" if processes == 1 else f"{blas_threads(processes)} each"
        print(
            f"processes {processes}: {seconds:6.1f} s  speed-up {base / seconds:4.2f}x  (BLAS threads: {threads}; "
            f"final losses {', '.join(f'{v:.4f}' for v in losses)})",
            flush=True,
        )


if __name__ == "__main__":
    main()
