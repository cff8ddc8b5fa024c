"""The cache of decoded image folders: a second load reads it, a changed file or a damaged cache decodes again."""

from __future__ import annotations

import os

import numpy as np

from dllab.data import data_root, image_cache, image_folder
from dllab.data.image_folder import load_image_folder
from tests.engine.data.test_image_folder import _grey_folder, _save


def test_the_second_load_reads_the_cache_and_a_changed_file_is_decoded_again(tmp_path, monkeypatch):
    root = _grey_folder(tmp_path / "greys")
    first = load_image_folder(root)
    (cache,) = (data_root() / image_cache.CACHE_FOLDER).iterdir()
    assert cache.suffix == ".npz"

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the cache holds the images")

    with monkeypatch.context() as patch:
        patch.setattr(image_folder, "_decode_all", no_decoding)
        second = load_image_folder(root)
    assert np.array_equal(first.x_train, second.x_train)
    assert np.array_equal(first.y_test, second.y_test)
    changed = root / "class1" / "000.png"
    _save(changed, np.full((8, 8), 7, np.uint8))
    os.utime(changed, ns=(1, 1))
    third = load_image_folder(root)
    everything = np.concatenate([third.x_train, third.x_test])
    assert any((x == 7).all() for x in everything)


def test_a_damaged_cache_is_decoded_again(tmp_path):
    root = _grey_folder(tmp_path / "greys")
    load_image_folder(root)
    (cache,) = (data_root() / image_cache.CACHE_FOLDER).iterdir()
    cache.write_bytes(b"garbage")
    assert len(load_image_folder(root).x_train) == 24
