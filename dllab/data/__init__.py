"""Data sets for dllab: built in, downloaded and local, with splits, normalisation and augmentation.

No Qt here. Typical use::

    from dllab import data
    ds = data.load_dataset("mnist", progress=report, cancel=stop_event)
    prepared = data.prepare(ds, input_shape=(784,), val_fraction=0.1, normalization="scale", seed=0)
    augment = data.Augmenter(shift=2, rotation=10, image_shape=prepared.image_shape)
    for xb, yb in data.iterate_batches(prepared.x_train, prepared.y_train, 100, rng):
        ...
"""

from dllab.data.augment import Augmenter
from dllab.data.batching import iterate_batches, num_batches
from dllab.data.dataset import Dataset, DatasetError, LoadCancelled
from dllab.data.download import (
    CHECKSUMS,
    ENV_DATA_DIR,
    MIRRORS,
    DownloadCancelled,
    DownloadError,
    data_root,
    dataset_dir,
    download_dataset,
    download_file,
)
from dllab.data.idx import load_idx_folder, read_idx
from dllab.data.image_folder import IMAGE_COLORS, load_image_folder
from dllab.data.local import load_csv, load_npz
from dllab.data.prepare import NORMALIZATIONS, Normalizer, PreparedData, model_inputs, prepare, reshape_for
from dllab.data.registry import DATASET_NAMES, DatasetInfo, dataset_info, describe, load_dataset
from dllab.data.shapes import SHAPE_CLASSES, make_shapes
from dllab.data.shift import SHIFTS, shift_images
from dllab.data.split import stratified_split, subset_indices
from dllab.data.toy import make_toy

__all__ = [
    "CHECKSUMS",
    "DATASET_NAMES",
    "ENV_DATA_DIR",
    "IMAGE_COLORS",
    "MIRRORS",
    "NORMALIZATIONS",
    "SHAPE_CLASSES",
    "SHIFTS",
    "Augmenter",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DownloadCancelled",
    "DownloadError",
    "LoadCancelled",
    "Normalizer",
    "PreparedData",
    "data_root",
    "dataset_dir",
    "dataset_info",
    "describe",
    "download_dataset",
    "download_file",
    "iterate_batches",
    "load_csv",
    "load_dataset",
    "load_idx_folder",
    "load_image_folder",
    "load_npz",
    "make_shapes",
    "make_toy",
    "model_inputs",
    "num_batches",
    "prepare",
    "read_idx",
    "reshape_for",
    "shift_images",
    "stratified_split",
    "subset_indices",
]
