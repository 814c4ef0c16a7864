import awkward as ak
import numpy as np
import pytest
import uproot

from phenoflow.io.parquet import read_events, read_metadata
from phenoflow.io.root import (
    METADATA_KEY,
    RootFileError,
    parquet_to_root,
    root_to_parquet,
    same_events,
)


@pytest.fixture(scope="module")
def ttbar_root(ttbar_shard, tmp_path_factory):
    path = tmp_path_factory.mktemp("root") / "shard0.root"
    assert parquet_to_root(ttbar_shard[0], path) == 30
    return path


def test_root_layout(ttbar_root, ttbar_shard):
    with uproot.open(ttbar_root) as f:
        tree = f["events"]
        assert tree.num_entries == 30
        for b in (
            "nparticles",
            "particles_px",
            "particles_charge",
            "npartons",
            "partons_pid",
            "weight",
            "event_id",
        ):
            assert b in tree
        assert str(f[METADATA_KEY]).startswith("{")
        events = read_events(ttbar_shard[0])
        assert ak.all(tree["nparticles"].array() == ak.num(events.particles))
        assert ak.all(tree["particles_E"].array() == events.particles.E)


def test_parquet_root_parquet_is_byte_identical(ttbar_root, ttbar_shard, tmp_path):
    back = tmp_path / "back.parquet"
    root_to_parquet(ttbar_root, back)
    assert back.read_bytes() == ttbar_shard[0].read_bytes()
    assert same_events(back, ttbar_shard[0])


def test_root_parquet_root_same_contents(ttbar_root, tmp_path):
    pq_path, again = tmp_path / "x.parquet", tmp_path / "again.root"
    root_to_parquet(ttbar_root, pq_path)
    parquet_to_root(pq_path, again)
    with uproot.open(ttbar_root) as a, uproot.open(again) as b:
        ta, tb = a["events"].arrays(), b["events"].arrays()
        assert ak.to_list(ta) == ak.to_list(tb)
        assert str(a[METADATA_KEY]) == str(b[METADATA_KEY])


def _delphes_like(path, n=12):
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 6, n)
    total = int(counts.sum())
    pt = rng.uniform(1, 100, total)
    eta = rng.uniform(-2.5, 2.5, total)
    phi = rng.uniform(-np.pi, np.pi, total)
    mass = np.full(total, 0.13957)
    pid = rng.choice([211, -211, 22], total).astype(np.int32)
    charge = np.sign(pid).astype(np.int32) * (np.abs(pid) == 211)
    part = ak.unflatten(
        ak.zip({"PT": pt, "Eta": eta, "Phi": phi, "Mass": mass, "PID": pid, "Charge": charge}),
        counts,
    )
    with uproot.recreate(path) as f:
        f.mktree("Delphes", {"Particle": part.type.content, "Weight": "float32"})
        f["Delphes"].extend({"Particle": part, "Weight": np.full(n, 0.5, dtype=np.float32)})
    return part


MAPPING = {
    "particles": {
        "pt": "Particle_PT",
        "eta": "Particle_Eta",
        "phi": "Particle_Phi",
        "mass": "Particle_Mass",
        "pid": "Particle_PID",
        "charge": "Particle_Charge",
    },
    "weight": "Weight",
}


def test_import_delphes_like(tmp_path):
    src, out = tmp_path / "delphes.root", tmp_path / "out.parquet"
    part = _delphes_like(src)
    meta = root_to_parquet(
        src, out, MAPPING, tree_name="Delphes", chunk_size=5, metadata={"process": "ext"}
    )
    ev = read_events(out)
    assert len(ev) == 12
    assert meta["n_events"] == 12
    assert read_metadata(out)["process"] == "ext"
    pt = np.hypot(ak.flatten(ev.particles.px), ak.flatten(ev.particles.py))
    assert np.allclose(pt, ak.flatten(part.PT))
    m2 = ev.particles.E**2 - ev.particles.px**2 - ev.particles.py**2 - ev.particles.pz**2
    assert np.allclose(ak.flatten(m2), 0.13957**2, rtol=1e-6, atol=1e-6)
    assert ak.all(ev.weight == 0.5)
    assert ak.all(ak.num(ev.partons) == 0)


def test_missing_branch(tmp_path):
    src, out = tmp_path / "delphes.root", tmp_path / "out.parquet"
    _delphes_like(src)
    bad = {**MAPPING, "particles": {**MAPPING["particles"], "pid": "Particle_Id"}}
    with pytest.raises(RootFileError, match=r"lacks branch 'Particle_Id' \(for particles.pid\)"):
        root_to_parquet(src, out, bad, tree_name="Delphes")
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_wrong_type(tmp_path):
    src, out = tmp_path / "delphes.root", tmp_path / "out.parquet"
    _delphes_like(src)
    bad = {**MAPPING, "particles": {**MAPPING["particles"], "pid": "Weight"}}  # flat, not jagged
    with pytest.raises(RootFileError, match=r"branch 'Weight' has type .* expected a jagged array"):
        root_to_parquet(src, out, bad, tree_name="Delphes")
    assert not out.exists()


def test_missing_tree(tmp_path):
    src = tmp_path / "delphes.root"
    _delphes_like(src)
    with pytest.raises(RootFileError, match=r"no tree 'events' \(objects in the file: Delphes\)"):
        root_to_parquet(src, tmp_path / "o.parquet")


def test_not_a_root_file(tmp_path):
    bad = tmp_path / "garbage.root"
    bad.write_bytes(b"this is not ROOT" * 100)
    with pytest.raises(RootFileError, match="not a readable ROOT file"):
        root_to_parquet(bad, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


def test_truncated_file(ttbar_root, tmp_path):
    cut = tmp_path / "cut.root"
    data = ttbar_root.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "o.parquet"
    with pytest.raises(RootFileError, match=str(cut)):
        root_to_parquet(cut, out)
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_file(tmp_path):
    with pytest.raises(RootFileError, match="file not found"):
        root_to_parquet(tmp_path / "nope.root", tmp_path / "o.parquet")


def _two_collections(path, n=5, px_nan_at=None, pid_scale=1.0, fmt="rntuple"):
    """A file with particles and partons that share leaf names (px, py, pz, E, pid)."""
    rng = np.random.default_rng(7)

    def coll(counts):
        total = int(np.sum(counts))
        px = rng.normal(0, 10, total)
        if px_nan_at is not None and total:
            px[px_nan_at] = np.nan
        fields = {
            "px": px,
            "py": rng.normal(0, 10, total),
            "pz": rng.normal(0, 10, total),
            "E": rng.uniform(50, 60, total),
            "pid": rng.choice([211, -211], total) * pid_scale,
        }
        return ak.unflatten(ak.zip(fields), counts)

    particles = coll(np.array([2, 4, 2, 3, 7][:n]))
    partons = coll(np.full(n, 3))
    with uproot.recreate(path) as f:
        # uproot >= 5.7 writes an RNTuple here, whose fields repeat the leaf names
        f["events"] = {"particles": particles, "partons": partons}
    return particles, partons


SHORT = {c: {f: f for f in ("px", "py", "pz", "E", "pid")} for c in ("particles", "partons")}


def test_ambiguous_short_branch_names_are_an_error_listing_the_full_paths(tmp_path):
    src, out = tmp_path / "two.root", tmp_path / "out.parquet"
    _two_collections(src)
    with pytest.raises(
        RootFileError, match=r"ambiguous branch name 'px'.*particles\.px, partons\.px"
    ):
        root_to_parquet(src, out, SHORT)
    assert not out.exists()


def test_full_branch_paths_read_the_right_collection(tmp_path):
    src, out = tmp_path / "two.root", tmp_path / "out.parquet"
    _, partons = _two_collections(src)
    full = {c: {f: f"{c}.{f}" for f in ("px", "py", "pz", "E", "pid")} for c in SHORT}
    root_to_parquet(src, out, full)
    ev = read_events(out)
    assert ak.num(ev.partons).tolist() == [3, 3, 3, 3, 3]
    assert ak.num(ev.particles).tolist() == [2, 4, 2, 3, 7]
    assert np.allclose(ak.flatten(ev.partons.px), ak.flatten(partons.px))


def test_nan_momenta_are_rejected_at_import_with_file_branch_and_entry(tmp_path):
    src, out = tmp_path / "nan.root", tmp_path / "out.parquet"
    _two_collections(src, px_nan_at=5)  # the 6th particle: event 1 (counts 2, 4, ...)
    full = {"particles": {f: f"particles.{f}" for f in ("px", "py", "pz", "E", "pid")}}
    with pytest.raises(RootFileError, match=r"nan\.root: branch 'particles\.px' .*NaN.* entry 1 "):
        root_to_parquet(src, out, full)
    assert not out.exists()


def test_non_integer_pids_are_rejected(tmp_path):
    src, out = tmp_path / "pid.root", tmp_path / "out.parquet"
    _two_collections(src, pid_scale=1.5)
    full = {"particles": {f: f"particles.{f}" for f in ("px", "py", "pz", "E", "pid")}}
    with pytest.raises(
        RootFileError, match=r"branch 'particles\.pid' \(pid\) must hold integers; entry 0"
    ):
        root_to_parquet(src, out, full)
    assert not out.exists()


def test_an_empty_tree_is_rejected_at_import(tmp_path):
    src, out = tmp_path / "empty.root", tmp_path / "out.parquet"
    empty = ak.Array([{"px": [1.0]}])[:0]
    with uproot.recreate(src) as f:
        f.mktree("events", {"particles_px": empty.px.type.content, "weight": "float64"})
    mapping = {"particles": {"px": "particles_px"}, "weight": "weight"}
    with pytest.raises(RootFileError, match=r"empty\.root: tree 'events' has no entries"):
        root_to_parquet(src, out, mapping)
    assert not out.exists()


def test_a_truncated_event_shard_names_the_file_and_how_to_rebuild_it(ttbar_shard, tmp_path):
    from phenoflow.io.parquet import CorruptFileError, iter_events

    cut = tmp_path / "shard0.parquet"
    data = ttbar_shard[0].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    for read in (read_metadata, read_events, lambda p: list(iter_events(p))):
        with pytest.raises(
            CorruptFileError, match=rf"{cut}: not a readable Parquet file.*--forcerun {cut}"
        ):
            read(cut)
