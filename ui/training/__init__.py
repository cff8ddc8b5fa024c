"""Training a network: the Training panel, its controller, the training process and session, the runs
panel and the live views of a run."""
