"""Augmentation: each transformation checked against an independent reference, seeded, shape-preserving."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dllab.data import Augmenter, DatasetError


def _batch(n: int = 16, seed: int = 0) -> np.ndarray:
    """Float images with a dark background and bright random blobs away from the border."""
    rng = np.random.default_rng(seed)
    x = np.full((n, 1, 28, 28), -0.4, dtype=np.float32)
    x[:, :, 6:22, 6:22] = rng.uniform(0.0, 2.0, (n, 1, 16, 16)).astype(np.float32)
    return x


def _shifted(img: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    out = np.full_like(img, fill)
    h, w = img.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = img[
        ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_disabled_returns_an_equal_copy() -> None:
    x = _batch()
    aug = Augmenter()
    assert not aug.enabled
    out = aug(x, np.random.default_rng(0))
    assert out is not x and np.array_equal(out, x)


def test_shifts_are_whole_pixel_translations_filled_with_background() -> None:
    x = _batch(40)
    out = Augmenter(shift=3)(x, np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    found = []
    for img, res in zip(x, out, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-3, 4)
            for dx in range(-3, 4)
            if np.array_equal(_shifted(img, dy, dx, -0.4), res)
        ]
        assert len(matches) == 1
        found.append(matches[0])
    assert len(set(found)) > 10  # many different shifts
    assert {dy for dy, _ in found} == set(range(-3, 4))


def test_flips_mirror_left_right_about_half_the_time() -> None:
    x = _batch(64)
    out = Augmenter(flip=True)(x, np.random.default_rng(2))
    mirrored = np.array([np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x, strict=True)])
    same = np.array([np.array_equal(o, i) for o, i in zip(out, x, strict=True)])
    assert np.all(mirrored ^ same)
    assert 16 < mirrored.sum() < 48


def test_rotation_is_exact_on_linear_ramps_and_within_bounds() -> None:
    """Bilinear interpolation reproduces a linear ramp exactly, so each sample's angle can be measured."""
    n = 60
    c = 13.5
    jj, ii = np.meshgrid(np.arange(28) - c, np.arange(28) - c)
    ramp = (jj + 100.0)[None, None].repeat(n, axis=0)  # intensity grows to the right
    out = Augmenter(rotation=25.0)(ramp, np.random.default_rng(3))[:, 0]
    inside = np.hypot(ii, jj) < 9  # never sampled from outside the image for |angle| <= 25°
    design = np.stack([jj[inside], ii[inside], np.ones(inside.sum())], axis=1)
    coef, _residual, *_ = np.linalg.lstsq(design, out[:, inside].T, rcond=None)
    fitted = design @ coef
    np.testing.assert_allclose(fitted, out[:, inside].T, atol=1e-3)
    angles = np.degrees(np.arctan2(coef[1], coef[0]))
    np.testing.assert_allclose(np.hypot(coef[0], coef[1]), 1.0, atol=1e-4)  # a rotation, no scaling
    assert np.all(np.abs(angles) <= 25.0 + 1e-3)
    assert angles.min() < -12 and angles.max() > 12  # spread over the range


def test_rotation_leaves_a_centred_disc_almost_unchanged() -> None:
    c = 13.5
    jj, ii = np.meshgrid(np.arange(28) - c, np.arange(28) - c)
    disc = np.clip(8.0 - np.hypot(ii, jj), 0, 1)[None, None].repeat(8, axis=0)
    out = Augmenter(rotation=45.0)(disc, np.random.default_rng(4))
    assert np.abs(out - disc).max() < 0.3 and np.abs(out - disc).mean() < 0.01
    assert abs(out.sum() - disc.sum()) / disc.sum() < 0.01


def test_noise_has_the_requested_spread() -> None:
    x = _batch(64)
    out = Augmenter(noise=0.25)(x, np.random.default_rng(5))
    diff = out - x
    assert diff.std() == pytest.approx(0.25, rel=0.05)
    assert abs(diff.mean()) < 0.01


def test_explicit_fill_value() -> None:
    x = _batch(8)
    out = Augmenter(shift=4, fill=7.0)(x, np.random.default_rng(0))
    assert np.any(out == 7.0) and not np.any(x == 7.0)


def test_seeded_and_input_untouched() -> None:
    x = _batch()
    before = x.copy()
    aug = Augmenter(shift=2, rotation=10, flip=True, noise=0.1)
    a = aug(x, np.random.default_rng(9))
    b = aug(x, np.random.default_rng(9))
    c = aug(x, np.random.default_rng(10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(x, before)


def test_flattened_batches_with_image_shape() -> None:
    x = _batch()
    aug = Augmenter(shift=2, rotation=10, image_shape=(1, 28, 28))
    flat = aug(x.reshape(len(x), -1), np.random.default_rng(1))
    assert flat.shape == (len(x), 784)
    np.testing.assert_array_equal(flat, aug(x, np.random.default_rng(1)).reshape(len(x), -1))
    with pytest.raises(DatasetError, match="no image_shape"):
        Augmenter(shift=1)(x.reshape(len(x), -1), np.random.default_rng(0))
    with pytest.raises(DatasetError, match="cannot view a batch of shape"):
        aug(np.zeros((2, 100), np.float32), np.random.default_rng(0))


def test_dtypes_are_kept() -> None:
    raw = (np.random.default_rng(0).random((4, 1, 28, 28)) * 255).astype(np.uint8)
    out = Augmenter(shift=2, rotation=10, noise=3.0)(raw, np.random.default_rng(0))
    assert out.dtype == np.uint8
    x64 = _batch(4).astype(np.float64)
    assert Augmenter(rotation=5)(x64, np.random.default_rng(0)).dtype == np.float64
    rgb = np.random.default_rng(1).random((3, 3, 8, 8)).astype(np.float32)
    out = Augmenter(flip=True, shift=1)(rgb, np.random.default_rng(0))
    assert out.shape == (3, 3, 8, 8)


def test_preview() -> None:
    x = _batch(3)
    aug = Augmenter(shift=3, rotation=15, image_shape=(1, 28, 28))
    one = aug.preview(x[0], 6, np.random.default_rng(0))
    assert one.shape == (6, 1, 28, 28)
    assert len({v.tobytes() for v in one}) == 6  # six different versions
    many = aug.preview(x, 4)
    assert many.shape == (4, 3, 1, 28, 28)
    flat = aug.preview(x[0].reshape(-1), 5)
    assert flat.shape == (5, 784)


def test_settings_round_trip_and_validation() -> None:
    aug = Augmenter(shift=2, rotation=12.5, flip=True, noise=0.1, image_shape=(1, 28, 28))
    again = Augmenter.from_dict(json.loads(json.dumps(aug.to_dict())))
    assert again.to_dict() == aug.to_dict() and again.enabled and "shift=2" in repr(again)
    assert Augmenter.from_dict({}).to_dict() == Augmenter().to_dict()
    for bad in ({"shift": -1}, {"shift": 1.5}, {"rotation": 200}, {"noise": -1}, {"image_shape": (28, 28)}):
        with pytest.raises(DatasetError):
            Augmenter(**bad)
    with pytest.raises(DatasetError, match="invalid augmentation settings"):
        Augmenter.from_dict({"rotation": "lots"})
