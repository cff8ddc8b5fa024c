"""Experiments over many trainings: the Compare, Search and Distributions tabs."""
