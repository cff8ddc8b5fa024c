"""Several trainings at once: comparisons of settings (:mod:`~dllab.experiments.compare`, the book's presets
and the variants they vary), hyperparameter searches (:mod:`~dllab.experiments.search`, run as Optuna studies
by :mod:`~dllab.experiments.study`), runs in parallel processes, the activation distributions of the book's
figures 6-10 to 6-14, and their matplotlib figures."""
