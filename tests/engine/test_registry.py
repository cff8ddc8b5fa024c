"""The registry: one way to find a class by name and make an object from a name, a config or an object."""

import pytest

from dllab import initializers, losses, optimizers, schedules
from dllab.errors import SettingsError
from dllab.layers import Dense
from dllab.registry import Registry
from dllab.settings import Configurable, Setting
from dllab.spec import LAYER_TYPES
from tests.engine.user_errors import LONG, assert_settings_error


class Sharp(Configurable):
    name = "sharp"
    SETTINGS = (Setting("amount", "float", 1.0, "How sharp.", minimum=0.0),)


class Soft(Configurable):
    name = "soft"


def make() -> Registry[Configurable]:
    return Registry("filter", (Sharp, Soft), ignore_case=True)


def test_a_registry_is_a_mapping_of_its_classes_in_order():
    registry = make()
    assert list(registry) == registry.names() == ["sharp", "soft"] and len(registry) == 2
    assert registry["sharp"] is Sharp and "soft" in registry
    assert registry.get("blunt") is None and registry.get("Sharp") is None  # names are exact here
    assert dict(registry.items()) == {"sharp": Sharp, "soft": Soft}


def test_create_from_a_name_a_config_or_an_object():
    registry = make()
    sharp = registry.create("SHARP", amount=2)
    assert type(sharp) is Sharp and sharp.amount == 2.0
    assert registry.create({"type": "sharp", "amount": 3}).amount == 3.0
    assert registry.create({"type": "sharp", "amount": 3}, amount=4).amount == 4.0
    assert registry.create(sharp) is sharp
    config = sharp.get_config()
    assert config == {"type": "sharp", "amount": 2.0}
    assert registry.from_config(config).get_config() == config and config == {"type": "sharp", "amount": 2.0}
    assert type(registry.lookup("Soft")) is type and registry.lookup("Soft") is Soft


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.create("blunt"), "unknown filter 'blunt' (known: sharp, soft)"),
        (lambda r: r.create(None), "unknown filter None (known: sharp, soft)"),
        (lambda r: r.create(LONG), "unknown filter 'xxx"),
        (lambda r: r.create("sharp", radius=1), "Sharp: unknown setting 'radius' (allowed: amount)"),
        (lambda r: r.create("soft", amount=1), "Soft: unknown setting 'amount' (allowed: no settings)"),
        (lambda r: r.create("sharp", amount=-1), "Sharp: amount must be at least 0, got -1"),
        (
            lambda r: r.create({"amount": 1}),
            "A filter config must be a dict with a 'type' key, got {'amount': 1}",
        ),
        (lambda r: r.from_config(["sharp"]), "A filter config must be a dict with a 'type' key"),
        (lambda r: r.from_config({"type": "sharp", 1: 2}), "Sharp: unknown setting 1"),
        (
            lambda r: r.create(Sharp(), amount=1),
            "settings cannot be given with a filter that is made already",
        ),
    ],
)
def test_what_cannot_be_made_is_one_sentence_naming_what_is_known(call, message):
    assert_settings_error(lambda: call(make()), message)


def test_registering_twice_or_without_a_name_is_a_bug():
    registry = make()
    with pytest.raises(ValueError, match="registered already"):
        registry.register(Sharp)
    with pytest.raises(ValueError, match="no usable name"):
        registry.register(Configurable)


def test_every_concept_has_its_registry():
    assert LAYER_TYPES.kind == "layer type" and LAYER_TYPES.lookup("Conv2D").type_name == "Conv2D"
    layer = LAYER_TYPES.create({"type": "Dense", "units": 3, "name": "out"})
    assert isinstance(layer, Dense) and layer.name == "out" and layer.options["units"] == 3
    with pytest.raises(SettingsError, match="unknown layer type 'dense'"):  # spec names are exact
        LAYER_TYPES.create("dense")
    assert type(losses.get("mse")) is losses.MeanSquaredError and list(losses.LOSSES)[-1] == "mse"
    assert list(initializers.INITIALIZERS) == ["he", "xavier", "he_uniform", "xavier_uniform"]
    assert initializers.INITIALIZERS.create("He").standard_deviation(8) == 0.5
    assert type(optimizers.get("AdamW")) is optimizers.AdamW
    assert type(schedules.get("Cosine")) is schedules.CosineDecay
