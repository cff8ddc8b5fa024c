"""Work on every core: the parts of a batch computed side by side in threads, one BLAS thread each.

numpy releases the GIL for its array work, so threads of one process can compute on several cores at once.
:func:`map_parts` computes a list of independent parts in a pool of threads, one per core the process may use,
while the BLAS library computes each matrix product on one thread (through threadpoolctl). Its callers:

- inference (:meth:`dllab.model.Sequential.forward`): every sample is computed on its own, and a large batch
  goes through the layers in small parts anyway (:meth:`~dllab.model.Sequential.inference_part`);
- a training pass (:meth:`dllab.model.Sequential.loss_and_grads`): a large mini-batch of a network whose layers
  compute each sample apart goes through in two halves, the second through twins of the layers that share
  their parameters;
- a large convolution outside those (:mod:`dllab.convolution`): its blocks of patches.

Small products gain little from sharing one product between BLAS threads, and OpenBLAS's threads wait for each
other on every product: when another program keeps a core busy, a product on two BLAS threads waits for the
busy core. On an idle 2-core machine, against one pass on two BLAS threads: SimpleConvNet trains
10,683 samples/s instead of 8,355 and predicts 33,431 instead of 20,966; DeepConvNet trains 1,959 instead of
1,306 and predicts 5,324 instead of 3,780. With other work loading both cores, SimpleConvNet predicted 18,359
samples/s in threads and 1,755 on two BLAS threads.

The number of threads is ``DLLAB_THREADS`` when the environment sets it, else a BLAS thread count set there
(``OPENBLAS_NUM_THREADS``, as the worker processes of a comparison set to share the cores), else every core the
process may run on. The BLAS thread count is one setting for the whole process, and changing it while another
thread is inside a BLAS call is not safe (threadpoolctl's limits are made for BLAS called from one thread): a
process whose threads may compute at the same time sets ``DLLAB_THREADS=1``, as the desktop app's window
does (a comparison trains in a worker thread while the window draws), and so does the test suite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: How many threads dllab computes on in this process (see the module's notes).
THREADS_VARIABLE = "DLLAB_THREADS"
_THREAD_NAME = "dllab-inference"

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_key = (0, 0)  # (process id, threads) of the pool
_controller = None  # threadpoolctl's view of the BLAS libraries loaded, made once
_single_blas_users = 0
_blas_limiter = None


def threads() -> int:
    """Threads to compute on: ``DLLAB_THREADS``, else the environment's BLAS thread count, else the usable
    cores."""
    for name in (THREADS_VARIABLE, *BLAS_VARIABLES):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_parts(function: Callable[[T], R], parts: Iterable[T]) -> list[R]:
    """``[function(part) for part in parts]``, computed in threads when there are several cores; in order."""
    parts = list(parts)
    count = threads()
    if count < 2 or len(parts) < 2 or threading.current_thread().name.startswith(_THREAD_NAME):
        return [function(part) for part in parts]
    with _one_blas_thread():
        return list(_executor(count).map(function, parts))


def _executor(count: int) -> ThreadPoolExecutor:
    """The process's pool of ``count`` threads (made afresh in a forked child, whose threads did not follow)."""
    global _pool, _pool_key
    with _lock:
        if _pool is None or _pool_key != (os.getpid(), count):
            _pool = ThreadPoolExecutor(count, thread_name_prefix=_THREAD_NAME)
            _pool_key = (os.getpid(), count)
        return _pool


@contextmanager
def _one_blas_thread():
    """BLAS on one thread while any caller is inside (the limit is process-wide: the first in sets it, the last
    out restores it)."""
    global _single_blas_users, _blas_limiter, _controller
    with _lock:
        _single_blas_users += 1
        if _single_blas_users == 1:
            if _controller is None:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()
            _blas_limiter = _controller.limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        with _lock:
            _single_blas_users -= 1
            if _single_blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
