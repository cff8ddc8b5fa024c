"""Python's cyclic garbage is collected on the GUI thread, never in a worker thread that allocates."""

from __future__ import annotations

import gc
import threading

from ui.common.garbage import GarbageCollector, set_aside_what_lives


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_made_in_a_worker_thread_is_collected_on_the_gui_thread(qtbot):
    collections: list[str] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(threading.current_thread().name)

    enabled = gc.isenabled()
    gc.enable()  # as in a fresh process
    collector = GarbageCollector(interval=0.05)
    gc.callbacks.append(record)
    try:
        assert not gc.isenabled()
        worker = threading.Thread(
            target=lambda: [Cycle() for _ in range(10 * gc.get_threshold()[0])], name="worker"
        )
        worker.start()
        worker.join()
        assert "worker" not in collections
        qtbot.waitUntil(lambda: threading.main_thread().name in collections, timeout=5_000)
    finally:
        gc.callbacks.remove(record)
        collector.stop()
        (gc.enable if enabled else gc.disable)()
    assert set(collections) == {threading.main_thread().name}


def test_stopping_puts_the_automatic_collection_back_as_it_was(qapp):
    enabled = gc.isenabled()
    gc.enable()
    try:
        collector = GarbageCollector()
        collector.stop()
        assert gc.isenabled()
        gc.disable()
        collector = GarbageCollector()
        collector.stop()
        assert not gc.isenabled()
    finally:
        (gc.enable if enabled else gc.disable)()


def test_what_lives_is_set_aside_from_later_collections():
    gc.unfreeze()
    try:
        set_aside_what_lives()
        assert gc.get_freeze_count() > 1000  # the modules at least
        garbage = Cycle()
        assert gc.is_tracked(garbage) and gc.get_freeze_count() > 0
        del garbage
        assert gc.collect() >= 1  # what is made afterwards is still collected
    finally:
        gc.unfreeze()
