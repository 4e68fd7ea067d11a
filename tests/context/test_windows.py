"""Context windows: the table, the config override, the provider's own, bad values."""

from __future__ import annotations

import pytest

from joiner.context import Window, WindowConfigError, builtin_window, resolve_window


@pytest.mark.parametrize(("spec", "tokens"), [
    ("openai/gpt-4.1", 1_047_576),
    ("openai/gpt-4.1-mini-2025-04-14", 1_047_576),
    ("openai/gpt-4o-mini-2024-07-18", 128_000),
    ("openai/gpt-4", 8_192),
    ("openai/gpt-4-turbo", 128_000),
    ("openai/o3-mini", 200_000),
    ("openai/gpt-5-mini", 400_000),
    ("anthropic/claude-sonnet-4-5", 200_000),
    ("anthropic/claude-3-5-haiku-20241022", 200_000),
    ("anthropic/claude-opus-4-1-20250805", 200_000),
    ("openai/claude-sonnet-4-5", 200_000),  # a proxy: found by the model's name
    ("openai/openrouter/gpt-4o", 128_000),
])
def test_known_models(spec: str, tokens: int) -> None:
    window = builtin_window(spec)
    assert window is not None and window.tokens == tokens


def test_gpt5_caps_the_input_below_the_window() -> None:
    window = builtin_window("openai/gpt-5")
    assert window == Window(400_000, 272_000)
    assert window.input_limit(8192) == 272_000
    assert Window(200_000).input_limit(8192) == 191_808


@pytest.mark.parametrize("spec", ["openai/llama3", "openai/gpt-4x", "local/other", "x/y"])
def test_unknown_models_have_no_window(spec: str) -> None:
    assert builtin_window(spec) is None
    assert resolve_window(spec, {}) is None


def test_config_wins_over_the_provider_and_the_table() -> None:
    config = {"models": {"openai/gpt-4.1": {"context_window": 6000}}}

    class Provider:
        context_window = 32_768

    window = resolve_window("openai/gpt-4.1", config, Provider())
    assert window == Window(6000, None, "config")
    assert resolve_window("local/gemma3-270m", {}, Provider()) == Window(32_768, None,
                                                                          "provider")
    # a configured window above GPT-5's input cap keeps the cap
    gpt5 = resolve_window("openai/gpt-5", {"models": {"openai/gpt-5": {"context_window":
                                                                         500_000}}})
    assert gpt5 is not None and gpt5.input_limit(8192) == 272_000


@pytest.mark.parametrize("value", ["6000", 6000.5, True, 0, -5, 100])
def test_a_bad_configured_window_is_refused_with_its_key(value: object) -> None:
    with pytest.raises(WindowConfigError, match=r'\[models\."openai/x"\] context_window'):
        resolve_window("openai/x", {"models": {"openai/x": {"context_window": value}}})
