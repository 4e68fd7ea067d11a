"""Providers: model clients behind the core's ``Provider`` protocol.

``create_provider("openai/gpt-4.1", config)`` imports only the module it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joiner.core import Provider


class ProviderConfigError(Exception):
    """The provider cannot be used as configured (unknown name, missing key)."""


# provider prefix -> module with a ``create(model: str, settings: dict) -> Provider``
_MODULES = {
    "openai": "joiner.providers.openai",
    "anthropic": "joiner.providers.anthropic",
    "local": "joiner.providers.local",
    "replay": "joiner.providers.replay",
    "scripted": "joiner.providers.scripted",
}


def split_model(spec: str) -> tuple[str, str]:
    provider, sep, model = spec.partition("/")
    if not sep or not model:
        raise ProviderConfigError(
            f"model {spec!r} is not PROVIDER/MODEL; use e.g. openai/gpt-4.1, "
            "anthropic/claude-sonnet-4-5 or local/gemma3-270m"
        )
    return provider, model


def create_provider(spec: str, settings: dict[str, Any] | None = None) -> Provider:
    provider, model = split_model(spec)
    module_name = _MODULES.get(provider)
    if module_name is None:
        known = ", ".join(sorted(p for p in _MODULES if p != "scripted"))
        raise ProviderConfigError(f"unknown provider {provider!r}; use one of: {known}")
    module = importlib.import_module(module_name)
    return module.create(model, settings or {})
