"""The jet-tagger networks: one file per network, and this registry of them.

:data:`TAGGER_NAMES` is the single list of tagger model names (config keys
``tagging.models``, ``tagging.<name>`` and ``tagging.speed_reference.*.model``; the
config schema, the workflow's wildcard constraint and the evaluation get them from
here).  Importing this package does not import torch: each factory imports its
network module when called (with a plain ``import`` statement, so that the code
hash of a rule that builds taggers covers the network files).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


def _mixer(**options: Any) -> nn.Module:
    from phenoflow.ml.models.mixer import make_mixer

    return make_mixer(**options)


def _part(**options: Any) -> nn.Module:
    from phenoflow.ml.models.part import make_part

    return make_part(**options)


def _deepsets(**options: Any) -> nn.Module:
    from phenoflow.ml.models.deepsets import make_deepsets

    return make_deepsets(**options)


# name -> factory; the factory takes the keyword options of tagging.<name>
TAGGERS: dict[str, Callable[..., nn.Module]] = {
    "mixer": _mixer,
    "part": _part,
    "deepsets": _deepsets,
}
TAGGER_NAMES: tuple[str, ...] = tuple(TAGGERS)


def tagger_names() -> tuple[str, ...]:
    """The tagger model names, in registry order."""
    return TAGGER_NAMES


def tagger_factory(name: str) -> Callable[..., nn.Module]:
    """The factory function of tagger ``name`` (imports its module, and torch, when called)."""
    if name not in TAGGERS:
        raise ValueError(f"unknown tagger model {name!r}; expected one of {TAGGER_NAMES}")
    return TAGGERS[name]


def build_tagger(name: str, **options: Any) -> nn.Module:
    """A freshly initialised tagger (call torch.manual_seed first for reproducibility)."""
    return tagger_factory(name)(**options)
