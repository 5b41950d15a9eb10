"""Sutra: an explainable reasoning engine."""
