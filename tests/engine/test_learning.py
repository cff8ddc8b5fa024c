"""Learning on the real MNIST: the book's networks reach real accuracy bars on the untouched test set."""

import time

import pytest

import dllab
from dllab import data
from dllab.trainer import Finished, Trainer, TrainingConfig

NETWORKS = "assets/networks"


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return data.load_dataset(mnist_dir)


def train(spec_path, prepared, **settings):
    model = dllab.build(spec_path, seed=0)
    events = list(Trainer(model, prepared, TrainingConfig(**settings)).run())
    finished = events[-1]
    assert isinstance(finished, Finished), finished
    return finished


@pytest.mark.slow
def test_two_layer_net_sgd_reaches_95_percent_in_two_epochs(mnist, request):
    prepared = data.prepare(mnist, input_shape=(784,), val_fraction=0.0, normalization="standardize", seed=0)
    finished = train(
        f"{request.config.rootpath}/{NETWORKS}/two_layer_net.json",
        prepared,
        optimizer="sgd",
        lr=0.1,
        batch_size=100,
        epochs=2,
        stats_every=0,
    )
    assert finished.test_accuracy >= 0.95


@pytest.mark.slow
def test_simple_conv_net_adam_reaches_98_percent_in_two_epochs(mnist, request):
    prepared = data.prepare(
        mnist, input_shape=(1, 28, 28), val_fraction=0.0, normalization="standardize", seed=0
    )
    start = time.perf_counter()
    finished = train(
        f"{request.config.rootpath}/{NETWORKS}/simple_conv_net.json",
        prepared,
        optimizer="adam",
        lr=0.001,
        batch_size=100,
        epochs=2,
        stats_every=0,
    )
    print(
        f"SimpleConvNet: {finished.test_accuracy:.2%} after two epochs in {time.perf_counter() - start:.1f} s"
    )
    assert finished.test_accuracy >= 0.98


@pytest.mark.slow
def test_the_same_data_feeds_an_mlp_and_a_cnn(mnist, request):
    subset = dict(subset=2000, val_fraction=0.1, normalization="standardize", seed=0)
    flat = data.prepare(mnist, input_shape=(784,), **subset)
    images = data.prepare(mnist, input_shape=(1, 28, 28), **subset)
    assert flat.x_train.reshape(images.x_train.shape).tobytes() == images.x_train.tobytes()
    finished = train(
        f"{request.config.rootpath}/{NETWORKS}/multi_layer_net_extend.json",
        flat,
        optimizer="adam",
        lr=0.001,
        batch_size=100,
        epochs=10,
        stats_every=0,
    )
    assert finished.test_accuracy >= 0.85
