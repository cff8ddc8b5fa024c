"""The book's published weights: read without running anything a file names, recognised, and scoring the book's
accuracies on the real MNIST test set."""

from __future__ import annotations

import builtins
import hashlib
import os
import pickle
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from dllab.book_weights import (
    BOOK_FILES,
    NETWORKS,
    BookWeightsError,
    import_book_weights,
    read_book_weights,
)
from dllab.data import Normalizer, load_dataset
from dllab.errors import DllabError, SettingsError
from dllab.metrics import evaluate
from dllab.model import Sequential
from dllab.spec import build_layers

#: The files of the book, their networks, parameter counts and MNIST test accuracies (the data folder's README).
BOOK = {
    "ch03_sample_weight.pkl": ("neuralnet_mnist", 45_360, 9352),
    "ch07_params.pkl": ("SimpleConvNet", 433_890, 9890),
    "ch08_deep_convnet_params.pkl": ("DeepConvNet", 123_552, 9935),
}


def _write(path: Path, value: object, protocol: int = 3) -> Path:
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    return path


def _simple_conv_weights(rng: np.random.Generator, filters: int = 30) -> dict[str, np.ndarray]:
    """Weights of the shapes of a SimpleConvNet with ``filters`` filters of 5x5 (random values)."""
    shapes = {
        "W1": (filters, 1, 5, 5),
        "b1": (filters,),
        "W2": (filters * 12 * 12, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    return {key: rng.normal(size=shape) for key, shape in shapes.items()}


# --- the book's files ------------------------------------------------------------------------------------


def test_the_checksums_are_those_the_book_published(book_weights_dir: Path) -> None:
    readme = (book_weights_dir / "README.md").read_text(encoding="utf-8")
    for digest, book_file in BOOK_FILES.items():
        assert f"| {book_file.name} | {digest} |" in readme
        arrays, read_digest = read_book_weights(book_weights_dir / book_file.name)
        assert (
            read_digest
            == digest
            == hashlib.sha256((book_weights_dir / book_file.name).read_bytes()).hexdigest()
        )
        assert all(isinstance(value, np.ndarray) and value.dtype.kind == "f" for value in arrays.values())


@pytest.mark.parametrize("name", list(BOOK))
def test_each_file_is_recognised_as_its_network(book_weights_dir: Path, name: str) -> None:
    network, parameters, accuracy = BOOK[name]
    result = import_book_weights(book_weights_dir / name)
    assert result.network == network
    assert result.model.param_count == parameters
    assert result.book_file is not None and round(result.book_file.accuracy * 10_000) == accuracy
    assert result.model.class_names == [str(d) for d in range(10)]
    assert result.model.preprocessing["kind"] == "scale"
    assert network in result.describe() and f"{parameters:,} parameters" in result.describe()
    # Naming the network gives the same model; naming another is refused in one sentence.
    assert import_book_weights(book_weights_dir / name, network.lower()).network == network
    other = next(n for n in NETWORKS if n != network)
    with pytest.raises(BookWeightsError, match=f"does not fit the network {other}"):
        import_book_weights(book_weights_dir / name, other)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BOOK))
def test_each_file_scores_the_books_accuracy_on_mnist(
    book_weights_dir: Path, mnist_dir: Path, name: str
) -> None:
    model = import_book_weights(book_weights_dir / name).model
    data = load_dataset(mnist_dir)
    x = Normalizer.from_dict(model.preprocessing).transform(data.x_test).reshape(-1, *model.input_shape)
    evaluation = evaluate(model, x, data.y_test)
    assert int(np.trace(evaluation.confusion)) == BOOK[name][2]  # 9352, 9890, 9935 of 10,000


def test_the_book_dropout_is_reproduced_by_scaling_the_weights_after_it(book_weights_dir: Path) -> None:
    """The book's DeepConvNet multiplies by 0.5 at both dropouts at inference; the imported model, whose dropout
    passes values through, gives the same scores."""
    path = book_weights_dir / "ch08_deep_convnet_params.pkl"
    imported = import_book_weights(path).model
    raw, _ = read_book_weights(path)
    canonical, layers, loss = build_layers(imported.spec)
    unscaled = Sequential(canonical, layers, loss, dtype=np.float64)
    weighted = [layer for layer in unscaled.layers if layer.param_shapes]
    unscaled.set_weights(
        {f"{layer.name}.{kind}": raw[f"{kind}{i}"] for i, layer in enumerate(weighted, 1) for kind in "Wb"}
    )
    x = np.random.default_rng(0).random((5, 1, 28, 28))
    out = unscaled._as_input(x)
    for layer in unscaled.layers:
        out = layer.forward(out, False)
        if layer.type_name == "Dropout":
            out = out * 0.5  # the book's Dropout.forward(train_flg=False)
    np.testing.assert_allclose(imported.forward(x), out, rtol=1e-12, atol=1e-12)
    assert not np.allclose(unscaled.forward(x), out)  # without the scaling the scores differ


def test_an_unknown_network_name_is_refused(book_weights_dir: Path) -> None:
    with pytest.raises(SettingsError, match=r"'LeNet' is not a network of the book.*DeepConvNet"):
        import_book_weights(book_weights_dir / "ch07_params.pkl", "LeNet")


# --- recognising networks from shapes ---------------------------------------------------------------------


def test_other_widths_of_a_book_network_are_recognised(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    weights = _simple_conv_weights(rng, filters=8)
    result = import_book_weights(_write(tmp_path / "w.pkl", weights))
    assert result.network == "SimpleConvNet" and result.book_file is None
    assert result.model.layers[0].options["filters"] == 8
    np.testing.assert_array_equal(result.model.params["conv2d_1.W"], weights["W1"])
    np.testing.assert_array_equal(result.model.params["dense_1.W"], weights["W2"])
    assert result.model.dtype == np.float64


def test_weights_of_no_book_network_are_refused_with_what_they_hold(tmp_path: Path) -> None:
    weights = _simple_conv_weights(np.random.default_rng(0))
    weights["W2"] = weights["W2"][:100]
    with pytest.raises(
        BookWeightsError, match=r"not the weights of a network of the book .* W2 \(100, 100\)"
    ):
        import_book_weights(_write(tmp_path / "w.pkl", weights))
    with pytest.raises(
        BookWeightsError, match=r"has W2 of shape \(100, 100\), where the network needs \(4320, 100\)"
    ):
        import_book_weights(tmp_path / "w.pkl", "SimpleConvNet")


def test_big_endian_and_fortran_arrays_are_read_as_their_values(tmp_path: Path) -> None:
    values = np.arange(6.0).reshape(2, 3)
    path = _write(
        tmp_path / "w.pkl",
        {
            "big": values.astype(">f8"),
            "fortran": np.asfortranarray(values),
            "half": values.astype(np.float16),
        },
        protocol=4,
    )
    arrays, _ = read_book_weights(path)
    for key, array in arrays.items():
        np.testing.assert_array_equal(array, values, err_msg=key)
        assert array.dtype.isnative and array.flags.c_contiguous and array.flags.writeable


# --- files that are refused -------------------------------------------------------------------------------


class _System:
    """Unpickled by a plain ``pickle.load``, it runs a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


class _Exec:
    """Unpickled by a plain ``pickle.load``, it runs Python code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return builtins.exec, (self.code,)


@pytest.mark.parametrize("kind", ["system", "exec", "top level"])
def test_a_pickle_that_runs_code_is_refused_and_runs_nothing(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "ran"
    payload = (
        _Exec(f"open({str(marker)!r}, 'w').close()")
        if kind == "exec"
        else _System(f"touch {shlex.quote(str(marker))}")
    )
    path = _write(
        tmp_path / "evil.pkl", payload if kind == "top level" else {"W1": np.zeros(3), "W2": payload}
    )
    with pytest.raises(
        BookWeightsError, match=r"names '(posix|builtins)\.(system|exec)'.*refused before anything"
    ):
        import_book_weights(path)
    assert not marker.exists()
    # The same bytes read by a plain pickle.load do run the command: the refusal is what kept it from running.
    pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([np.zeros(3)], "holds a list, not a dict of weight arrays"),
        (np.zeros(3), "holds a numpy array, not a dict"),
        ({}, "holds an empty dict"),
        ({"W1": "weights"}, "entry 'W1' that is a str, not an array"),
        ({"W1": [1.0, 2.0]}, "entry 'W1' that is a list, not an array"),
        ({1: np.zeros(3)}, "key 1 that is not a name"),
        ({"W1": np.zeros(3, dtype=np.int64)}, "entry 'W1' of type int64, not floating point"),
        ({"W1": np.array([1, "a"], dtype=object)}, "array of type 'O8', not a plain number type"),
        ({"W1": np.zeros(2, dtype=[("a", "f8")])}, "array of type 'V8', not a plain number type"),
        ({"W1": np.array([1.0, np.inf])}, "entry 'W1' that holds NaN or infinite values"),
        ({"W1": np.float64(1.0)}, "names 'numpy._core.multiarray.scalar'"),
    ],
)
def test_contents_other_than_a_dict_of_float_arrays_are_refused(
    tmp_path: Path, value: object, problem: str
) -> None:
    with pytest.raises(BookWeightsError, match=re.escape(problem)):
        read_book_weights(_write(tmp_path / "w.pkl", value))


def test_a_truncated_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    whole = pickle.dumps(_simple_conv_weights(np.random.default_rng(0)), protocol=3)
    for cut in (len(whole) // 2, len(whole) - 1, 3):
        (tmp_path / "cut.pkl").write_bytes(whole[:cut])
        with pytest.raises(BookWeightsError, match="is damaged or cut short") as caught:
            import_book_weights(tmp_path / "cut.pkl")
        assert "\n" not in str(caught.value)


def test_the_books_file_cut_short_is_refused(book_weights_dir: Path, tmp_path: Path) -> None:
    data = (book_weights_dir / "ch07_params.pkl").read_bytes()
    (tmp_path / "ch07.pkl").write_bytes(data[: len(data) // 3])
    with pytest.raises(BookWeightsError, match=r"'.*ch07\.pkl' is damaged or cut short"):
        import_book_weights(tmp_path / "ch07.pkl")


def test_an_array_whose_bytes_do_not_match_its_shape_is_refused(tmp_path: Path) -> None:
    data = pickle.dumps({"W1": np.zeros((2, 3))}, protocol=3)
    # The shape tuple (2, 3) is written as BININT1 2, BININT1 3; claim 3 x 3 for the 48 bytes of 2 x 3.
    forged = data.replace(b"K\x02K\x03\x86", b"K\x03K\x03\x86")
    assert forged != data
    (tmp_path / "w.pkl").write_bytes(forged)
    with pytest.raises(BookWeightsError, match=r"shape \(3, 3\) that needs 72 bytes but has 48"):
        read_book_weights(tmp_path / "w.pkl")


def test_persistent_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "w.pkl").write_bytes(b"\x80\x03X\x01\x00\x00\x00aQ.")  # PROTO 3, a string, BINPERSID, STOP
    with pytest.raises(BookWeightsError, match="persistent ids"):
        read_book_weights(tmp_path / "w.pkl")


def test_empty_foreign_missing_and_non_regular_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.pkl").write_bytes(b"")
    (tmp_path / "text.pkl").write_text("W1 = [1, 2]")
    cases = {
        tmp_path / "empty.pkl": "is empty",
        tmp_path / "text.pkl": "is not a Python pickle",
        tmp_path / "missing.pkl": "does not exist",
        tmp_path: "is a folder",
    }
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.pkl")
        cases[tmp_path / "fifo.pkl"] = "is not a regular file"
    for path, problem in cases.items():
        with pytest.raises(BookWeightsError, match=problem):
            read_book_weights(path)


def test_a_file_larger_than_the_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dllab.book_weights as book_weights

    path = _write(tmp_path / "w.pkl", {"W1": np.zeros(1000)})
    monkeypatch.setattr(book_weights, "MAX_FILE_SIZE", 4000)
    with pytest.raises(BookWeightsError, match=r"is 8,.* bytes, more than the 4,000 bytes"):
        read_book_weights(path)


def test_every_refusal_is_a_dllab_error_of_one_sentence(tmp_path: Path) -> None:
    path = _write(tmp_path / "evil.pkl", _System("true"))
    with pytest.raises(DllabError) as caught:
        import_book_weights(path)
    assert str(caught.value).startswith(f"book weights file {str(path)!r} names")
    assert "\n" not in str(caught.value)
