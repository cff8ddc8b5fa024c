"""Model files: a trained network saved as ``*.dllab.npz`` and loaded back, never running code on load.

A model file is a NumPy ``.npz`` archive holding

- every parameter under its key (``"dense_1.W"``, ``"conv2d_1.b"``, ...),
- the BatchNorm running statistics under theirs (``"batchnorm_1.mean"``, ``"batchnorm_1.var"``),
- one JSON document, stored as UTF-8 bytes (a ``uint8`` array) under the reserved key ``"__dllab__.json"``,
  with ``format`` (``"dllab.model/1"``), ``dllab_version``, ``dtype``, the canonical network ``spec``,
  ``preprocessing`` (a data normaliser's ``to_dict()``; may be empty), ``class_names``,
  ``training_summary`` and ``arrays`` (the keys of the stored arrays).

Nothing in it is pickled: :func:`load` reads it with ``allow_pickle=False`` and refuses object arrays, so
opening a model file never runs code. :func:`save` writes to a temporary file in the target's folder, syncs it
to disk and renames it onto the target, so an interrupted save leaves any earlier file untouched.

File names: ``save`` writes exactly to a path whose name ends in ``.npz``; any other name gets a suffix,
``".npz"`` after a name ending in ``.dllab`` and ``".dllab.npz"`` otherwise (``"model"`` becomes
``"model.dllab.npz"``), much as :func:`numpy.savez` appends ``.npz``. ``load`` and :func:`read_model_info`
open a path that exists as given and otherwise try the same completed name, so ``load("model")`` finds what
``save(model, "model")`` wrote. :func:`model_file_path` gives the completed name.

>>> import dllab
>>> model = dllab.build("assets/networks/two_layer_net.json", seed=0)   # doctest: +SKIP
>>> dllab.save(model, "two_layer.dllab.npz")                             # doctest: +SKIP
>>> dllab.load("two_layer.dllab.npz").predict(x)                         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from dllab.errors import DllabError
from dllab.files import atomic_write
from dllab.model import Sequential, build
from dllab.spec import SpecError

#: The format this dllab writes and reads.
FORMAT = "dllab.model/1"
_FORMAT_PREFIX = "dllab.model/"
#: The archive key of the JSON metadata document (a parameter key always has the form ``layer.param``).
METADATA_KEY = "__dllab__.json"
#: The suffix a model file name gets when it has none.
SUFFIX = ".dllab.npz"

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_NPY_MAGIC = b"\x93NUMPY"
# What reading a damaged archive member can raise (besides ValueError, which is handled on its own).
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError)


class ModelFileError(DllabError, ValueError):
    """A model file that cannot be read or used: missing, damaged, foreign, or from a newer dllab.

    The message is one sentence naming the file and what is wrong; ``path`` is the file.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"model file {str(self.path)!r} {problem}")


def model_file_path(path: str | os.PathLike[str]) -> Path:
    """The name :func:`save` writes for ``path``: as given when it ends in ``.npz``, completed otherwise.

    Parameters
    ----------
    path
        A file name such as ``"model.dllab.npz"``, ``"model.npz"``, ``"model.dllab"`` or ``"model"``.

    Returns
    -------
    Path
        ``path`` itself when its name ends in ``.npz``; with ``".npz"`` appended when it ends in ``.dllab``;
        with ``".dllab.npz"`` appended otherwise.

    Examples
    --------
    >>> model_file_path("runs/mnist").name
    'mnist.dllab.npz'
    >>> model_file_path("runs/mnist.dllab").name
    'mnist.dllab.npz'
    >>> model_file_path("runs/mnist.npz").name
    'mnist.npz'
    """
    path = Path(path)
    name = path.name
    if name.lower().endswith(".npz"):
        return path
    if name.lower().endswith(".dllab"):
        return path.with_name(name + ".npz")
    return path.with_name(name + SUFFIX)


# --- writing ---------------------------------------------------------------------------------------------


def json_default(value: Any) -> Any:
    """``default`` for :func:`json.dumps`: numpy scalars and arrays (common in training summaries) and sets
    become plain Python numbers and lists; anything else raises ``TypeError``."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _metadata(model: Sequential, keys: list[str]) -> dict[str, Any]:
    from dllab import __version__

    return {
        "format": FORMAT,
        "dllab_version": __version__,
        "dtype": model.dtype.name,
        "spec": model.spec,
        "preprocessing": model.preprocessing,
        "class_names": [str(name) for name in model.class_names],
        "training_summary": model.training_summary,
        "arrays": keys,
    }


def save(model: Sequential, path: str | os.PathLike[str]) -> Path:
    """Save a model (weights, running statistics, spec, preprocessing, class names) as a model file.

    Parameters
    ----------
    model
        The model to save.
    path
        Where to write; a name not ending in ``.npz`` is completed by :func:`model_file_path`
        (``"model"`` -> ``"model.dllab.npz"``).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the preprocessing or training summary cannot be stored as JSON (nothing is written).
    OSError
        When the file cannot be written; an existing file at the path is then left unchanged.
    """
    target = model_file_path(path)
    arrays = {**model.params, **model.state}
    keys = list(arrays)
    if METADATA_KEY in arrays:  # impossible with spec-built names, which have one dot and no "__dllab__"
        raise ValueError(f"the model has an array named {METADATA_KEY!r}, which model files reserve")
    for field in ("preprocessing", "training_summary", "class_names"):
        try:
            json.dumps(getattr(model, field), default=json_default, allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot save the model's {field} as JSON: {exc}") from None
    document = json.dumps(_metadata(model, keys), default=json_default, ensure_ascii=False, indent=1)
    contents = {key: np.ascontiguousarray(value) for key, value in arrays.items()}
    contents[METADATA_KEY] = np.frombuffer(document.encode("utf-8"), dtype=np.uint8)

    def write(file: IO[bytes]) -> None:
        np.savez(file, allow_pickle=False, **contents)

    return atomic_write(target, write)


# --- reading ---------------------------------------------------------------------------------------------


def _existing_path(path: str | os.PathLike[str]) -> Path:
    """The file to open for ``path``: as given when it exists, else the name :func:`save` would have used."""
    given = Path(path)
    if given.exists():
        candidate = given
    else:
        completed = model_file_path(given)
        candidate = completed if completed.exists() else given
    if not candidate.exists():
        raise ModelFileError(given, "does not exist")
    if candidate.is_dir():
        raise ModelFileError(candidate, "is a folder, not a file")
    return candidate


def _check_kind(path: Path) -> None:
    """Tell a damaged, foreign or empty file from an archive before numpy tries to read it."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise ModelFileError(path, "is empty")
    if head.startswith(_NPY_MAGIC):
        raise ModelFileError(path, "holds a single NumPy array (.npy), not a dllab model")
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise ModelFileError(path, "is an empty archive, not a dllab model")
    if not head.startswith(_ZIP_MAGIC):
        raise ModelFileError(path, "is not a dllab model file (it is not a NumPy .npz archive)")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            path, "is damaged or incomplete (its archive directory is missing; was it cut short?)"
        )


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[Any]:
    _check_kind(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, *_READ_ERRORS) as exc:
        raise ModelFileError(path, f"is damaged and cannot be opened ({exc})") from None
    with npz:
        if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - excluded by _check_kind
            raise ModelFileError(path, "is not a NumPy .npz archive")
        yield npz


def _peek_dtype(npz: Any, key: str) -> np.dtype | None:
    """The dtype in an archive member's header, read without loading its data (``None`` if unreadable)."""
    try:
        with npz.zip.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                return np.lib.format.read_array_header_1_0(member)[2]
            if version == (2, 0):
                return np.lib.format.read_array_header_2_0(member)[2]
    except (ValueError, *_READ_ERRORS):
        return None
    return None


def _read_array(npz: Any, key: str, path: Path, what: str) -> np.ndarray:
    """One member of the archive; an object (pickled) array is refused before numpy could unpickle it."""
    dtype = _peek_dtype(npz, key)
    if dtype is not None and dtype.hasobject:
        raise ModelFileError(path, f"holds a pickled object array as {what}, which dllab refuses to load")
    try:
        return npz[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ModelFileError(
                path, f"holds a pickled object array as {what}, which dllab refuses to load"
            ) from None
        raise ModelFileError(path, f"is damaged: {what} cannot be read ({exc})") from None
    except _READ_ERRORS as exc:
        raise ModelFileError(path, f"is damaged: {what} cannot be read ({exc})") from None


def _read_document(npz: Any, path: Path) -> dict[str, Any]:
    if METADATA_KEY not in npz.files:
        raise ModelFileError(
            path, f"is a NumPy archive but not a dllab model (it has no {METADATA_KEY!r} metadata document)"
        )
    raw = _read_array(npz, METADATA_KEY, path, "its metadata document")
    try:
        if raw.dtype == np.uint8 and raw.ndim == 1:
            text = raw.tobytes().decode("utf-8")
        elif raw.dtype.kind == "U" and raw.ndim == 0:
            text = str(raw[()])
        else:
            raise ModelFileError(
                path, f"has a metadata document of unexpected form ({raw.dtype} array of shape {raw.shape})"
            )
        document = json.loads(text)
    except UnicodeDecodeError:
        raise ModelFileError(path, "has a metadata document that is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            path, f"has a corrupt metadata document (invalid JSON: {exc.msg} at line {exc.lineno})"
        ) from None
    _check_document(document, path)
    return document


def _check_document(document: Any, path: Path) -> None:
    if not isinstance(document, dict):
        raise ModelFileError(
            path, f"has a metadata document that is a JSON {type(document).__name__}, not an object"
        )
    fmt = document.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith(_FORMAT_PREFIX):
            raise ModelFileError(
                path,
                f"was written by a newer dllab (format {fmt!r}; this dllab reads {FORMAT!r}), so update dllab",
            )
        raise ModelFileError(path, f"has an unknown format {fmt!r} (expected {FORMAT!r})")
    expected: dict[str, type | tuple[type, ...]] = {
        "spec": dict,
        "dtype": str,
        "preprocessing": dict,
        "class_names": list,
        "training_summary": dict,
        "arrays": list,
    }
    for field, kind in expected.items():
        if field not in document:
            if field in ("spec", "dtype", "arrays"):
                raise ModelFileError(path, f"has a metadata document without its {field!r} entry")
            continue
        if not isinstance(document[field], kind):
            raise ModelFileError(path, f"has a metadata entry {field!r} of the wrong type")
    if not all(isinstance(k, str) for k in document["arrays"]):
        raise ModelFileError(path, "has a metadata 'arrays' list that is not all names")
    if not all(isinstance(name, str) for name in document.get("class_names", [])):
        raise ModelFileError(path, "has class names that are not all strings")
    try:
        dtype = np.dtype(document["dtype"])
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ModelFileError(
            path, f"has an unsupported dtype {document['dtype']!r} (expected float32 or float64)"
        )


def read_model_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata document of a model file, read without building the network or loading weights.

    Parameters
    ----------
    path
        The model file (completed like :func:`load` does when it does not exist as given).

    Returns
    -------
    dict
        ``format``, ``dllab_version``, ``dtype``, ``spec`` (the canonical network spec), ``preprocessing``,
        ``class_names``, ``training_summary`` and ``arrays`` (the stored array keys), plus ``path``: the
        file that was read, as a string.

    Raises
    ------
    ModelFileError
        When the file is missing, damaged, foreign or from a newer dllab.
    """
    file = _existing_path(path)
    with _open_archive(file) as npz:
        document = _read_document(npz, file)
    document.setdefault("preprocessing", {})
    document.setdefault("class_names", [])
    document.setdefault("training_summary", {})
    document["path"] = str(file)
    return document


def load(path: str | os.PathLike[str]) -> Sequential:
    """Load a model file written by :func:`save`: the same network, weights and running statistics.

    Predictions of the loaded model are bit-identical to those of the saved one. The file is read with
    ``allow_pickle=False``; nothing in it is executed.

    Parameters
    ----------
    path
        The model file (``load("model")`` also finds ``"model.dllab.npz"``).

    Returns
    -------
    Sequential
        The model, in the dtype it was saved in, with ``preprocessing``, ``class_names`` and
        ``training_summary`` restored.

    Raises
    ------
    ModelFileError
        With one sentence naming the file and the problem: missing, not an archive, damaged or cut short,
        a foreign archive, a corrupt metadata document, a newer format, a spec that does not build, a
        missing or misshaped weight array, or a pickled object array.
    """
    file = _existing_path(path)
    with _open_archive(file) as npz:
        document = _read_document(npz, file)
        present = set(npz.files)
        missing = [key for key in document["arrays"] if key not in present]
        if missing:
            raise ModelFileError(file, f"is missing the weight array {missing[0]!r}")
        arrays: dict[str, np.ndarray] = {}
        for key in document["arrays"]:
            value = _read_array(npz, key, file, f"weight array {key!r}")
            if value.dtype.kind != "f":
                raise ModelFileError(
                    file, f"has a weight array {key!r} of type {value.dtype}, not floating point"
                )
            arrays[key] = value
    try:
        model = build(document["spec"], seed=0, dtype=np.dtype(document["dtype"]))
    except SpecError as exc:
        raise ModelFileError(file, f"has a network spec that cannot be built ({exc})") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # A hand-edited spec can trip up the builder in ways a SpecError does not cover.
        raise ModelFileError(file, f"has a network spec that cannot be built ({exc!r})") from None
    try:
        model.set_weights(arrays)
    except ValueError as exc:
        raise ModelFileError(file, f"does not fit its network: {exc}") from None
    model.preprocessing = document.get("preprocessing", {})
    model.class_names = list(document.get("class_names", []))
    model.training_summary = document.get("training_summary", {})
    return model
