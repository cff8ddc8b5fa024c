"""The version of dllab (one place; the package, model files and run folders read it)."""

__version__ = "0.1.0"
