"""The event record: one row per event.

- ``particles``: var * {px, py, pz, E: float64 [GeV], pid, charge: int32}
  visible final-state particles;
- ``partons``: var * {px, py, pz, E: float64 [GeV], pid, mother: int32}
  hard-process particles (status |22|, |23|: tops, W, b, H and their decay
  products) for truth labels; ``mother`` is the index of the mother within
  the same event's partons, -1 for particles made directly in the collision;
- ``weight``: float64; ``event_id``: int64.

Parquet and ROOT files share this content; ``EVENT_SCHEMA`` fixes the
Arrow types so every row group (and every writer) agrees byte for byte.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pyarrow as pa

PARTICLE_FIELDS: dict[str, str] = {
    "px": "float64",
    "py": "float64",
    "pz": "float64",
    "E": "float64",
    "pid": "int32",
    "charge": "int32",
}
PARTON_FIELDS: dict[str, str] = {
    "px": "float64",
    "py": "float64",
    "pz": "float64",
    "E": "float64",
    "pid": "int32",
    "mother": "int32",
}
COLLECTIONS: dict[str, dict[str, str]] = {"particles": PARTICLE_FIELDS, "partons": PARTON_FIELDS}
SCALARS: dict[str, str] = {"weight": "float64", "event_id": "int64"}


def _struct(fields: dict[str, str]) -> pa.DataType:
    return pa.struct(
        [pa.field(k, pa.from_numpy_dtype(np.dtype(v)), nullable=False) for k, v in fields.items()]
    )


EVENT_SCHEMA = pa.schema(
    [
        pa.field(
            "particles",
            pa.list_(pa.field("item", _struct(PARTICLE_FIELDS), nullable=False)),
            nullable=False,
        ),
        pa.field(
            "partons",
            pa.list_(pa.field("item", _struct(PARTON_FIELDS), nullable=False)),
            nullable=False,
        ),
        pa.field("weight", pa.float64(), nullable=False),
        pa.field("event_id", pa.int64(), nullable=False),
    ]
)


class EventRecordError(ValueError):
    """An array does not have the fields or types of the event record."""


def make_events(
    particles: dict[str, ak.Array],
    partons: dict[str, ak.Array],
    weight: np.ndarray | ak.Array,
    event_id: np.ndarray | ak.Array,
) -> ak.Array:
    """Assemble an event-record array from per-field jagged arrays (cast to the record dtypes)."""

    def coll(fields: dict[str, ak.Array], spec: dict[str, str], name: str) -> ak.Array:
        missing = set(spec) - set(fields)
        if missing:
            raise EventRecordError(f"{name}: missing fields {sorted(missing)}")
        return ak.zip(
            {k: ak.values_astype(ak.without_parameters(fields[k]), spec[k]) for k in spec}
        )

    return ak.zip(
        {
            "particles": coll(particles, PARTICLE_FIELDS, "particles"),
            "partons": coll(partons, PARTON_FIELDS, "partons"),
            "weight": ak.values_astype(ak.Array(np.asarray(weight)), "float64"),
            "event_id": ak.values_astype(ak.Array(np.asarray(event_id)), "int64"),
        },
        depth_limit=1,
    )


def to_arrow(events: ak.Array) -> pa.Table:
    """Convert an event-record array to an Arrow table with exactly ``EVENT_SCHEMA``."""
    check_events(events)
    table = ak.to_arrow_table(events, extensionarray=False, list_to32=True, count_nulls=False)
    # awkward marks fields nullable; the cast only changes those flags and names
    arrays = [
        table.column(name).combine_chunks().cast(field.type)
        for name, field in zip(EVENT_SCHEMA.names, EVENT_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def check_events(events: ak.Array, source: str = "events") -> None:
    """Raise EventRecordError naming ``source`` if ``events`` is not an event record."""
    fields = set(ak.fields(events))
    expected = set(COLLECTIONS) | set(SCALARS)
    if fields != expected:
        raise EventRecordError(
            f"{source}: fields {sorted(fields)} do not match the event record {sorted(expected)}"
        )
    for name, spec in COLLECTIONS.items():
        got = set(ak.fields(events[name]))
        if got != set(spec):
            raise EventRecordError(
                f"{source}: {name} has fields {sorted(got)}, expected {sorted(spec)}"
            )
