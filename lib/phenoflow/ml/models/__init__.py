"""The jet-tagger networks: one file per network, and this registry of them.

:data:`TAGGER_NAMES` is the single list of tagger model names (config keys
``tagging.models``, ``tagging.<name>`` and ``tagging.speed_reference.*.model``; the
config schema gets them from here).  Importing this package does not import torch:
each factory is imported when :func:`build_tagger` first needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

# name -> (module, factory function); the factory takes the keyword options of tagging.<name>
TAGGERS: dict[str, tuple[str, str]] = {
    "mixer": ("phenoflow.ml.models.mixer", "make_mixer"),
    "part": ("phenoflow.ml.models.part", "make_part"),
    "deepsets": ("phenoflow.ml.models.deepsets", "make_deepsets"),
}
TAGGER_NAMES: tuple[str, ...] = tuple(TAGGERS)


def tagger_names() -> tuple[str, ...]:
    """The tagger model names, in registry order."""
    return TAGGER_NAMES


def tagger_factory(name: str) -> Callable[..., nn.Module]:
    """The factory function of tagger ``name`` (imports its module, and torch)."""
    if name not in TAGGERS:
        raise ValueError(f"unknown tagger model {name!r}; expected one of {TAGGER_NAMES}")
    module, function = TAGGERS[name]
    return getattr(importlib.import_module(module), function)


def build_tagger(name: str, **options: Any) -> nn.Module:
    """A freshly initialised tagger (call torch.manual_seed first for reproducibility)."""
    return tagger_factory(name)(**options)
