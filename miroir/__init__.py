"""Miroir: a real-time mirror of customer and staff experience."""

__version__ = "0.1.0"
