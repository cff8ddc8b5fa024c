"""The generic worker: a generator iterated on a QThread, its items emitted in rate-limited batches, failures
as one-line reasons, abort between items."""

from __future__ import annotations

import threading
import time

import pytest

from ui.common.worker import GeneratorWorker, one_line


def collect(worker: GeneratorWorker) -> tuple[list[list[object]], list[str]]:
    batches: list[list[object]] = []
    failures: list[str] = []
    worker.events_ready.connect(batches.append)
    worker.failed.connect(failures.append)
    return batches, failures


def test_items_arrive_in_order_in_few_batches(qtbot):
    def items():
        for i in range(20_000):
            yield i
            if i % 1000 == 0:
                time.sleep(0.005)  # about 0.1 s in all

    worker = GeneratorWorker(items, interval=0.05)
    batches, failures = collect(worker)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert worker.wait(5) and not worker.is_running
    assert [i for batch in batches for i in batch] == list(range(20_000)) and not failures
    assert len(batches) <= 10  # rate-limited: nothing like one signal per item
    assert threading.current_thread() is threading.main_thread()


def test_urgent_items_are_emitted_at_once(qtbot):
    released = threading.Event()

    def items():
        yield "first"
        yield "urgent"
        released.wait(5)  # the generator blocks here, as a paused trainer does
        yield "last"

    worker = GeneratorWorker(items, urgent=lambda item: item == "urgent", interval=60.0)
    batches, _ = collect(worker)
    worker.start()
    qtbot.waitUntil(lambda: batches == [["first", "urgent"]], timeout=5_000)
    with qtbot.waitSignal(worker.finished, timeout=5_000):
        released.set()
    assert worker.wait(5)  # a QThread must never be destroyed while it runs
    assert batches == [["first", "urgent"], ["last"]]


def test_an_exception_becomes_a_one_line_reason_after_the_items_before_it(qtbot):
    def items():
        yield 1
        yield 2
        raise RuntimeError("the disk\nis full")

    worker = GeneratorWorker(items, interval=60.0)
    batches, failures = collect(worker)
    with qtbot.waitSignal(worker.finished, timeout=5_000):
        worker.start()
    assert worker.wait(5)
    assert batches == [[1, 2]] and failures == ["RuntimeError: the disk is full"]


def test_abort_stops_between_items_and_closes_the_generator(qtbot):
    closed = threading.Event()

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
                time.sleep(0.001)
        finally:
            closed.set()

    worker = GeneratorWorker(items, interval=0.01)
    batches, _ = collect(worker)
    worker.start()
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=5_000)
    with qtbot.waitSignal(worker.finished, timeout=5_000):
        worker.abort()
    assert closed.is_set() and worker.wait(5)


def test_a_worker_runs_once_and_one_line_reasons():
    worker = GeneratorWorker(lambda: iter(()))
    worker.start()
    assert worker.wait(5)
    with pytest.raises(RuntimeError, match="runs once"):
        worker.start()
    assert one_line(ValueError("bad  value\n here")) == "bad value here"
    assert one_line(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"
    assert one_line(KeyError()) == "KeyError"
