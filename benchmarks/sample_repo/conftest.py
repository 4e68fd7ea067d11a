"""Makes the project root importable for the tests (pytest -q from the root)."""
