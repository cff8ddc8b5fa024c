"""Short texts shared by the command line, the engine's messages and the desktop app: shapes, durations and
counts of things.

>>> shape_text((1, 28, 28))
'1×28×28'
>>> counted(1, "epoch")
'1 epoch'
>>> format_duration(3725)
'1:02:05'
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def shape_text(shape: Sequence[int], times: str = "×") -> str:
    """A shape as its sizes joined by ``times``.

    Parameters
    ----------
    shape
        The sizes, e.g. ``(1, 28, 28)``.
    times
        What stands between two sizes: ``"×"`` in messages for people, ``"x"`` in plain-text tables.

    Returns
    -------
    str
        E.g. ``"1×28×28"``; empty for an empty shape.

    Examples
    --------
    >>> shape_text([30, 24, 24], times="x")
    '30x24x24'
    """
    return times.join(str(int(d)) for d in shape)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A number of things with the noun in the right number: ``"1 epoch"``, ``"1,200 iterations"``.

    Examples
    --------
    >>> counted(0, "class", "classes")
    '0 classes'
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def format_duration(
    seconds: float, *, unit: str = "s", tenths_below: float = 60.0, unknown: str = "?"
) -> str:
    """How long something takes: seconds under a minute, else ``"m:ss"`` or ``"h:mm:ss"``.

    Parameters
    ----------
    seconds
        The duration.
    unit
        Written after a number of seconds: ``"s"`` on the terminal (``"4.2s"``), ``" s"`` in the app.
    tenths_below
        Durations under this many seconds are written with tenths (``"4.2s"``), longer ones up to a minute in
        whole seconds (``"42s"``).
    unknown
        The text for a duration that is not known (not finite, or negative).

    Returns
    -------
    str

    Examples
    --------
    >>> [format_duration(s) for s in (4.25, 65, math.inf)]
    ['4.2s', '1:05', '?']
    >>> format_duration(42.4, unit=" s", tenths_below=10)
    '42 s'
    """
    if not math.isfinite(seconds) or seconds < 0:
        return unknown
    if seconds < tenths_below:
        return f"{seconds:.1f}{unit}"
    if seconds < 60:
        return f"{seconds:.0f}{unit}"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_bytes(count: float) -> str:
    """A number of bytes for people, in B, KB, MB or GB (powers of 1024), three significant figures.

    Parameters
    ----------
    count
        The bytes.

    Returns
    -------
    str

    Examples
    --------
    >>> [format_bytes(n) for n in (512, 247104, 3_987_456, 5 * 2**30)]
    ['512 B', '241 KB', '3.8 MB', '5 GB']
    """
    if count < 1024:
        return f"{int(count)} B"
    exponent = min(int(math.log(count, 1024)), 3)
    return f"{count / 1024**exponent:.3g} {('B', 'KB', 'MB', 'GB')[exponent]}"
