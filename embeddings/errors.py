"""The root of grounded-qa's error hierarchy, defined in its lowest layer.

``embeddings`` is used by ``qa`` and never imports it, so the errors both raise — the base
:class:`QAError`, a bad argument, a missing optional package — are defined here and re-exported
by :mod:`qa.errors`, where the rest of the hierarchy lives. ``except qa.QAError`` therefore
catches an error raised while loading or running a model too.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of all errors raised by grounded-qa on purpose."""


class InputError(QAError, ValueError):
    """A bad argument or setting given by the caller (empty question, k <= 0, unknown option)."""


class MissingDependencyError(QAError, ImportError):
    """An optional dependency is not installed; the message names the install command."""


# Tracebacks and reprs name them where users import them from (as numpy's set_module does).
for _error in (QAError, InputError, MissingDependencyError):
    _error.__module__ = "qa.errors"

__all__ = ["QAError", "InputError", "MissingDependencyError"]
