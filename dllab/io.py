"""Model files: a trained network saved as ``*.dllab.npz`` and loaded back, never running code on load.

A model file is a NumPy ``.npz`` archive holding

- every parameter under its key (``"dense_1.W"``, ``"conv2d_1.b"``, ...),
- the BatchNorm running statistics under theirs (``"batchnorm_1.mean"``, ``"batchnorm_1.var"``),
- one JSON document, stored as UTF-8 bytes (a ``uint8`` array) under the reserved key ``"__dllab__.json"``,
  with ``format`` (``"dllab.model/1"``), ``dllab_version``, ``dtype``, the canonical network ``spec``,
  ``preprocessing`` (a data normaliser's ``to_dict()``; may be empty), ``class_names``,
  ``training_summary`` and ``arrays`` (the keys of the stored arrays).

Nothing in it is pickled: :func:`load` reads it with :func:`dllab.files.read_npz`, which refuses object
arrays, so opening a model file never runs code. Reading stays within memory a file of its size can justify:
only a regular file is opened, every array's declared size is checked before it is allocated, and the
network spec's parameter shapes (worked out without allocating anything) are checked against the stored
arrays before the network is built. The metadata is checked too: ``dtype`` is float32 or float64,
``preprocessing`` is empty or what :meth:`dllab.data.Normalizer.to_dict` writes, ``class_names`` a list of
strings, ``training_summary`` a JSON object. Every problem raises :class:`ModelFileError`.

:func:`save` writes to a temporary file in the target's folder, syncs it to disk and renames it onto the
target, so an interrupted save leaves any earlier file untouched. It refuses (with :class:`ModelFileError`,
writing nothing) weights that hold NaN or infinite values unless asked to keep them, and metadata that
:func:`load` would refuse.

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

import json
import os
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from dllab.data.prepare import NORMALIZATIONS, Normalizer
from dllab.errors import DamagedFileError, DllabError, FileProblemError, reading
from dllab.files import atomic_write, open_regular, read_npz
from dllab.layers import MAX_INTEGER, Layer, shown
from dllab.losses import Loss
from dllab.model import DTYPES, Sequential, check_weights, weight_shapes
from dllab.optimizers import finite_number
from dllab.spec import SpecError, build_layers, parse_json

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
#: The statistics each kind of preprocessing stores (``Normalizer.to_dict``).
_STATISTICS = {"scale": ("low", "high"), "standardize": ("mean", "std")}


class ModelFileError(FileProblemError):
    """A model file that cannot be read or used: missing, damaged, foreign, or from a newer dllab."""

    KIND = "model file"


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
    from dllab.version import __version__

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


def save(model: Sequential, path: str | os.PathLike[str], *, allow_nonfinite: bool = False) -> Path:
    """Save a model (weights, running statistics, spec, preprocessing, class names) as a model file.

    Parameters
    ----------
    model
        The model to save.
    path
        Where to write; a name not ending in ``.npz`` is completed by :func:`model_file_path`
        (``"model"`` -> ``"model.dllab.npz"``).
    allow_nonfinite
        Write weights that hold NaN or infinite values too (a diverged model, kept to inspect it). By
        default such weights are refused.

    Returns
    -------
    Path
        The model file written (its name completed when it lacked ``.npz``).

    Raises
    ------
    ModelFileError
        When a parameter or running statistic holds NaN or infinite values (and ``allow_nonfinite`` is
        False), or the preprocessing, class names or training summary cannot be stored as JSON or would not
        be read back (see the module docstring); the message names the first such entry, and nothing is
        written.
    OSError
        When the file cannot be written; an existing file at the path is then left unchanged.
    """
    target = model_file_path(path)
    arrays = {**model.params, **model.state}
    keys = list(arrays)
    if METADATA_KEY in arrays:  # impossible with spec-built names, which have one dot and no "__dllab__"
        raise ModelFileError(target, f"is not written: the model has an array named {METADATA_KEY!r}")
    if not allow_nonfinite:
        for key, value in arrays.items():
            if not np.isfinite(value).all():
                raise ModelFileError(
                    target,
                    f"is not written: the weight array {key!r} holds NaN or infinite values "
                    "(save with allow_nonfinite=True to keep them)",
                )
    metadata = _metadata(model, keys)
    for field in ("preprocessing", "training_summary", "class_names"):
        try:
            text = json.dumps(metadata[field], default=json_default, allow_nan=True)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ModelFileError(
                target, f"is not written: the model's {field} cannot be stored as JSON ({exc})"
            ) from None
        try:
            problem = _FIELD_CHECKS[field](parse_json(text))
        except ValueError as exc:
            problem = f"a {field} that cannot be read back ({exc})"
        if problem is not None:
            raise ModelFileError(target, f"is not written: the model has {problem}")
    document = json.dumps(metadata, default=json_default, ensure_ascii=False, indent=1)
    contents = {key: np.ascontiguousarray(value) for key, value in arrays.items()}
    contents[METADATA_KEY] = np.frombuffer(document.encode("utf-8"), dtype=np.uint8)

    def write(file: IO[bytes]) -> None:
        np.savez(file, allow_pickle=False, **contents)

    return atomic_write(target, write)


# --- checking the metadata -------------------------------------------------------------------------------


def _preprocessing_problem(pre: Any) -> str | None:
    """What is wrong with a stored ``preprocessing`` entry (as a phrase after "has"), or ``None``.

    Valid is an empty object or what :meth:`dllab.data.Normalizer.to_dict` writes: ``kind``; ``input_shape``
    null or positive integers; for ``"scale"`` the lists ``low`` and ``high``, for ``"standardize"``
    ``mean`` and ``std`` (both or neither), of finite numbers, one per channel.
    """
    if not isinstance(pre, dict):
        return f"preprocessing that is a JSON {type(pre).__name__}, not an object"
    if not pre:
        return None
    kind = pre.get("kind")
    if not isinstance(kind, str) or kind not in NORMALIZATIONS:
        return f"preprocessing of unknown kind {shown(kind)} (known: {', '.join(NORMALIZATIONS)})"
    shape = pre.get("input_shape")
    if shape is not None and (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 32
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= MAX_INTEGER for d in shape)
    ):
        return (
            f"preprocessing with an input_shape that is not a short list of positive integers: {shown(shape)}"
        )
    names = _STATISTICS.get(kind, ())
    present = [name for name in names if name in pre]
    if present and len(present) != len(names):
        missing = next(name for name in names if name not in pre)
        return f"{kind} preprocessing with {present[0]!r} but no {missing!r}"
    lengths = set()
    for name in present:
        values = pre[name]
        if (
            not isinstance(values, list)
            or not values
            or not all(finite_number(v) is not None for v in values)
        ):
            return f"preprocessing whose {name!r} is not a list of finite numbers"
        lengths.add(len(values))
    if len(lengths) > 1:
        return f"preprocessing whose {' and '.join(map(repr, names))} differ in length"
    if lengths and shape is not None and lengths != {shape[0]}:
        return f"preprocessing with {lengths.pop()} statistics for inputs of shape {tuple(shape)}"
    try:  # how the statistics are used: the normaliser must rebuild from them
        Normalizer.from_dict(pre)
    except (DllabError, TypeError, ValueError) as exc:
        return f"preprocessing that cannot be used ({exc})"
    return None


def _class_names_problem(names: Any) -> str | None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return "class names that are not a list of strings"
    return None


def _training_summary_problem(summary: Any) -> str | None:
    if not isinstance(summary, dict):
        return f"a training summary that is a JSON {type(summary).__name__}, not an object"
    dataset = summary.get("dataset")
    if dataset is not None and not isinstance(dataset, str):
        return "a training summary whose 'dataset' is not a name"
    return None


#: What is wrong with each metadata entry a model carries (a phrase after "has"), or ``None``.
_FIELD_CHECKS = {
    "preprocessing": _preprocessing_problem,
    "class_names": _class_names_problem,
    "training_summary": _training_summary_problem,
}


def metadata_problem(field: str, value: Any) -> str | None:
    """What is wrong with a model's ``preprocessing``, ``class_names`` or ``training_summary`` (a phrase after
    "has"), or None; the same checks for a model file and an ONNX file's metadata."""
    check = _FIELD_CHECKS.get(field)
    return None if check is None else check(value)


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
    """Tell a damaged, foreign or empty file from an archive before the archive is read.

    The file is opened by :func:`dllab.files.open_regular`: a pipe or a device is refused unread.
    """
    with reading(lambda problem: ModelFileError(path, problem)), open_regular(path) as file:
        head = file.read(8)
        whole = bool(head) and zipfile.is_zipfile(file)
    if not head:
        raise ModelFileError(path, "is empty")
    if head.startswith(_NPY_MAGIC):
        raise ModelFileError(path, "holds a single NumPy array (.npy), not a dllab model")
    if head.startswith(_EMPTY_ZIP_MAGIC):
        raise ModelFileError(path, "is an empty archive, not a dllab model")
    if not head.startswith(_ZIP_MAGIC):
        raise ModelFileError(path, "is not a dllab model file (it is not a NumPy .npz archive)")
    if not whole:
        raise ModelFileError(
            path, "is damaged or incomplete (its archive directory is missing; was it cut short?)"
        )


def _read_document(raw: np.ndarray | None, path: Path) -> dict[str, Any]:
    """The checked metadata document, from the archive's ``METADATA_KEY`` array."""
    if raw is None:
        raise ModelFileError(
            path, f"is a NumPy archive but not a dllab model (it has no {METADATA_KEY!r} metadata document)"
        )
    if raw.dtype == np.uint8 and raw.ndim == 1:
        try:
            text = raw.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(path, "has a metadata document that is not UTF-8 text") from None
    elif raw.dtype.kind == "U" and raw.ndim == 0:
        text = str(raw[()])
    else:
        raise ModelFileError(
            path, f"has a metadata document of unexpected form ({raw.dtype} array of shape {raw.shape})"
        )
    try:
        document = parse_json(text)
    except ValueError as exc:
        raise ModelFileError(path, f"has a corrupt metadata document (invalid JSON: {exc})") from None
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
                f"was written by a newer dllab (format {shown(fmt)}; this dllab reads {FORMAT!r}), "
                "so update dllab",
            )
        raise ModelFileError(path, f"has an unknown format {shown(fmt)} (expected {FORMAT!r})")
    for field, kind in (("spec", dict), ("dtype", str), ("arrays", list)):
        if field not in document:
            raise ModelFileError(path, f"has a metadata document without its {field!r} entry")
        if not isinstance(document[field], kind):
            raise ModelFileError(path, f"has a metadata entry {field!r} of the wrong type")
    if not all(isinstance(k, str) for k in document["arrays"]):
        raise ModelFileError(path, "has a metadata 'arrays' list that is not all names")
    for field, check in _FIELD_CHECKS.items():
        problem = check(document[field]) if field in document else None
        if problem is not None:
            raise ModelFileError(path, f"has {problem}")
    try:
        dtype = np.dtype(document["dtype"])
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype not in DTYPES:  # (None compares equal to float64)
        raise ModelFileError(
            path, f"has an unsupported dtype {shown(document['dtype'])} (expected float32 or float64)"
        )


def _read_model(
    path: str | os.PathLike[str],
) -> tuple[Path, dict[str, Any], dict[str, np.ndarray], tuple[dict[str, Any], list[Layer], Loss]]:
    """Read and check a model file without building its network.

    Returns
    -------
    tuple
        The file read, its checked metadata document, the weight arrays it lists (each float32 or float64,
        each of the shape its network needs), and what :func:`dllab.spec.build_layers` gives for its spec
        (layers set up, nothing allocated).
    """
    file = _existing_path(path)
    _check_kind(file)
    try:
        arrays = read_npz(file)
    except DamagedFileError as exc:
        raise ModelFileError(file, exc.problem) from None
    document = _read_document(arrays.pop(METADATA_KEY, None), file)
    weights: dict[str, np.ndarray] = {}
    for key in document["arrays"]:
        if key not in arrays:
            raise ModelFileError(file, f"is missing the weight array {shown(key)}")
        value = arrays[key]
        if value.dtype not in DTYPES:
            raise ModelFileError(
                file,
                f"has a weight array {shown(key)} of type {value.dtype}, not floating point (float32 or float64)",
            )
        weights[key] = value
    try:
        built = build_layers(document["spec"])
    except SpecError as exc:
        raise ModelFileError(file, f"has a network spec that cannot be built ({exc})") from None
    try:
        check_weights(weight_shapes(built[1]), weights)
    except ValueError as exc:
        raise ModelFileError(file, f"does not fit its network: {exc}") from None
    return file, document, weights, built


def read_model_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata document of a model file, checked against its arrays without building the network.

    Parameters
    ----------
    path
        The model file (completed like :func:`load` does when it does not exist as given).

    Returns
    -------
    dict
        ``format``, ``dllab_version``, ``dtype``, ``spec`` (the canonical network spec, as :func:`load` gives
        it), ``preprocessing``,
        ``class_names``, ``training_summary`` and ``arrays`` (the stored array keys), plus ``path``: the
        file that was read, as a string. The spec builds, and its weights are the stored arrays' shapes.

    Raises
    ------
    ModelFileError
        When the file is missing, not a regular file, damaged, foreign, from a newer dllab, or its spec
        does not build or fit its arrays.
    """
    file, document, _, (canonical, _, _) = _read_model(path)
    document["spec"] = canonical
    document.setdefault("preprocessing", {})
    document.setdefault("class_names", [])
    document.setdefault("training_summary", {})
    document["path"] = str(file)
    return document


def load(path: str | os.PathLike[str]) -> Sequential:
    """Load a model file written by :func:`save`: the same network, weights and running statistics.

    Predictions of the loaded model are bit-identical to those of the saved one. Nothing in the file is
    unpickled or executed, and the network is built only once its arrays are known to fit it.

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
        With one sentence naming the file and the problem: missing, not a regular file, not an archive,
        damaged or cut short, larger than it may be, a foreign archive, a corrupt metadata document, a newer
        format, a spec that does not build, a missing or misshaped weight array, or a pickled object array.
    """
    file, document, weights, (canonical, layers, loss) = _read_model(path)
    model = Sequential(canonical, layers, loss, seed=0, dtype=np.dtype(document["dtype"]))
    try:
        model.set_weights(weights)
    except ValueError as exc:  # pragma: no cover - checked by _read_model
        raise ModelFileError(file, f"does not fit its network: {exc}") from None
    model.preprocessing = document.get("preprocessing", {})
    model.class_names = list(document.get("class_names", []))
    model.training_summary = document.get("training_summary", {})
    return model
