"""Image folders (one subfolder per class) as data sets: decoding, options, bad files, the cache, cancelling."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dllab
from dllab.data import (
    DatasetError,
    LoadCancelled,
    data_root,
    image_cache,
    image_folder,
    load_dataset,
    prepare,
)
from dllab.data.idx import load_idx_folder
from dllab.data.image_folder import load_image_folder, looks_like_image_folder
from dllab.experiment import DataSettings
from dllab.trainer import Finished, Trainer, TrainingConfig


def _save(path: Path, pixels: np.ndarray, fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, fmt)
    return path


def _grey_folder(root: Path, classes: int = 3, per_class: int = 10, side: int = 8) -> Path:
    rng = np.random.default_rng(0)
    for label in range(classes):
        for i in range(per_class):
            pixels = np.full((side, side), 40 * label, dtype=np.uint8) + rng.integers(
                0, 20, (side, side), np.uint8
            )
            _save(root / f"class{label}" / f"{i:03d}.png", pixels)
    return root


def _bomb_png() -> bytes:
    """A valid 1x1 PNG whose header declares 100,000 x 100,000 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", 100_000, 100_000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_class_names_come_from_the_folders_and_images_keep_their_pixels(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    dataset = load_image_folder(root)
    assert dataset.class_names == ["class0", "class1", "class2"]
    assert dataset.input_shape == (1, 8, 8)
    assert dataset.x_train.dtype == np.uint8
    assert len(dataset.x_train) + len(dataset.x_test) == 30
    assert len(dataset.x_test) == 6  # a stratified 20 % without a test/ folder
    assert np.bincount(dataset.y_test).tolist() == [2, 2, 2]
    with Image.open(root / "class2" / "000.png") as first:
        expected = np.asarray(first)
    assert any(np.array_equal(x[0], expected) for x in np.concatenate([dataset.x_train, dataset.x_test]))
    assert dataset.notes == ()


def test_train_and_test_folders_are_the_split(tmp_path):
    root = tmp_path / "split"
    _grey_folder(root / "train", per_class=4)
    _grey_folder(root / "test", classes=2, per_class=2)
    dataset = load_image_folder(root)
    assert (len(dataset.x_train), len(dataset.x_test)) == (12, 4)
    assert dataset.class_names == ["class0", "class1", "class2"]
    assert sorted(dataset.y_test.tolist()) == [0, 0, 1, 1]


def test_a_test_class_unknown_to_training_is_refused(tmp_path):
    root = tmp_path / "split"
    _grey_folder(root / "train", classes=2, per_class=2)
    _save(root / "test" / "zebra" / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match="'zebra' is not one of the training set's 2 classes"):
        load_image_folder(root)


def test_colour_is_inferred_and_can_be_chosen(tmp_path):
    root = tmp_path / "colour"
    rng = np.random.default_rng(1)
    for label in ("red", "blue"):
        for i in range(5):
            _save(root / label / f"{i}.jpg", rng.integers(0, 255, (6, 6, 3), np.uint8), "JPEG")
    assert load_image_folder(root).input_shape == (3, 6, 6)
    assert load_image_folder(root, color="grayscale").input_shape == (1, 6, 6)
    grey = _grey_folder(tmp_path / "grey")
    assert load_image_folder(grey, color="rgb").input_shape == (3, 8, 8)


def test_grey_palettes_and_gif_bmp_count_as_grey(tmp_path):
    root = tmp_path / "formats"
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8)
    for i in range(5):
        Image.fromarray(pixels).convert("P").save(_dir(root / "a") / f"{i}.png")
        _save(root / "b" / f"{i}.gif", pixels, "GIF")
        _save(root / "c" / f"{i}.bmp", pixels, "BMP")
    dataset = load_image_folder(root)
    assert dataset.input_shape == (1, 8, 8)
    assert dataset.notes == ()


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_most_common_size_is_the_default_and_a_size_can_be_chosen(tmp_path):
    root = tmp_path / "sizes"
    for label in ("a", "b"):
        for i in range(4):
            _save(root / label / f"{i}.png", np.zeros((10, 12), np.uint8))
        _save(root / label / "odd.png", np.full((30, 30), 255, np.uint8))
    dataset = load_image_folder(root)
    assert dataset.input_shape == (1, 10, 12)
    odd = np.concatenate([dataset.x_train, dataset.x_test]).max(axis=(1, 2, 3))
    assert (odd == 255).sum() == 2  # the odd ones resized, not dropped
    assert load_image_folder(root, size=5).input_shape == (1, 5, 5)
    assert load_image_folder(root, size=(4, 6)).input_shape == (1, 4, 6)
    with pytest.raises(DatasetError, match="image size"):
        load_image_folder(root, size=0)


def test_large_common_sizes_are_scaled_down_by_default(tmp_path):
    root = tmp_path / "large"
    for label in ("a", "b"):
        for i in range(3):
            _save(root / label / f"{i}.png", np.zeros((300, 150), np.uint8))
    assert load_image_folder(root).input_shape == (1, image_folder.MAX_DEFAULT_SIDE, 64)


def test_bad_files_are_skipped_and_listed_in_one_line(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    good = (root / "class0" / "000.png").read_bytes()
    (root / "class0" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "class1" / "notes.txt").write_text("not an image")
    (root / "class1" / "empty.jpg").write_bytes(b"")
    (root / "class2" / "bomb.png").write_bytes(_bomb_png())
    (root / "class2" / "link.png").symlink_to(root / "class0" / "000.png")
    (root / "class2" / ".DS_Store").write_bytes(b"\0\0")
    os.mkfifo(root / "class2" / "pipe.png")  # reading it would block forever
    dataset = load_image_folder(root)
    assert len(dataset.x_train) + len(dataset.x_test) == 30
    (note,) = dataset.notes
    assert "\n" not in note
    assert note.startswith("skipped 6 of 36 files that are not readable images: ")
    assert note.endswith("; and 1 more")
    assert "class0/truncated.png (truncated)" in note
    assert "class1/notes.txt (not a PNG, JPEG, BMP or GIF image)" in note
    assert "class2/link.png (a link, not followed)" in note
    assert "class2/bomb.png (" in note
    assert ".DS_Store" not in note


def test_a_linked_class_folder_is_not_followed(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    outside = _grey_folder(tmp_path / "outside", classes=1)
    (root / "linked").symlink_to(outside / "class0", target_is_directory=True)
    dataset = load_image_folder(root)
    assert dataset.class_names == ["class0", "class1", "class2"]
    assert "linked (a link, not followed)" in dataset.notes[0]


def test_a_single_class_an_empty_class_and_no_classes_are_clear_errors(tmp_path):
    single = _grey_folder(tmp_path / "single", classes=1)
    with pytest.raises(DatasetError, match="single class folder 'class0'; a classifier needs at least two"):
        load_image_folder(single)
    empty = _grey_folder(tmp_path / "empty", classes=2)
    (empty / "class9").mkdir()
    (empty / "class9" / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(
        DatasetError, match=r"class folder 'class9' holds no readable images \(skipped 1 of 21"
    ):
        load_image_folder(empty)
    (tmp_path / "none").mkdir()
    with pytest.raises(DatasetError, match="holds no class subfolders of images"):
        load_image_folder(tmp_path / "none")


def test_progress_is_reported_and_cancel_keeps_nothing(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    reports = []
    load_image_folder(root, progress=lambda done, total, message: reports.append((done, total, message)))
    assert reports and reports[-1][0] == reports[-1][1]
    assert "Decoding images (30 files)" in {message for _, _, message in reports}
    other = _grey_folder(tmp_path / "other")
    with pytest.raises(LoadCancelled, match="cancelled"):
        load_image_folder(other, cancel=lambda: True)
    assert len(list((data_root() / image_cache.CACHE_FOLDER).iterdir())) == 1


def test_load_dataset_and_data_settings_take_an_image_folder(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    assert looks_like_image_folder(root)
    assert not looks_like_image_folder(tmp_path)
    assert load_dataset(root, image_size=4).input_shape == (1, 4, 4)
    settings = DataSettings(str(root), image_color="rgb", image_size=(6, 5))
    again = DataSettings.from_dict(settings.to_dict())
    assert again == settings
    assert again.load().input_shape == (3, 6, 5)
    assert "image_size" not in DataSettings(str(root)).to_dict()


@pytest.fixture(scope="module")
def mnist_image_folder(mnist_dir, tmp_path_factory):
    """3,000 training and 1,000 test images of the real MNIST as PNG files, and the IDX arrays in the order
    the folder lists them (by class, then by file name)."""
    mnist = load_idx_folder(mnist_dir)
    root = tmp_path_factory.mktemp("images") / "mnist-png"
    arrays = {}
    for part, x, y in (
        ("train", mnist.x_train[:3000], mnist.y_train[:3000]),
        ("test", mnist.x_test[:1000], mnist.y_test[:1000]),
    ):
        for i, (pixels, label) in enumerate(zip(x, y, strict=True)):
            _save(root / part / str(label) / f"{i:05d}.png", pixels[0])
        order = np.argsort(y, kind="stable")
        arrays[part] = (x[order], y[order])
    return root, arrays


@pytest.mark.slow
def test_a_folder_of_mnist_pngs_trains_as_the_idx_arrays_do(mnist_image_folder, request):
    root, arrays = mnist_image_folder
    folder = load_dataset(root)
    assert folder.class_names == [str(d) for d in range(10)]
    assert np.array_equal(folder.x_train, arrays["train"][0])
    assert np.array_equal(folder.y_train, arrays["train"][1])
    assert np.array_equal(folder.x_test, arrays["test"][0])
    idx = dllab.data.Dataset("idx", *arrays["train"], *arrays["test"], class_names=folder.class_names)

    def accuracy(dataset):
        prepared = prepare(dataset, input_shape=(784,), val_fraction=0.0, normalization="standardize", seed=0)
        model = dllab.build(f"{request.config.rootpath}/assets/networks/two_layer_net.json", seed=0)
        config = TrainingConfig(optimizer="sgd", lr=0.1, batch_size=100, epochs=3, stats_every=0)
        finished = list(Trainer(model, prepared, config).run())[-1]
        assert isinstance(finished, Finished)
        return finished.test_accuracy

    from_folder, from_idx = accuracy(folder), accuracy(idx)
    assert from_folder == from_idx
    assert from_folder > 0.8


def test_a_folder_of_class_folders_without_images_says_what_it_lacks(tmp_path):
    root = tmp_path / "scans"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        (root / label / "scan.tif").write_bytes(b"II*\0 not really")
    with pytest.raises(
        DatasetError, match=r"class folder 'a' holds no readable images \(skipped 2 of 2 files"
    ):
        load_dataset(root)
