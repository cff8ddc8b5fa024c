"""Seconds from starting ``dllab`` to a usable window, and what the imports take.

Each round starts a fresh Python process that does what ``dllab`` with no arguments does (import the entry
point, create the application, build the main window, show it and let the event loop draw it once) and prints
the seconds since the interpreter started, measured at each stage, with the modules' compiled code cached as
in an installed dllab (a first, uncounted start fills a temporary cache), and the settings and data folders of
a first start (temporary too). Prints the median of the rounds and the packages whose imports took longest in
one ``python -X importtime`` run, so that a package the first screen does not need shows up when it creeps
back into the start.

    python bench/startup.py [--rounds 5] [--platform offscreen]

The machine may be busy with other work: the load average is printed with the figures.

On a 2-core machine (load average 2.8, Qt offscreen): entry point 0.03 s, window built 0.42 s, shown and drawn
0.47 s, since the views that are not on the first screen (and pyqtgraph) are built when first shown; the same
machine measured 1.30 s and 1.42 s while every view was built at start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import time
start = time.perf_counter()
import ui.app
from ui.app import configure_application, share_cores_with_training
imported = time.perf_counter()
share_cores_with_training()
from PySide6.QtWidgets import QApplication
app = QApplication([])
configure_application(app)
from ui.main_window import MainWindow
window = MainWindow()
built = time.perf_counter()
window.show()
app.processEvents()
shown = time.perf_counter()
print(imported - start, built - start, shown - start)
"""


def one_start(env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds after the interpreter's start to: the entry point imported, the window built, shown."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    imported, built, shown = map(float, done.stdout.split()[-3:])
    interpreter = interpreter_start(env)
    return imported + interpreter, built + interpreter, shown + interpreter


def interpreter_start(env: dict[str, str]) -> float:
    """Seconds that a bare interpreter takes to start and exit (added to the stages measured inside)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def slowest_imports(env: dict[str, str], count: int = 12) -> list[tuple[float, str]]:
    """The packages whose import took longest (cumulative seconds of their first import, wherever it
    happened), from ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import ui.app, ui.main_window"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = max(totals.get(root, 0.0), int(parts[1]) / 1e6)
    return sorted(((seconds, name) for name, seconds in totals.items()), reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Qt platform {args.platform}")
    with tempfile.TemporaryDirectory() as cache:
        # Compiled modules cached as an installed dllab has them (in a temporary folder, not the project's).
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": args.platform,
            "PYTHONPATH": str(ROOT),
            "PYTHONPYCACHEPREFIX": cache,
            # A first start's settings, runs and caches, kept out of the user's own.
            "DLLAB_HOME": cache,
            "XDG_CONFIG_HOME": cache,
            "XDG_DATA_HOME": cache,
            "XDG_CACHE_HOME": cache,
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        one_start(env)  # fills the cache
        starts = [one_start(env) for _ in range(args.rounds)]
        slowest = slowest_imports(env)
    imported, built, shown = (statistics.median(stage) for stage in zip(*starts, strict=True))
    print(f"entry point and its imports: {imported:.2f} s after starting (median of {args.rounds})")
    print(f"main window built:           {built:.2f} s")
    print(f"main window shown and drawn: {shown:.2f} s (the target is under 1.0 s)")
    print("slowest packages to import (seconds of their first import, what it imported included):")
    for seconds, name in slowest:
        print(f"  {seconds:6.3f}  {name}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
