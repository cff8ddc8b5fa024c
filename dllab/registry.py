"""One registry per concept: layer types, losses, initialisers, optimizers and schedules, found by name.

A :class:`Registry` is a read-only mapping from names to classes (``"adam"`` -> :class:`~dllab.optimizers.Adam`)
in the order they were registered (the order an app lists them), and it makes objects: :meth:`Registry.create`
takes a name with keyword settings, a config dict (``{"type": "adam", "lr": 0.01}``, what ``get_config()``
gives) or an object already made. Whatever cannot be made is a :class:`~dllab.errors.SettingsError` of one
sentence naming the known names or the accepted settings.

>>> from dllab.optimizers import OPTIMIZERS
>>> OPTIMIZERS.create({"type": "Adam", "lr": 0.01})
Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0, clip_norm=None)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from dllab.errors import SettingsError
from dllab.settings import check_names, shown

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Mapping[str, type[T]], Generic[T]):
    """Classes of one concept by name, and the one way to make them from a name, a config or an object.

    As a mapping it behaves like a dict of its classes (``registry["adam"]``, ``"adam" in registry``,
    ``registry.get(name)`` for a class or None); names are exact there. :meth:`lookup` and :meth:`create`
    accept names in any case when ``ignore_case`` is set.

    Parameters
    ----------
    kind : str
        What the registry holds, for messages (``"optimizer"``, ``"layer type"``).
    classes : iterable of type
        Classes to register now, in order.
    key : str
        The class attribute holding a class's name (``"name"``; layers use ``"type_name"``).
    ignore_case : bool
        Whether :meth:`lookup` and :meth:`create` accept a name in any case (the names are then lower case).
    extra_keys : iterable of str
        Keywords a constructor takes besides its ``SETTINGS`` (a layer's ``"name"``).
    """

    def __init__(
        self,
        kind: str,
        classes: Iterable[type[T]] = (),
        *,
        key: str = "name",
        ignore_case: bool = False,
        extra_keys: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self._key = key
        self._ignore_case = ignore_case
        self._extra_keys = tuple(extra_keys)
        self._classes: dict[str, type[T]] = {}
        for cls in classes:
            self.register(cls)

    # --- the mapping ----------------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> type[T]:
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._classes)})"

    # --- registering and finding ----------------------------------------------------------------------------

    def register(self, cls: type[T]) -> type[T]:
        """Add ``cls`` under its name (usable as a class decorator); a name is registered once.

        Returns
        -------
        type
            ``cls``.
        """
        name = getattr(cls, self._key)
        if not isinstance(name, str) or not name or (self._ignore_case and name != name.lower()):
            raise ValueError(
                f"{cls.__name__} has no usable {self._key} for the {self.kind} registry: {name!r}"
            )
        if name in self._classes:
            raise ValueError(f"the {self.kind} {name!r} is registered already")
        self._classes[name] = cls
        return cls

    def names(self) -> list[str]:
        """The registered names, in order."""
        return list(self._classes)

    def lookup(self, name: Any) -> type[T]:
        """The class registered as ``name``.

        Raises
        ------
        SettingsError
            ``"unknown optimizer 'adamax' (known: sgd, momentum, ...)"`` for anything else.
        """
        key = name.lower() if isinstance(name, str) and self._ignore_case else name
        if isinstance(key, str) and key in self._classes:
            return self._classes[key]
        raise SettingsError(f"unknown {self.kind} {shown(name)} (known: {', '.join(self._classes)})")

    # --- making objects -------------------------------------------------------------------------------------

    def create(self, identifier: Any, /, **settings: Any) -> T:
        """An object from a name and its settings, from a config dict, or ``identifier`` itself.

        Each registry's module offers this method as its ``get`` (``optimizers.get("adam", lr=0.01)``,
        ``schedules.get``, ``losses.get``), documented here once.

        Parameters
        ----------
        identifier : str, Mapping or object
            A registered name; a config ``{"type": name, **settings}`` (not modified); or an object of a
            registered class, returned as it is.
        **settings
            Keyword settings of the class (with a name or a config); the others keep their defaults.

        Returns
        -------
        object
            The new object (or ``identifier``).

        Raises
        ------
        SettingsError
            For an unknown name, a config without a ``"type"``, a setting the class does not have, a value it
            refuses, or settings given with an object.
        """
        if isinstance(identifier, tuple(self._classes.values())):
            if settings:
                raise SettingsError(f"settings cannot be given with {self._a_kind} that is made already")
            return identifier
        if isinstance(identifier, Mapping):
            name, given = self._split_config(identifier)
            return self._make(name, {**given, **settings})
        return self._make(identifier, settings)

    def from_config(self, config: Any) -> T:
        """An object from a ``get_config()`` dict, ``{"type": name, **settings}`` (not modified).

        Each registry's module offers this method as its ``from_config`` (``optimizers.from_config``,
        ``schedules.from_config``).

        Raises
        ------
        SettingsError
            When ``config`` is not such a dict, or for anything :meth:`create` refuses.
        """
        return self._make(*self._split_config(config))

    @property
    def _a_kind(self) -> str:
        """``"an optimizer"``, ``"a schedule"``."""
        return f"{'an' if self.kind[:1] in 'aeiou' else 'a'} {self.kind}"

    def _split_config(self, config: Any) -> tuple[Any, dict[Any, Any]]:
        if not isinstance(config, Mapping) or "type" not in config:
            raise SettingsError(
                f"{self._a_kind.capitalize()} config must be a dict with a 'type' key, got {shown(config)}"
            )
        return config["type"], {k: v for k, v in config.items() if k != "type"}

    def _make(self, name: Any, settings: dict[Any, Any]) -> T:
        cls = self.lookup(name)
        check_names(getattr(cls, "SETTINGS", ()), settings, cls.__name__, extra=self._extra_keys)
        return cls(**settings)
