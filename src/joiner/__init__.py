"""Joiner: an AI pair programmer for the terminal."""

__version__ = "0.1.0"
