"""The tagger registry: model names (importable without torch)."""

from __future__ import annotations

TAGGER_NAMES = ("mixer", "part", "deepsets")


def tagger_names() -> tuple[str, ...]:
    return TAGGER_NAMES
