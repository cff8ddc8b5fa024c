"""The ``dllab`` command line: the parser and entry point (:mod:`dllab.cli.main`), one module per group of
commands (:mod:`~dllab.cli.training`, :mod:`~dllab.cli.models`, :mod:`~dllab.cli.experiments`), the progress
display (:mod:`~dllab.cli.terminal`) and the exit statuses (:mod:`~dllab.cli.status`)."""
