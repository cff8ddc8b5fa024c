"""Inference parts in threads (dllab.cores): same results, in order, BLAS limits put back."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import dllab
from dllab import cores

NETWORKS = Path(__file__).resolve().parents[2] / "assets" / "networks"


def blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


@pytest.fixture
def two_threads(monkeypatch):
    for name in (cores.THREADS_VARIABLE, *cores.BLAS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert cores.threads() == 2


def test_parts_come_back_in_order_computed_in_the_pool_with_one_blas_thread(two_threads):
    before = blas_threads()
    seen = []

    def part(i: int) -> int:
        seen.append((threading.current_thread().name, blas_threads()))
        return i * i

    assert cores.map_parts(part, range(40)) == [i * i for i in range(40)]
    assert {name.split("_")[0] for name, _ in seen} == {"dllab-inference"}
    assert all(set(counts) == {1} for _, counts in seen)
    assert blas_threads() == before


def test_the_environment_sets_the_threads(monkeypatch):
    monkeypatch.delenv(cores.THREADS_VARIABLE, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert cores.threads() == 3
    monkeypatch.setenv(cores.THREADS_VARIABLE, "2")
    assert cores.threads() == 2  # dllab's own count first
    monkeypatch.setenv(cores.THREADS_VARIABLE, "1")
    assert cores.threads() == 1
    names = cores.map_parts(lambda _: threading.current_thread().name, range(5))
    assert names == [threading.current_thread().name] * 5  # one thread: the caller's, no pool


def test_an_error_in_a_part_reaches_the_caller_and_the_limit_is_put_back(two_threads):
    before = blas_threads()

    def part(i: int) -> int:
        if i == 3:
            raise ValueError("part 3")
        return i

    with pytest.raises(ValueError, match="part 3"):
        cores.map_parts(part, range(6))
    assert blas_threads() == before


def test_callers_in_several_threads_at_once_leave_the_blas_limit_as_it_was(two_threads):
    before = blas_threads()
    inside = threading.Barrier(3)

    def part(i: int) -> int:
        return i

    def caller() -> None:
        inside.wait()
        for _ in range(20):
            assert cores.map_parts(part, range(8)) == list(range(8))

    workers = [threading.Thread(target=caller) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert blas_threads() == before


@pytest.mark.parametrize("network", ["simple_conv_net.json", "deep_conv_net.json"])
def test_a_network_predicts_the_same_in_threads_as_part_after_part(two_threads, network):
    model = dllab.build(NETWORKS / network, seed=0)
    x = np.random.default_rng(0).random(
        (3 * model.inference_part() + 2, *model.input_shape), dtype=np.float32
    )
    part = model.inference_part()
    one_by_one = np.concatenate(
        [model._through_layers(x[i : i + part], False) for i in range(0, len(x), part)]
    )
    np.testing.assert_allclose(model.forward(x), one_by_one, rtol=1e-5, atol=1e-6)
