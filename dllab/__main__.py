"""``python -m dllab ...``: the command line (see :mod:`dllab.cli.main`)."""

from dllab.cli.main import main

raise SystemExit(main())
