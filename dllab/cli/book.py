"""``dllab import-book``: the weights "Deep Learning from Scratch" publishes, as a dllab model file.

::

    dllab import-book ch08_deep_convnet_params.pkl --out deep_conv_net.dllab.npz
    dllab evaluate deep_conv_net.dllab.npz --data mnist

The pickle is read by :mod:`dllab.book_weights` (never by a plain ``pickle.load``), its network recognised from
the keys and shapes or named with ``--network``, and the model written through :func:`dllab.io.save`. An
existing file at ``--out`` is kept unless ``--force`` is given.
"""

from __future__ import annotations

import argparse

from dllab.book_weights import NETWORKS, import_book_weights
from dllab.cli.status import EXIT_OK
from dllab.cli.terminal import printable
from dllab.errors import SettingsError, quote
from dllab.io import model_file_path, save


def add_book_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``import-book`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "import-book",
        help="import the book's published weights (.pkl) as a model file",
        description="Read a weights pickle that 'Deep Learning from Scratch' publishes (ch03_sample_weight.pkl, "
        "ch07_params.pkl, ch08_deep_convnet_params.pkl) without running anything it names, recognise its "
        "network and write a dllab model file that `dllab evaluate` and the app open.",
    )
    p.add_argument("weights", metavar="FILE.pkl", help="the book's weights file")
    p.add_argument("--out", required=True, metavar="MODEL", help="the model file to write (.dllab.npz)")
    p.add_argument(
        "--network",
        metavar="NAME",
        help=f"the network the weights are for: {', '.join(NETWORKS)} (default: recognised from the shapes)",
    )
    p.add_argument("--force", action="store_true", help="replace the model file when it exists")
    p.set_defaults(handler=import_book_command)


def import_book_command(args: argparse.Namespace) -> int:
    """``dllab import-book``: read the weights, say what they are, write the model file."""
    target = model_file_path(args.out)
    if target.exists() and not args.force:
        raise SettingsError(f"{quote(str(target))} already exists; give --force to replace it")
    result = import_book_weights(args.weights, args.network)
    written = save(result.model, target)
    print(printable(f"recognised {result.describe()}"))
    print(printable(f"wrote {written}"))
    return EXIT_OK
