"""The book's hyperparameter search (figure 6-24) with one worker and with two: trials per minute.

    python bench/search_workers.py
    python bench/search_workers.py --workers 1,2,4 --trials 16 --epochs 20

Runs :data:`dllab.experiments.presets.BOOK_SEARCH` (the six-layer MLP on 500 MNIST samples, SGD, random draws of
the learning rate and weight decay) as an Optuna study in a fresh SQLite file for each setting, the workers
started by :class:`dllab.experiments.study.LocalWorkers` (one in its process, or each in a process of its own
with ``cpu_count // workers`` BLAS threads), and times it from the start of the workers to the end of the last
trial: worker start-up, the storage's writes (every epoch's metrics, the heartbeats) and the trials' run folders
included; MNIST is loaded and prepared once per setting, before. Each setting runs in a fresh Python process, so
that its BLAS thread count holds: one worker is timed with as many BLAS threads as cores and with one (a network
this small often trains faster on one thread), several workers with ``cpu_count // workers`` each. Prints
trials per minute and the speed-up against the first line, with the load average before and after: on a
machine other work shares, the figures vary from run to run. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_one(mnist: Path, workers: int, trials: int, epochs: int | None, folder: Path) -> dict[str, float]:
    """Time ``workers`` finishing ``trials`` trials of the book's search (in this process)."""
    from dllab.experiments.presets import BOOK_SEARCH
    from dllab.experiments.study import LocalWorkers, create_or_join, folder_storage, read_snapshot

    changes = {} if epochs is None else {"epochs": epochs}
    definition = BOOK_SEARCH.definition(mnist, seed=0, changes=changes, trials=trials)
    _, prepared, _ = definition.experiment.prepare()
    url = folder_storage(folder)
    create_or_join(definition, "bench", url).close()
    start = time.perf_counter()
    for _ in LocalWorkers("bench", url, processes=workers, folder=folder, data=prepared).events():
        pass
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "done": read_snapshot("bench", url).done}


def time_setting(args: argparse.Namespace, workers: int, threads: int, folder: Path) -> dict[str, float]:
    """Run one setting in a fresh process with ``threads`` BLAS threads in the parent."""
    env = {**os.environ, **dict.fromkeys(BLAS_VARIABLES, str(threads)), "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable,
        __file__,
        "--one",
        str(workers),
        "--trials",
        str(args.trials),
        "--mnist",
        args.mnist,
    ]
    if args.epochs is not None:
        argv += ["--epochs", str(args.epochs)]
    result = subprocess.run(
        [*argv, "--folder", str(folder)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="the numbers of workers to time (default: 1,2)")
    parser.add_argument("--trials", type=int, default=12, help="trials of each search (default: 12)")
    parser.add_argument("--epochs", type=int, help="epochs of each trial (default: the book's 50)")
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:  # a setting, in its own process
        print(json.dumps(run_one(Path(args.mnist), args.one, args.trials, args.epochs, Path(args.folder))))
        return
    cores = os.cpu_count() or 1
    settings = []
    for workers in (int(w) for w in args.workers.split(",")):
        if workers == 1:
            settings += [(1, cores)] + ([(1, 1)] if cores > 1 else [])
        else:
            settings.append((workers, max(1, cores // workers)))
    from dllab.experiments.presets import BOOK_SEARCH

    epochs = args.epochs or BOOK_SEARCH.training_config().epochs
    print(
        f"{cores} cores; the book's search, {args.trials} trials of {epochs} epochs; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    base = None
    with tempfile.TemporaryDirectory(prefix="dllab-bench-search-") as temporary:
        for k, (workers, threads) in enumerate(settings):
            result = time_setting(args, workers, threads, Path(temporary) / f"setting-{k}")
            rate = 60 * result["done"] / result["seconds"]
            base = rate if base is None else base
            print(
                f"{workers} worker{'s' if workers > 1 else ''}, {threads} BLAS thread{'s' if threads > 1 else ''} "
                f"each: {result['done']} trials in {result['seconds']:.1f} s, {rate:.1f} trials per minute, "
                f"x{rate / base:.2f}"
            )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
