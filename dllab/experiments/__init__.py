"""Several trainings at once: comparisons of settings (:mod:`~dllab.experiments.compare`, the book's presets
and the variants they vary), random searches on a log scale (:mod:`~dllab.experiments.search`), runs in
parallel processes, the activation distributions of the book's figures 6-10 to 6-14, and their matplotlib
figures."""
