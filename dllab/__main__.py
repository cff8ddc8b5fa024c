"""``python -m dllab ...``: the command line (see :mod:`dllab.cli`)."""

from dllab.cli import main

raise SystemExit(main())
