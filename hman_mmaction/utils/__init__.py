"""Helpers for the command-line tools."""
