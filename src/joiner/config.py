"""Configuration: the user's ``config.toml`` under the project's ``.joiner/config.toml``.

Keys never come from files: API keys are read from the environment only.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_LOCAL_MODEL = "local/gemma3-270m"
DEFAULT_ANTHROPIC_MODEL = "anthropic/claude-sonnet-4-5"
DEFAULT_OPENAI_MODEL = "openai/gpt-5"
PERMISSION_MODES = ("default", "accept-edits", "plan", "auto")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which file and what to fix."""


def _home() -> Path | None:
    value = os.environ.get("JOINER_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    if (home := _home()) is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir("joiner", appauthor=False))


def data_dir() -> Path:
    if (home := _home()) is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir("joiner", appauthor=False))


def user_config_path() -> Path:
    return config_dir() / "config.toml"


def project_config_path(workspace: Path) -> Path:
    return workspace / ".joiner" / "config.toml"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML ({err}); fix or remove it") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(workspace: Path) -> dict[str, Any]:
    """The user's config with the project's over it. Raises ``ConfigError``."""
    config = _merge(read_toml(user_config_path()), read_toml(project_config_path(workspace)))
    mode = config.get("permission_mode")
    if mode is not None and mode not in PERMISSION_MODES:
        raise ConfigError(f"permission_mode {mode!r} in config is not one of: "
                          + ", ".join(PERMISSION_MODES))
    model = config.get("model")
    if model is not None and not isinstance(model, str):
        raise ConfigError("model in config must be a string like 'openai/gpt-5'")
    return config


def default_model(config: dict[str, Any]) -> str:
    """The model to use when ``--model`` is not given."""
    if config.get("model"):
        return str(config["model"])
    if os.environ.get("ANTHROPIC_API_KEY"):
        return DEFAULT_ANTHROPIC_MODEL
    if os.environ.get("OPENAI_API_KEY"):
        return DEFAULT_OPENAI_MODEL
    return DEFAULT_LOCAL_MODEL


def provider_settings(config: dict[str, Any], spec: str) -> dict[str, Any]:
    """``[providers.NAME]`` settings for the provider of ``spec`` (never holds keys)."""
    provider = spec.partition("/")[0]
    section = config.get("providers", {}).get(provider, {})
    if not isinstance(section, dict):
        raise ConfigError(f"[providers.{provider}] in config must be a table")
    settings = {k: v for k, v in section.items() if k != "api_key"}
    if "idle_timeout" in config.get("retry", {}):
        settings.setdefault("idle_timeout", config["retry"]["idle_timeout"])
    return settings
