"""Rendering backends behind one protocol, looked up by name.

Backends are imported lazily so that the default engine never pays for torch or
diffusers, and so that the platform chooses a backend by a string it can store."""
from __future__ import annotations

from importlib import import_module

from ..controls import BACKEND_NAMES, DEFAULT_BACKEND
from ..errors import InvalidControl, gettext_noop
from .base import Analysis, Backend, MotionSource

# Each backend named in generation.controls lives in generation.backends.<name> as <Name>Backend.
BACKENDS = {name: f"generation.backends.{name}:{name.capitalize()}Backend" for name in BACKEND_NAMES}


def get_backend(name: str = DEFAULT_BACKEND, **options) -> Backend:
    """The backend registered under `name`, built with `options`."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise InvalidControl.not_one_of("backend", BACKENDS) from None
    module, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except ModuleNotFoundError as exc:
        raise InvalidControl(gettext_noop("backend %(name)s is not available here: %(reason)s"), field="backend",
                             params={"name": repr(name), "reason": str(exc)}) from exc
    return cls(**options)


__all__ = ["Analysis", "Backend", "MotionSource", "BACKENDS", "DEFAULT_BACKEND", "get_backend"]
