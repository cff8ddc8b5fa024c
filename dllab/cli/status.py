"""What the ``dllab`` subcommands do; the argument parser that calls them is :mod:`dllab.cli.main`.

- :mod:`dllab.cli.training`: ``dllab train`` and ``dllab runs``, and the training options every
  training command shares;
- :mod:`dllab.cli.experiments`: ``dllab compare``, ``dllab search`` and ``dllab search-worker``, several
  trainings at once;
- :mod:`dllab.cli.models`: ``dllab evaluate``, ``export``, ``info`` and ``gradcheck``, on a model or
  network file.

Each command takes the parsed arguments and returns an exit status.
"""

#: Exit statuses (70 is sysexits' EX_SOFTWARE: an internal error, a bug to report).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 70, 130
