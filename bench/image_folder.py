"""Loading an image folder: the first load (decoding every file) against the second (the cache).

Writes the real MNIST training images (``../shared/data/mnist`` beside the project, or ``--mnist``) as PNG files
in a temporary folder, one subfolder per digit, and loads it three times with a cache in a temporary folder:
once decoding every file, twice from the cache. Prints the seconds each took.

    python bench/image_folder.py [--images 60000] [--mnist FOLDER]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from PIL import Image

from dllab.data import load_dataset
from dllab.data.idx import load_idx_folder

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60_000, help="how many MNIST images (default: 60,000)")
    parser.add_argument("--mnist", type=Path, default=MNIST, help="the folder of the MNIST IDX files")
    args = parser.parse_args()
    mnist = load_idx_folder(args.mnist)
    with tempfile.TemporaryDirectory(prefix="dllab-bench-") as temp:
        os.environ["DLLAB_DATA_DIR"] = str(Path(temp) / "cache")
        root = Path(temp) / "mnist-png"
        start = time.perf_counter()
        for i, (pixels, label) in enumerate(zip(mnist.x_train[: args.images], mnist.y_train, strict=False)):
            folder = root / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels[0]).save(folder / f"{i:05d}.png")
        count = min(args.images, len(mnist.x_train))
        print(f"wrote {count:,} PNG files in {time.perf_counter() - start:.1f} s")
        for what in ("first load (decoding)", "second load (cache)", "third load (cache)"):
            start = time.perf_counter()
            dataset = load_dataset(root)
            print(f"{what}: {time.perf_counter() - start:.2f} s, {dataset!r}")


if __name__ == "__main__":
    main()
