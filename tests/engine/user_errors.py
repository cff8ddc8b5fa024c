"""What the tests of bad settings share: a huge input, and the check that an error is one short sentence."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from dllab.errors import QUOTE_LIMIT, SettingsError

#: A 5000-character value: a message quotes it cut short.
LONG = "x" * 5000
#: The longest message a bad setting may give: a quoted value and at most 150 characters of text.
MAX_MESSAGE = QUOTE_LIMIT + 150


def assert_one_short_line(error: BaseException) -> None:
    """``error``'s message is one line of at most :data:`MAX_MESSAGE` characters."""
    message = str(error)
    assert message and "\n" not in message and len(message) <= MAX_MESSAGE, message


def assert_settings_error(make: Callable[[], Any], shown: str) -> None:
    """``make()`` raises a :class:`SettingsError` of one short line that contains ``shown`` (plain text)."""
    with pytest.raises(SettingsError, match=re.escape(shown)) as info:
        make()
    assert_one_short_line(info.value)
