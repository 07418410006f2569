"""One way to serialise and override settings: a mixin for frozen settings dataclasses.

Every field is converted by its type, the same way for a value given in Python, read from a
manifest or typed on the command line (``--set diversify=false``): booleans accept
true/false/yes/no/on/off/1/0, integers refuse a fraction ("2.7"), numbers refuse booleans.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any, Mapping, TypeVar

from .errors import InputError

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")

S = TypeVar("S", bound="SettingsMixin")


def convert_setting(label: str, name: str, value: Any, kind: type) -> Any:
    """``value`` as a field of type ``kind`` (bool, int, float or str), refusing lossy or
    ambiguous conversions with a message naming the setting (``label`` e.g. "search setting").

    >>> convert_setting("search setting", "diversify", "false", bool)
    False
    >>> convert_setting("answer setting", "max_lead_words", "40", int)
    40
    """
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise InputError(f"{label} {name} must be true or false, got {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise InputError(f"{label} {name} must be text, got {value!r}")
    if isinstance(value, bool):
        raise InputError(f"{label} {name} must be a {kind.__name__}, got {value!r}")
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        raise InputError(f"{label} {name} must be a {kind.__name__}, got {value!r}") from None
    if not isinstance(number, (int, float)):
        raise InputError(f"{label} {name} must be a {kind.__name__}, got {value!r}")
    if kind is int:
        if isinstance(number, float) and not number.is_integer():
            raise InputError(f"{label} {name} must be an integer, got {value!r}")
        return int(number)
    return float(number)


class SettingsMixin:
    """``to_dict`` / ``from_dict`` / ``with_overrides`` for a frozen dataclass whose fields all
    have defaults; ``LABEL`` names the kind of setting in error messages.

    >>> from qa.retrieval.hybrid import SearchSettings
    >>> SearchSettings().with_overrides({"diversify": "false", "candidates": "50"}).candidates
    50
    """

    LABEL = "setting"

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def with_overrides(self: S, overrides: Mapping[str, Any] | None) -> S:
        """A copy with ``overrides`` applied (``None`` values are ignored); values are converted
        by field type, unknown names refused with the list of known ones."""
        if not overrides:
            return self
        known = self.field_names()
        values = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in known:
                raise InputError(f"unknown {self.LABEL} {name!r}; known: {', '.join(sorted(known))}")
            values[name] = convert_setting(self.LABEL, name, value, type(getattr(self, name)))
        return replace(self, **values)  # type: ignore[type-var]

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any]) -> S:
        """Settings from a saved dict; keys of older versions that no longer exist are ignored."""
        known = cls.field_names()
        return cls().with_overrides({k: v for k, v in data.items() if k in known})
