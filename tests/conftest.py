"""Shared test settings: Qt offscreen before any Qt import, the real MNIST folder and the book's weights."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# As in the window's process: the UI tests run workers beside the GUI thread (dllab.cores). The tests of the
# threads set their own count.
os.environ.setdefault("DLLAB_THREADS", "1")

# Property tests keep no example database: nothing is written into the project folder.
settings.register_profile("dllab", database=None)
settings.load_profile("dllab")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mnist"
BOOK_WEIGHTS_DIR = PROJECT_ROOT.parent / "shared" / "data" / "book-weights"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST IDX folder beside the project; tests that need it skip cleanly when it is absent."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_DIR.name}/ beside the project")
    return MNIST_DIR


@pytest.fixture(scope="session")
def book_weights_dir() -> Path:
    """The weights "Deep Learning from Scratch" publishes (three pickles), beside the project; tests that need
    them skip cleanly when they are absent."""
    if not (BOOK_WEIGHTS_DIR / "ch08_deep_convnet_params.pkl").is_file():
        pytest.skip(f"the book's weights not found in {BOOK_WEIGHTS_DIR.name}/ beside the project")
    return BOOK_WEIGHTS_DIR


@pytest.fixture(autouse=True)
def _private_dllab_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's own dllab folders (runs, settings, downloaded datasets)."""
    home = tmp_path_factory.mktemp("dllab-home")
    monkeypatch.setenv("DLLAB_HOME", str(home))
    monkeypatch.setenv("DLLAB_DATA_DIR", str(home / "datasets"))
