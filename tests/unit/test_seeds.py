import hashlib

import pytest

from phenoflow.seeds import PYTHIA_SEED_MAX, derive_seed, pythia_seed


def test_known_value():
    # the documented recipe: SHA-256 of "base/label/..." -> 1 + first 8 bytes mod (m - 1)
    digest = hashlib.sha256(b"42/generate/ttbar/3").digest()
    expected = 1 + int.from_bytes(digest[:8], "big") % PYTHIA_SEED_MAX
    assert pythia_seed(42, "ttbar", 3) == expected


def test_stable_and_distinct():
    seeds = {pythia_seed(7, p, s) for p in ("ttbar", "qcd") for s in range(50)}
    assert len(seeds) == 100
    assert pythia_seed(7, "ttbar", 0) == pythia_seed(7, "ttbar", 0)
    assert pythia_seed(7, "ttbar", 0) != pythia_seed(8, "ttbar", 0)


def test_range():
    for s in range(200):
        assert 1 <= pythia_seed(s, "p", s) <= PYTHIA_SEED_MAX
    assert 1 <= derive_seed(1, "x", modulus=2) < 2


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_bad_base_seed(bad):
    with pytest.raises(TypeError, match="base_seed"):
        derive_seed(bad, "x")
