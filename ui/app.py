"""Entry point of the ``dllab`` command: the desktop app with no arguments, the command line otherwise."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Open the desktop lab, or run a ``dllab`` subcommand when arguments are given."""
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print("dllab: the command line is not available yet", file=sys.stderr)
        return 2
    print("dllab: the desktop app is not available yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
