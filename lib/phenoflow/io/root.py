"""ROOT TTrees <-> event-record Parquet files (uproot, streamed in chunks).

phenoflow's own TTree ``events`` has one counter per collection
(``nparticles``, ``npartons``), one jagged branch per field
(``particles_px`` ...), the scalars ``weight`` and ``event_id``, and the
Parquet metadata as JSON in a TObjString ``phenoflow_metadata``.  Parquet ->
ROOT -> Parquet reproduces the Parquet file byte for byte.

External trees (Delphes-like, jagged particle branches) are imported with a
branch mapping: for each collection either ``px, py, pz, E`` or
``pt, eta, phi`` with ``E`` or ``mass``; ``pid``; optionally ``charge``
(default 0) and, for partons, ``mother`` (default -1).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pyarrow.parquet as pq

from phenoflow.io.parquet import EventWriter, iter_events, read_metadata
from phenoflow.io.schema import COLLECTIONS, make_events

TREE = "events"
METADATA_KEY = "phenoflow_metadata"


class RootFileError(ValueError):
    """A ROOT file cannot be read, or lacks the branches or types expected."""


def _counter(collection: str) -> str:
    return f"n{collection}"


def _branch(collection: str, field: str) -> str:
    return f"{collection}_{field}"


def default_mapping() -> dict[str, Any]:
    """Branch mapping of phenoflow's own TTree layout."""
    mapping: dict[str, Any] = {
        c: {f: _branch(c, f) for f in fields} for c, fields in COLLECTIONS.items()
    }
    mapping["weight"] = "weight"
    mapping["event_id"] = "event_id"
    return mapping


def parquet_to_root(parquet: str | os.PathLike[str], root: str | os.PathLike[str]) -> int:
    """Write an event Parquet file as a TTree, one basket per row group.  Returns events written."""
    import uproot

    root = Path(root)
    tmp = root.with_name(root.name + ".tmp")
    meta = read_metadata(parquet)
    n = 0
    try:
        with uproot.recreate(tmp) as fout:
            fout[METADATA_KEY] = json.dumps(meta, sort_keys=True)
            tree = None
            for chunk in iter_events(parquet):
                if tree is None:
                    tree = fout.mktree(
                        TREE,
                        {
                            "particles": chunk.particles.type.content,
                            "partons": chunk.partons.type.content,
                            "weight": "float64",
                            "event_id": "int64",
                        },
                        counter_name=_counter,
                        field_name=_branch,
                    )
                tree.extend({k: chunk[k] for k in ("particles", "partons", "weight", "event_id")})
                n += len(chunk)
            if tree is None:
                raise RootFileError(f"{parquet}: no row groups to convert")
        os.replace(tmp, root)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _open_tree(path: str | os.PathLike[str], tree_name: str) -> tuple[Any, Any]:
    import uproot

    try:
        fin = uproot.open(path)
    except FileNotFoundError:
        raise RootFileError(f"{path}: file not found") from None
    except Exception as exc:
        raise RootFileError(
            f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        tree = fin[tree_name]
    except Exception as exc:
        keys = ", ".join(k.split(";")[0] for k in fin.keys(recursive=False)) or "(none)"
        raise RootFileError(f"{path}: no tree {tree_name!r} (objects in the file: {keys})") from exc
    if not hasattr(tree, "num_entries"):
        raise RootFileError(f"{path}: {tree_name!r} is a {type(tree).__name__}, not a TTree")
    return fin, tree


def resolve_branch(paths: Sequence[str], name: str) -> str | list[str]:
    """The full path of branch ``name`` among a tree's full branch ``paths``.

    A full path (``"Particle/Particle.PT"``) or a unique short name
    (``"Particle.PT"``, ``"PT"``: the last path component, or its last
    ``.``-separated part) resolves to that branch.  Returns the list of
    candidates when the name is missing (``[]``) or ambiguous (``PT`` in a
    Delphes file matches ``Particle/Particle.PT``, ``Jet/Jet.PT``, ...):
    uproot itself would silently take the first.
    """
    if name in paths:
        return name
    matches = [
        p for p in paths if name in (p.rsplit("/", 1)[-1], p.rsplit("/", 1)[-1].rsplit(".", 1)[-1])
    ]
    return matches[0] if len(matches) == 1 else matches


def _resolve_mapping(path: Any, tree: Any, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with every branch name replaced by its full path; errors name what is wrong."""
    paths = list(tree.keys(recursive=True, full_paths=True))
    resolved: dict[str, Any] = dict(mapping)
    missing: list[tuple[str, str, list[str]]] = []
    ambiguous: list[tuple[str, str, list[str]]] = []

    def one(what: str, name: str) -> str:
        got = resolve_branch(paths, name)
        if isinstance(got, str):
            return got
        (ambiguous if got else missing).append((what, name, got))
        return name

    for coll in COLLECTIONS:
        if mapping.get(coll):
            resolved[coll] = {f: one(f"{coll}.{f}", b) for f, b in mapping[coll].items()}
    for key in ("weight", "event_id"):
        if mapping.get(key):
            resolved[key] = one(key, mapping[key])
    if ambiguous:
        listed = "; ".join(
            f"{name!r} (for {what}) could be any of {', '.join(got)}"
            for what, name, got in ambiguous
        )
        raise RootFileError(
            f"{path}: tree {tree.name!r}: ambiguous branch name {listed}; give the full path"
        )
    if missing:
        listed = ", ".join(f"{name!r} (for {what})" for what, name, _ in missing)
        avail = ", ".join(sorted(paths)[:40])
        raise RootFileError(f"{path}: tree {tree.name!r} lacks branch {listed}; available: {avail}")
    return resolved


def _numeric(arr: ak.Array, ndim: int, path: Any, branch: str) -> ak.Array:
    layout_type = arr.type.content
    inner = layout_type
    depth = 1
    while hasattr(inner, "content"):
        inner = inner.content
        depth += 1
    ok = depth == ndim and str(inner) in {
        "float64",
        "float32",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint64",
        "uint32",
        "uint16",
        "uint8",
        "bool",
    }
    if not ok:
        shape = (
            "a jagged array of numbers (one list per event)"
            if ndim == 2
            else "one number per event"
        )
        raise RootFileError(f"{path}: branch {branch!r} has type {arr.type}, expected {shape}")
    return arr


INTEGER_FIELDS = ("pid", "charge", "mother")


def _first_bad(arr: ak.Array, bad: np.ndarray, start: int) -> str:
    """'entry E (value v)' of the first flagged element of a jagged branch chunk."""
    i = int(np.argmax(bad))
    ends = np.cumsum(ak.to_numpy(ak.num(arr)))
    event = int(np.searchsorted(ends, i, side="right"))
    return f"entry {start + event} (value {ak.to_numpy(ak.flatten(arr))[i]!r})"


def _check_values(arr: ak.Array, field: str, path: Any, branch: str, start: int) -> ak.Array:
    """Reject NaN/inf numbers, and non-integers where an integer is meant (pid, charge)."""
    flat = ak.to_numpy(ak.flatten(arr))
    if flat.dtype.kind == "f":
        bad = ~np.isfinite(flat)
        if bad.any():
            raise RootFileError(
                f"{path}: branch {branch!r} ({field}) holds NaN or inf at {_first_bad(arr, bad, start)}"
            )
        if field in INTEGER_FIELDS:
            bad = flat != np.round(flat)
            if bad.any():
                raise RootFileError(
                    f"{path}: branch {branch!r} ({field}) must hold integers; "
                    f"{_first_bad(arr, bad, start)} is not one"
                )
    return arr


def _read_collection(
    path: Any, tree: Any, spec: Mapping[str, str], coll: str, start: int, stop: int
) -> dict[str, ak.Array]:
    def get(field: str) -> ak.Array:
        branch = spec[field]
        try:
            arr = tree[branch].array(entry_start=start, entry_stop=stop, library="ak")
        except Exception as exc:
            raise RootFileError(
                f"{path}: cannot read branch {branch!r} entries {start}-{stop} "
                f"(truncated or corrupt file?): {type(exc).__name__}: {exc}"
            ) from exc
        return _check_values(_numeric(arr, 2, path, branch), field, path, branch, start)

    keys = set(spec)
    if {"px", "py", "pz", "E"} <= keys:
        out = {k: get(k) for k in ("px", "py", "pz", "E")}
    elif {"pt", "eta", "phi"} <= keys and ({"E", "mass"} & keys):
        pt, eta, phi = get("pt"), get("eta"), get("phi")
        out = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta)}
        if "E" in keys:
            out["E"] = get("E")
        else:
            m = get("mass")
            out["E"] = np.sqrt(out["px"] ** 2 + out["py"] ** 2 + out["pz"] ** 2 + m**2)
    else:
        raise RootFileError(
            f"{path}: the mapping for {coll} needs px, py, pz, E or pt, eta, phi with E or mass; got {sorted(keys)}"
        )
    if "pid" not in spec:
        raise RootFileError(f"{path}: the mapping for {coll} needs a pid branch")
    out["pid"] = get("pid")
    counts = ak.num(out["pid"])
    # optional fields: charge (default 0), mother (default -1: unknown)
    for name, default in (("charge", 0), ("mother", -1)):
        out[name] = get(name) if name in spec else ak.zeros_like(out["pid"]) + default
    for k, v in out.items():
        if not ak.all(ak.num(v) == counts):
            raise RootFileError(
                f"{path}: branches of {coll} disagree on the number of entries per event ({k})"
            )
    return out


def root_to_parquet(
    root: str | os.PathLike[str],
    parquet: str | os.PathLike[str],
    mapping: Mapping[str, Any] | None = None,
    tree_name: str = TREE,
    chunk_size: int = 250,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Import a ROOT TTree into an event Parquet file; returns the metadata written.

    With ``mapping=None`` the file must be in phenoflow's own layout, and the
    stored metadata (and chunking) are reused, so the round trip is exact.
    ``metadata`` entries override or extend what the file carries.
    On any error no output is left behind.
    """
    own = mapping is None
    mapping = default_mapping() if mapping is None else dict(mapping)
    fin, tree = _open_tree(root, tree_name)
    with fin:
        if tree.num_entries == 0:
            raise RootFileError(f"{root}: tree {tree_name!r} has no entries (an empty sample)")
        mapping = _resolve_mapping(root, tree, mapping)
        meta: dict[str, Any] = {}
        if own and METADATA_KEY in fin:
            try:
                meta = json.loads(str(fin[METADATA_KEY]))
            except Exception as exc:
                raise RootFileError(f"{root}: {METADATA_KEY} is not valid JSON ({exc})") from exc
        meta.update(metadata or {})
        step = int(meta.get("chunk_size", chunk_size))
        n = tree.num_entries
        with EventWriter(parquet) as writer:
            for start in range(0, n, step):
                stop = min(n, start + step)
                parts = {}
                for coll in COLLECTIONS:
                    spec = mapping.get(coll)
                    if spec:
                        parts[coll] = _read_collection(root, tree, spec, coll, start, stop)
                    else:
                        empty = ak.Array([[]] * (stop - start), with_name=None)
                        parts[coll] = {
                            f: ak.values_astype(empty, "float64") for f in COLLECTIONS[coll]
                        }
                weight = np.ones(stop - start)
                event_id = np.arange(start, stop, dtype=np.int64)
                for key in ("weight", "event_id"):
                    if mapping.get(key):
                        try:
                            arr = tree[mapping[key]].array(
                                entry_start=start, entry_stop=stop, library="ak"
                            )
                        except Exception as exc:
                            raise RootFileError(
                                f"{root}: cannot read branch {mapping[key]!r} (truncated or corrupt file?): {exc}"
                            ) from exc
                        _numeric(arr, 1, root, mapping[key])
                        if key == "weight" and not np.isfinite(ak.to_numpy(arr)).all():
                            i = int(np.argmax(~np.isfinite(ak.to_numpy(arr))))
                            raise RootFileError(
                                f"{root}: branch {mapping[key]!r} (weight) holds NaN or inf "
                                f"at entry {start + i}"
                            )
                        if key == "weight":
                            weight = ak.to_numpy(arr)
                        else:
                            event_id = ak.to_numpy(arr)
                writer.write(make_events(parts["particles"], parts["partons"], weight, event_id))
            meta.setdefault("n_events", n)
            meta.setdefault("chunk_size", step)
            writer.close(meta)
    return meta


def same_events(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if two event Parquet files hold identical tables and metadata."""
    ta, tb = pq.read_table(a), pq.read_table(b)
    return ta.equals(tb) and read_metadata(a) == read_metadata(b)
