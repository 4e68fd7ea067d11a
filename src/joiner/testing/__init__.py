"""Test helpers that ship with the package, so the CLI can be tried by hand against them.

``joiner.testing.loopback.LoopbackServer``: a scripted model server on 127.0.0.1 that
speaks the OpenAI Chat Completions and Anthropic Messages wire formats for real.
"""
