"""The weights that "Deep Learning from Scratch" publishes, read without running anything a file names.

The book ships its trained parameters as Python pickles of a ``dict`` of numpy arrays (``W1``, ``b1``, ...).
A plain :func:`pickle.load` runs whatever callable a crafted file names, so this module reads them with
:class:`RestrictedUnpickler`, which lets a pickle name exactly three globals: numpy's array reconstruction
(``numpy.core.multiarray._reconstruct``, ``numpy._core.multiarray._reconstruct`` in numpy 2), ``numpy.ndarray``
and ``numpy.dtype``. Even those are not handed out: the unpickler gives back recipes of its own, which take the
array's shape, type and bytes, check them and only then make an array with :func:`numpy.frombuffer`. Any
other global (``os.system``, ``builtins.eval``, ...) is refused before anything is called. Plain containers,
strings and numbers come without globals. A file is read only when it is a regular file of at most
:data:`MAX_FILE_SIZE` bytes; a truncated or corrupt pickle, a top level that is not a dict, or an entry that is
not a floating-point array is refused too, each with one :class:`BookWeightsError` sentence.

:func:`import_book_weights` recognises the network from the keys and shapes (or takes the one named) and makes
a dllab model of it:

========================  ==============================================================================
``neuralnet_mnist``       chapter 3: 784-50-100-10, sigmoid, softmax (``ch03_sample_weight.pkl``)
``SimpleConvNet``         chapter 7: conv 30x5x5, ReLU, max-pool 2x2, Affine 100, ReLU, Affine 10
``DeepConvNet``           chapter 8: six 3x3 convs (16, 16, 32, 32, 64, 64; pad 1, the fourth pad 2), ReLU,
                          a 2x2 max-pool after every second, Affine 50, ReLU, Dropout 0.5, Affine 10,
                          Dropout 0.5
========================  ==============================================================================

The book's ``Wi`` and ``bi`` go, in order, to the network's layers that have weights: the book's Affine ``W``
is ``(in, out)`` and its convolution ``W`` ``(filters, channels, kh, kw)``, the layouts dllab's ``Dense`` and
``Conv2D`` use, so the arrays are taken as they are. The model scales its inputs to [0, 1] (pixel / 255, as the
book's ``load_mnist(normalize=True)``) and names its classes "0" to "9".

The book's dropout is not inverted: it keeps values unscaled while training and multiplies them by
(1 - ratio) at inference, where dllab's dropout passes values through unchanged. So that the model predicts
what the book's does, the weights of the layer after each dropout are multiplied by (1 - ratio). A dropout
after the last layer (the DeepConvNet ends in one) scales the output scores themselves: then that last
layer's ``W`` and ``b`` are multiplied by (1 - ratio). The predicted classes do not depend on it, but the
softmax probabilities do, and they are the book's.

>>> result = import_book_weights("ch08_deep_convnet_params.pkl")       # doctest: +SKIP
>>> result.network, result.model.param_count                           # doctest: +SKIP
('DeepConvNet', 123552)
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dllab.errors import FileProblemError, SettingsError, quote, reading
from dllab.files import open_regular
from dllab.model import Sequential
from dllab.spec import SpecError, build_layers

#: The largest pickle read (the book's largest is 3.4 MB).
MAX_FILE_SIZE = 64 * 2**20
#: The most dimensions an array in a weights file may have.
MAX_DIMENSIONS = 8
#: The globals a weights file may name: numpy's array reconstruction (numpy 1 and 2), the array type and dtype.
ALLOWED_GLOBALS = (
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
)
#: The element types an array in a weights file may have (numpy's type codes as a pickle names them).
_TYPE_CODES = frozenset(f"{kind}{size}" for kind in "fiu" for size in (1, 2, 4, 8)) | {"b1"}
_BYTE_ORDERS = frozenset("<>|=")
#: What unpickling damaged bytes can raise.
_DAMAGE = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    struct.error,
    UnicodeDecodeError,
    OverflowError,
    MemoryError,
    RecursionError,
)
#: The classes of the book's networks, in the order recognition tries them.
CLASSES = [str(digit) for digit in range(10)]
#: How the book prepares MNIST for all three networks: pixels scaled to [0, 1].
PREPROCESSING = {"kind": "scale", "input_shape": [1, 28, 28], "low": [0.0], "high": [255.0]}


@dataclass(frozen=True)
class BookFile:
    """One of the weights files the book published, known by its SHA-256."""

    name: str
    network: str
    #: The MNIST test accuracy the book reports for it.
    accuracy: float


#: The files the book published, by SHA-256 of their bytes.
BOOK_FILES = {
    "b7f55a27988ba34c3777b0f1bbd464817c8a4db855723e6ff26f703501917a13": BookFile(
        "ch03_sample_weight.pkl", "neuralnet_mnist", 0.9352
    ),
    "290ab40c1b1218b392cdc155b633a5df642d829453702fa421ce5f3c6c55f779": BookFile(
        "ch07_params.pkl", "SimpleConvNet", 0.9890
    ),
    "8c81d1d6ddedd08c8277c957f3af30a91e455a1d65474ec2b5a0e3527b7422cc": BookFile(
        "ch08_deep_convnet_params.pkl", "DeepConvNet", 0.9935
    ),
}


class BookWeightsError(FileProblemError):
    """A weights file that cannot be read or used: not a pickle, damaged, unsafe, or not a network of the book."""

    KIND = "book weights file"


# --- reading the pickle ----------------------------------------------------------------------------------


class _Refused(Exception):
    """What a restricted unpickler refuses; the message is a phrase after the file's name."""


class _ArrayType:
    """What the pickle gets for ``numpy.ndarray``: a marker, not the type, so nothing can call it."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _ArrayType()


class _DtypeRecipe:
    """What the pickle's ``numpy.dtype(code, align, copy)`` makes: a plain numeric type, checked."""

    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(code, str) or code not in _TYPE_CODES:
            raise _Refused(f"holds an array of type {quote(code, 40)}, not a plain number type")
        self.dtype = np.dtype(code)

    def __setstate__(self, state: Any) -> None:
        # numpy writes (version, byte order, subarray, names, fields, item size, alignment, flags); a plain
        # number type has no subarray, names or fields.
        if not (
            isinstance(state, tuple)
            and len(state) in (8, 9)
            and state[1] in _BYTE_ORDERS
            and state[2:5] == (None, None, None)
        ):
            raise _Refused("holds a numpy type of unexpected form")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


class _ArrayRecipe:
    """What the pickle's ``_reconstruct(ndarray, shape, code)`` makes; its state gives the array."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        # numpy writes (version, shape, dtype, Fortran order, the bytes of the elements).
        if not (isinstance(state, tuple) and len(state) == 5):
            raise _Refused("holds an array of unexpected form")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DtypeRecipe):
            raise _Refused("holds an array without a number type")
        if not (
            isinstance(shape, tuple)
            and len(shape) <= MAX_DIMENSIONS
            and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise _Refused(f"holds an array of impossible shape {quote(shape, 60)}")
        if not isinstance(raw, bytes):
            raise _Refused("holds an array whose elements are not stored as bytes")
        size = math.prod(shape) * dtype.dtype.itemsize
        if size != len(raw):
            raise _Refused(f"holds an array of shape {shape} that needs {size:,} bytes but has {len(raw):,}")
        order = "F" if fortran else "C"
        flat = np.frombuffer(raw, dtype=dtype.dtype)
        self.array = np.array(
            flat.reshape(shape, order=order), dtype=dtype.dtype.newbyteorder("="), order="C"
        )


def _reconstruct(subtype: Any, shape: Any, code: Any) -> _ArrayRecipe:
    """numpy's ``_reconstruct`` as a weights file may use it: an empty array whose state comes next."""
    if subtype is not _NDARRAY:
        raise _Refused("asks numpy to make something other than a plain array")
    return _ArrayRecipe()


#: What each allowed global becomes inside the unpickler.
_STAND_INS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeRecipe,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that lets a file name only numpy's array reconstruction, ``ndarray`` and ``dtype``.

    Those three are replaced by stand-ins that check the shape, type and bytes of each array before making
    it; every other global a pickle names is refused before it is looked up, let alone called. Persistent
    ids are refused too.
    """

    def find_class(self, module: str, name: str) -> Any:
        """The stand-in for an allowed global; anything else raises before it is imported or called."""
        stand_in = _STAND_INS.get((module, name))
        if stand_in is None:
            raise _Refused(
                f"names {quote(f'{module}.{name}', 60)}, which is none of the globals a weights file may name "
                "(numpy's _reconstruct, ndarray and dtype), so it was refused before anything in it ran"
            )
        return stand_in

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused(
            "refers to objects outside itself (persistent ids), which a weights file has no need of"
        )


def read_book_weights(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], str]:
    """The arrays of a weights pickle, read by :class:`RestrictedUnpickler`, and the SHA-256 of its bytes.

    Parameters
    ----------
    path
        The ``.pkl`` file: a regular file of at most :data:`MAX_FILE_SIZE` bytes.

    Returns
    -------
    tuple
        ``{name: array}`` in the file's order (every array floating point, native byte order) and the file's
        SHA-256 as hex digits.

    Raises
    ------
    BookWeightsError
        When the file is missing, not a regular file, too large, empty, not a pickle, truncated or damaged,
        names a global other than the allowed three, or holds something else than a dict of floating-point
        arrays.
    """
    path = Path(path)
    with reading(lambda problem: BookWeightsError(path, problem)), open_regular(path) as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_SIZE:
            raise BookWeightsError(
                path, f"is {size:,} bytes, more than the {MAX_FILE_SIZE:,} bytes a weights file may have"
            )
        data = file.read(MAX_FILE_SIZE + 1)
    if not data:
        raise BookWeightsError(path, "is empty")
    if len(data) > MAX_FILE_SIZE:
        raise BookWeightsError(path, f"is more than the {MAX_FILE_SIZE:,} bytes a weights file may have")
    if data[:1] != b"\x80":
        raise BookWeightsError(path, "is not a Python pickle (it does not start like one)")
    try:
        top = RestrictedUnpickler(io.BytesIO(data)).load()
    except _Refused as exc:
        raise BookWeightsError(path, str(exc)) from None
    except _DAMAGE as exc:
        reason = " ".join(str(exc).split())[:80] or type(exc).__name__
        raise BookWeightsError(path, f"is damaged or cut short (unpickling failed: {reason})") from None
    return _arrays(top, path), hashlib.sha256(data).hexdigest()


def _arrays(top: Any, path: Path) -> dict[str, np.ndarray]:
    """The checked arrays of an unpickled weights dict."""
    if not isinstance(top, dict):
        raise BookWeightsError(path, f"holds a {_kind(top)}, not a dict of weight arrays")
    if not top:
        raise BookWeightsError(path, "holds an empty dict, no weights")
    arrays = {}
    for key, value in top.items():
        if not isinstance(key, str):
            raise BookWeightsError(path, f"has a key {quote(key, 40)} that is not a name")
        if not isinstance(value, _ArrayRecipe):
            raise BookWeightsError(
                path, f"has an entry {quote(key, 40)} that is a {_kind(value)}, not an array"
            )
        if value.array is None:
            raise BookWeightsError(path, f"has an entry {quote(key, 40)} whose array is incomplete")
        if value.array.dtype.kind != "f":
            raise BookWeightsError(
                path, f"has an entry {quote(key, 40)} of type {value.array.dtype}, not floating point"
            )
        if not np.isfinite(value.array).all():
            raise BookWeightsError(path, f"has an entry {quote(key, 40)} that holds NaN or infinite values")
        arrays[key] = value.array
    return arrays


def _kind(value: Any) -> str:
    """What an unpickled value is, in a word or two."""
    if isinstance(value, _ArrayRecipe):
        return "numpy array"
    if isinstance(value, _DtypeRecipe):
        return "numpy type"
    return type(value).__name__


# --- the book's networks ---------------------------------------------------------------------------------


def _book_spec(name: str, where: str, input_shape: list[int], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """The spec of the book's network ``name`` (``where``: where the book has it), a classifier of MNIST."""
    return {
        "name": name,
        "description": f"The book's {where} with its published weights.",
        "input_shape": input_shape,
        "layers": layers,
        "loss": "softmax_cross_entropy",
    }


def _neuralnet_mnist(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    layers = [
        {"type": "Dense", "units": shapes["b1"][0]},
        {"type": "Sigmoid"},
        {"type": "Dense", "units": shapes["b2"][0]},
        {"type": "Sigmoid"},
        {"type": "Dense", "units": shapes["b3"][0]},
    ]
    return _book_spec("neuralnet_mnist", "chapter 3 network (neuralnet_mnist.py)", [784], layers)


def _simple_conv_net(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    layers = [
        {"type": "Conv2D", "filters": shapes["b1"][0], "kernel_size": list(shapes["W1"][2:4])},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": shapes["b2"][0]},
        {"type": "ReLU"},
        {"type": "Dense", "units": shapes["b3"][0]},
    ]
    return _book_spec("SimpleConvNet", "SimpleConvNet (chapter 7)", [1, 28, 28], layers)


def _deep_conv_net(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    layers: list[dict[str, Any]] = []
    for i, padding in enumerate((1, 1, 1, 2, 1, 1), start=1):
        layers += [
            {"type": "Conv2D", "filters": shapes[f"b{i}"][0], "kernel_size": 3, "padding": padding},
            {"type": "ReLU"},
        ]
        if i % 2 == 0:
            layers.append({"type": "MaxPool2D", "pool_size": 2, "stride": 2})
    layers += [
        {"type": "Flatten"},
        {"type": "Dense", "units": shapes["b7"][0]},
        {"type": "ReLU"},
        {"type": "Dropout", "rate": 0.5},
        {"type": "Dense", "units": shapes["b8"][0]},
        {"type": "Dropout", "rate": 0.5},
    ]
    return _book_spec("DeepConvNet", "DeepConvNet (chapter 8)", [1, 28, 28], layers)


@dataclass(frozen=True)
class BookNetwork:
    """One of the book's networks: how many ``Wi``/``bi`` pairs it has and its spec for given shapes."""

    name: str
    chapter: int
    pairs: int
    #: The network spec for the arrays' shapes (units and filters are read from the biases).
    make_spec: Callable[[dict[str, tuple[int, ...]]], dict[str, Any]] = field(repr=False)

    @property
    def keys(self) -> list[str]:
        """The book's parameter names, ``W1, b1, ..., Wn, bn``."""
        return [f"{kind}{i}" for i in range(1, self.pairs + 1) for kind in "Wb"]


#: The book's networks whose weights it publishes, by name.
NETWORKS = {
    network.name: network
    for network in (
        BookNetwork("neuralnet_mnist", 3, 3, _neuralnet_mnist),
        BookNetwork("SimpleConvNet", 7, 3, _simple_conv_net),
        BookNetwork("DeepConvNet", 8, 8, _deep_conv_net),
    )
}


def network_named(name: str) -> BookNetwork:
    """The book's network called ``name`` (any case, ``-`` or ``_``).

    Raises
    ------
    SettingsError
        Naming the known networks, when there is none of that name.
    """
    wanted = name.strip().lower().replace("-", "_")
    for network in NETWORKS.values():
        if network.name.lower() == wanted:
            return network
    raise SettingsError(
        f"{quote(name, 40)} is not a network of the book whose weights dllab reads; those are "
        f"{', '.join(NETWORKS)}"
    )


def _fit_problem(network: BookNetwork, arrays: dict[str, np.ndarray]) -> tuple[str | None, Any]:
    """Why ``arrays`` are not ``network``'s weights (a phrase), or ``None`` and the built layers."""
    keys = network.keys
    if set(arrays) != set(keys):
        return f"holds {', '.join(sorted(arrays, key=_key_order))}, where it needs {', '.join(keys)}", None
    shapes = {key: tuple(int(d) for d in value.shape) for key, value in arrays.items()}
    for i in range(1, network.pairs + 1):
        if len(shapes[f"b{i}"]) != 1:
            return f"has b{i} of shape {shapes[f'b{i}']}, where a bias is a vector", None
    try:
        built = build_layers(network.make_spec(shapes))
    except (SpecError, IndexError) as exc:
        return f"has weights of shapes the network cannot have ({exc})", None
    for key, layer in zip(keys[::2], _weighted(built[1]), strict=True):
        for kind in "Wb":
            book = f"{kind}{key[1:]}"
            need = tuple(layer.param_shapes[kind])
            if shapes[book] != need:
                return f"has {book} of shape {shapes[book]}, where the network needs {need}", None
    return None, built


def _key_order(key: str) -> tuple[int, str]:
    digits = key[1:]
    return (int(digits) if digits.isdigit() else 10**9, key)


def _weighted(layers: list[Any]) -> list[Any]:
    """The layers that have weights, in order: where the book's ``W1, b1``, ``W2, b2``, ... go."""
    return [layer for layer in layers if layer.param_shapes]


def _dropout_scaled(layers: list[Any], weights: dict[str, np.ndarray]) -> None:
    """Scale ``weights`` (dllab keys) in place so that inverted dropout predicts what the book's dropout does.

    The book multiplies by (1 - ratio) at each dropout at inference. A layer with weights after a dropout
    computes ``(x * k) @ W + b = x @ (k W) + b`` (the layers between, ReLU, pooling and Flatten, commute with a
    positive factor): its ``W`` takes the factor. A dropout after the last such layer scales the output, so that
    layer's ``W`` and ``b`` take it.
    """
    for i, layer in enumerate(layers):
        if layer.type_name != "Dropout":
            continue
        keep = 1.0 - layer.options["rate"]
        after = _weighted(layers[i + 1 :])
        if after:
            weights[f"{after[0].name}.W"] *= keep
        else:
            before = _weighted(layers[:i])[-1]
            weights[f"{before.name}.W"] *= keep
            weights[f"{before.name}.b"] *= keep


# --- importing -------------------------------------------------------------------------------------------


@dataclass
class BookImport:
    """A weights file of the book, imported as a dllab model."""

    model: Sequential
    #: The network recognised (or named): a key of :data:`NETWORKS`.
    network: str
    path: Path
    sha256: str
    #: The book's file with this SHA-256, or ``None`` for other weights of the same network.
    book_file: BookFile | None

    def describe(self) -> str:
        """What was recognised, in one line: network, layers, parameter count, and the book's accuracy."""
        network = NETWORKS[self.network]
        model = self.model
        text = (
            f"{self.network} (chapter {network.chapter}): {len(model.layers)} layers, "
            f"{model.param_count:,} parameters ({model.dtype.name})"
        )
        if self.book_file is not None:
            text += (
                f"; the book's {self.book_file.name}, which scores {self.book_file.accuracy:.2%} on the MNIST "
                "test set in the book"
            )
        return text


def import_book_weights(path: str | os.PathLike[str], network: str | None = None) -> BookImport:
    """Read a weights file of the book and make a dllab model of its network.

    Parameters
    ----------
    path
        The pickle (e.g. ``ch08_deep_convnet_params.pkl``), read by :func:`read_book_weights`.
    network
        The network the weights are for (a key of :data:`NETWORKS`, any case); by default it is recognised
        from the keys and shapes.

    Returns
    -------
    BookImport
        The model (float64 when the file's arrays are, else float32; inputs scaled to [0, 1], classes "0" to
        "9", the data set named ``mnist``), what was recognised, and the file's SHA-256.

    Raises
    ------
    BookWeightsError
        When the file cannot be read safely (see :func:`read_book_weights`), the named network is unknown or
        does not fit the arrays, or no network of the book fits them.
    """
    path = Path(path)
    chosen = [network_named(network)] if network is not None else list(NETWORKS.values())
    arrays, digest = read_book_weights(path)
    problems = []
    for candidate in chosen:
        problem, built = _fit_problem(candidate, arrays)
        if problem is None:
            return _imported(candidate, built, arrays, path, digest)
        problems.append(problem)
    if network is not None:
        raise BookWeightsError(path, f"does not fit the network {chosen[0].name}: it {problems[0]}")
    held = ", ".join(
        f"{key} {tuple(arrays[key].shape)}" for key in sorted(arrays, key=_key_order)[:MAX_DIMENSIONS]
    )
    raise BookWeightsError(
        path,
        f"is not the weights of a network of the book ({', '.join(NETWORKS)}); it holds {held}"
        + (", ..." if len(arrays) > MAX_DIMENSIONS else ""),
    )


def _imported(
    network: BookNetwork, built: Any, arrays: dict[str, np.ndarray], path: Path, digest: str
) -> BookImport:
    canonical, layers, loss = built
    dtype = np.float64 if any(a.dtype == np.float64 for a in arrays.values()) else np.float32
    weights = {}
    for i, layer in enumerate(_weighted(layers), start=1):
        weights[f"{layer.name}.W"] = arrays[f"W{i}"].astype(dtype)
        weights[f"{layer.name}.b"] = arrays[f"b{i}"].astype(dtype)
    _dropout_scaled(layers, weights)
    model = Sequential(canonical, layers, loss, seed=0, dtype=dtype)
    model.set_weights(weights)
    model.preprocessing = dict(PREPROCESSING)
    model.class_names = list(CLASSES)
    book_file = BOOK_FILES.get(digest)
    summary: dict[str, Any] = {"dataset": "mnist", "imported_from": path.name, "sha256": digest}
    if book_file is not None:
        summary["book_test_accuracy"] = book_file.accuracy
    model.training_summary = summary
    return BookImport(model, network.name, path, digest, book_file)
