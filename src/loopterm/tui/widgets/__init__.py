"""Widgets of the race viewer, one per module."""
