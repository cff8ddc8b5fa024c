"""Designing a network: the layer palette, the network panel, the inspector, the architecture view, design
files and their autosave."""
