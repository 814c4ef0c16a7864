"""Stable per-job seeds.

Every random number in phenoflow comes from a seed derived here from
(config seed, stage, process, shard).  We use SHA-256, never Python's
``hash()``, which is salted per interpreter and so not reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

# numpy, torch and scikit-learn all accept seeds below 2**31
JOB_SEED_MODULUS = 2**31 - 1
# Pythia's Random:seed accepts 0 ... 900_000_000 (0 means "use the time").
PYTHIA_SEED_MAX = 900_000_000


def derive_seed(base_seed: int, *parts: object, modulus: int = 2**63 - 1) -> int:
    """Return a stable integer seed in [1, modulus) from a base seed and labels.

    ``derive_seed(42, "generate", "ttbar", 3)`` gives the same value on every
    machine, Python version and run.  Labels are joined with ``/`` after
    ``str()``, so ``("a", 1)`` and ``("a", "1")`` give the same seed.
    """
    if isinstance(base_seed, bool) or not isinstance(base_seed, int):
        raise TypeError(f"base_seed must be an int, got {type(base_seed).__name__}")
    if modulus < 2:
        raise ValueError(f"modulus must be >= 2, got {modulus}")
    key = "/".join([str(base_seed), *map(str, parts)]).encode()
    digest = hashlib.sha256(key).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (modulus - 1)


def pythia_seed(base_seed: int, process: str, shard: int) -> int:
    """Seed for Pythia's ``Random:seed`` for one generation shard (1 ... 900 000 000)."""
    return derive_seed(base_seed, "generate", process, shard, modulus=PYTHIA_SEED_MAX + 1)


def job_seed(config: Mapping[str, Any], *labels: object) -> int:
    """The seed of one workflow job: from the config's ``seed`` and the job's labels.

    ``job_seed(config, "scan", "cosine_3d")``; every job that draws random
    numbers takes its seed from here (Pythia shards from :func:`pythia_seed`).
    """
    return derive_seed(config["seed"], *labels, modulus=JOB_SEED_MODULUS)
