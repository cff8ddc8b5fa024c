"""Memory that numpy frees stays with the process for the next mini-batch (Linux with glibc).

Every mini-batch allocates and frees arrays of several MB (a convolution's output, the gradient of a pooling
layer's input). glibc hands such blocks back to the system when they are freed and maps them afresh when they
are allocated again, and first touching fresh pages can cost more than the arithmetic on them: a third of
SimpleConvNet's inference here (12,500 against 17,700 samples/s on one core). :func:`keep_freed_memory`
tells the allocator to keep blocks of up to 32 MB and up to 256 MB of freed memory for reuse instead. The peak memory of a run does not change; memory that a run has freed is
reused by the process rather than returned at once. Elsewhere (macOS, Windows, other C libraries) it does
nothing.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Blocks up to this size come from the process's heap (32 MB is the most glibc allows on 64-bit systems).
MMAP_THRESHOLD = 32 * 2**20
#: Freed memory at the top of the heap up to this size is kept rather than returned to the system.
TRIM_THRESHOLD = 256 * 2**20

_kept: bool | None = None


def keep_freed_memory() -> bool:
    """Make the C allocator keep freed blocks for reuse (once per process); whether it could."""
    global _kept
    if _kept is None:
        _kept = (
            sys.platform.startswith("linux")
            and _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and _mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    return _kept


def _mallopt(parameter: int, value: int) -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(parameter, value))
