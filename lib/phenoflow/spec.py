"""Typed job specs: the one boundary between the workflow config and a job.

Every rule family has one frozen dataclass deriving from :class:`Spec`:

* ``Spec.from_config(config, **wildcards)`` picks exactly the config a job
  depends on (the Snakefile's ``get_*`` helpers, the tests and the benchmarks
  all build specs this way);
* ``spec.to_params()`` gives the plain (JSON-compatible) dict a rule carries in
  its ``params:``, so that a config change shows in ``--list-changes params``
  and reruns exactly the jobs it affects;
* ``Spec.from_params(snakemake.params.spec)`` rebuilds the spec in the job.

``spec.config_hash`` is the short hash of the settings a job's output depends
on (its ``hashed()`` part); it is written into output metadata.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from phenoflow.config import section_hash


class SpecError(ValueError):
    """A spec cannot be built: unknown wildcard value or malformed params."""


def plain(value: Any) -> Any:
    """``value`` with tuples turned into lists and mappings into dicts, recursively."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _restore(hint: Any, value: Any) -> Any:
    """Undo :func:`plain` for a field typed as a tuple."""
    if typing.get_origin(hint) is tuple and isinstance(value, list | tuple):
        return tuple(value)
    return value


@dataclasses.dataclass(frozen=True)
class Spec:
    """Base of the typed job specs (see the module docstring)."""

    # fields left out of ``hashed()`` (job identity, e.g. the process and shard)
    HASH_EXCLUDE: ClassVar[tuple[str, ...]] = ()

    # Every subclass defines ``from_config(cls, config, <its wildcards>)``; the
    # signature differs per rule family, so it is not declared here.

    def to_params(self) -> dict[str, Any]:
        """The plain dict a rule passes as ``params.spec``."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        """The spec ``to_params`` was made from; malformed params raise SpecError."""
        if not isinstance(params, Mapping):
            raise SpecError(
                f"{cls.__name__}: params must be a mapping, got {type(params).__name__}"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in params]
        unknown = sorted(set(params) - set(names))
        if missing or unknown:
            raise SpecError(
                f"{cls.__name__}: params do not match the spec "
                f"(missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'})"
            )
        hints = typing.get_type_hints(cls)
        return cls(**{n: _restore(hints[n], params[n]) for n in names})

    def hashed(self) -> Any:
        """The settings the job's output depends on (what ``config_hash`` covers)."""
        return {k: v for k, v in self.to_params().items() if k not in self.HASH_EXCLUDE}

    @property
    def config_hash(self) -> str:
        return section_hash(self.hashed())


def listed(config: Mapping[str, Any], value: str, *keys: str) -> str:
    """``value`` if the list at config key ``keys`` holds it, else a SpecError naming that key."""
    known = section(config, *keys)
    if value not in known:
        what = keys[-1].removesuffix("s")
        raise SpecError(f"unknown {what} {value!r}; config key {'.'.join(keys)!r} lists {known}")
    return value


def section(config: Mapping[str, Any], *keys: str) -> Any:
    """``config[k1][k2]...`` with a SpecError naming the dotted key when one is missing."""
    node: Any = config
    for i, key in enumerate(keys):
        if not isinstance(node, Mapping) or key not in node:
            where = ".".join(keys[: i + 1])
            known = ", ".join(sorted(node)) if isinstance(node, Mapping) else "-"
            raise SpecError(f"no config key {where!r} (known here: {known})")
        node = node[key]
    return node
