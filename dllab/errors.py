"""The one family of errors that a user's file, flag, setting or data can cause.

Every such error derives from :class:`DllabError`; its message is one sentence naming the file or option and
what is wrong. The command line prints it as ``dllab: error: <sentence>`` and exits with status 2; the
desktop app shows it in a dialog. Any other exception is a bug in dllab.

The members live beside the concept they belong to: :class:`~dllab.spec.SpecError` (network specs),
:class:`~dllab.data.DatasetError` (data sets), :class:`~dllab.io.ModelFileError` (model files),
:class:`~dllab.runs.RunError` (run folders), :class:`~dllab.book_weights.BookWeightsError` (the weights files of
"Deep Learning from Scratch"), and here :class:`SettingsError` (options and hyperparameters)
and :class:`DamagedFileError` (archives that cannot be read safely).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

#: The longest value (or path) an error message quotes; longer ones are cut in the middle.
QUOTE_LIMIT = 120


class DllabError(Exception):
    """Base of every error a user's file, flag, setting or data can cause; the message is one sentence."""


class SettingsError(DllabError, ValueError):
    """A setting that cannot be used: an unknown name, a value of the wrong type or out of range."""


class FileProblemError(DllabError, ValueError):
    """A file that cannot be read or used; ``path`` is the file, ``problem`` the why.

    The message is one sentence: the kind of file (``KIND``, e.g. ``"model file"``), its name and the problem.
    """

    KIND = ""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        kind = f"{self.KIND} " if self.KIND else ""
        super().__init__(f"{kind}{quote(str(self.path))} {problem}")


class DamagedFileError(FileProblemError):
    """A file that is damaged, foreign or larger than it may be.

    Readers of a particular kind of file turn it into their own error (a model file, a data set).
    """


@contextlib.contextmanager
def reading(report: Callable[[str], DllabError]) -> Iterator[None]:
    """Turn what goes wrong reading a file in the block into ``report(problem)``: a :class:`DamagedFileError`'s
    problem, or the operating system's ``"cannot be read (Permission denied)"``.

    Examples
    --------
    ::

        with reading(lambda problem: ModelFileError(path, problem)), open_regular(path) as file:
            head = file.read(8)
    """
    try:
        yield
    except DamagedFileError as exc:
        raise report(exc.problem) from None
    except OSError as exc:
        raise report(f"cannot be read ({exc.strerror or exc})") from None


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters (the middle becomes ``…``), for error messages.

    Examples
    --------
    >>> quote("dense")
    "'dense'"
    >>> len(quote("x" * 5000)) <= QUOTE_LIMIT + 2
    True
    """
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python converts to text
        text = f"<{type(value).__name__} too long to show>"
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[-half:]


def error_line(error: BaseException) -> str:
    """What went wrong, on one line and as the error says it.

    A ``DllabError``'s message, or what the operating system said about which file for an ``OSError``; runs
    of white space (line breaks included) become one space. :func:`error_sentence` makes a sentence of it;
    the command line prints it as it is.

    Parameters
    ----------
    error
        The error caught.

    Returns
    -------
    str
        The text as the error has it: neither capitalised nor given a full stop.

    Examples
    --------
    >>> error_line(FileNotFoundError(2, "No such file or directory", "net.json"))
    'No such file or directory: net.json'
    >>> error_line(SettingsError("learning rate  must be positive"))
    'learning rate must be positive'
    """
    if isinstance(error, OSError) and not isinstance(error, DllabError) and error.strerror:
        text = error.strerror + (f": {error.filename}" if error.filename else "")
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def error_sentence(error: BaseException) -> str:
    """The one sentence that tells a person what went wrong: :func:`error_line`, capitalised and ending in a full
    stop.

    Examples
    --------
    >>> error_sentence(SettingsError("learning rate must be positive"))
    'Learning rate must be positive.'
    """
    text = error_line(error)
    if text[:1].islower():
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."
