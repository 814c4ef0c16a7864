"""Event-record Parquet files: streamed row groups, metadata, atomic writes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import pyarrow as pa
import pyarrow.parquet as pq

from phenoflow.io.schema import EVENT_SCHEMA, check_events, to_arrow

# Fixed writer options: part of the byte-identical-output contract.
_WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": False,
    "write_statistics": True,
    "version": "2.6",
}


class CorruptFileError(ValueError):
    """An input Parquet file is missing, truncated or not Parquet at all."""


def corrupt_file_error(path: str | os.PathLike[str], exc: BaseException) -> CorruptFileError:
    """The error for an unreadable workflow file: which file, why, and how to rebuild it."""
    return CorruptFileError(
        f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc}). It may have been "
        f"truncated (an interrupted copy, a full disk) or replaced. Rebuild it with "
        f"`snakemake --cores N --forcerun {path}` (its downstream outputs follow), "
        f"or delete it and rerun."
    )


def open_parquet(path: str | os.PathLike[str]) -> pq.ParquetFile:
    """``pyarrow.parquet.ParquetFile(path)`` with a CorruptFileError naming the file."""
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise CorruptFileError(f"{path}: file not found") from None
    except (pa.ArrowException, OSError) as exc:
        raise corrupt_file_error(path, exc) from exc


def read_table(path: str | os.PathLike[str], columns: list[str] | None = None) -> pa.Table:
    """``pyarrow.parquet.read_table`` with a CorruptFileError naming the file."""
    try:
        return pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise CorruptFileError(f"{path}: file not found") from None
    except (pa.ArrowException, OSError) as exc:
        raise corrupt_file_error(path, exc) from exc


def encode_metadata(metadata: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Parquet key-value metadata: each value JSON-encoded, keys sorted."""
    return {k.encode(): json.dumps(metadata[k], sort_keys=True).encode() for k in sorted(metadata)}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The phenoflow metadata of an event Parquet file (JSON-decoded values)."""
    raw = open_parquet(path).metadata.metadata or {}
    out = {}
    for k, v in raw.items():
        key = k.decode()
        if key.startswith("ARROW:"):
            continue
        out[key] = json.loads(v)
    return out


class EventWriter:
    """Stream event chunks into a Parquet file, one row group per chunk.

    Writes to ``<path>.tmp`` and renames on ``close(metadata)``; on an
    exception inside a ``with`` block the temporary file is removed, so no
    half-written output is left behind.  Memory is bounded by one chunk.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self.tmp, EVENT_SCHEMA, **_WRITER_OPTIONS
        )
        self.n_events = 0

    def write(self, events: ak.Array | pa.Table) -> None:
        table = events if isinstance(events, pa.Table) else to_arrow(events)
        if table.schema != EVENT_SCHEMA:
            raise ValueError("table does not have the event-record schema")
        assert self._writer is not None, "writer already closed"
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self.n_events += table.num_rows

    def close(self, metadata: Mapping[str, Any]) -> None:
        assert self._writer is not None, "writer already closed"
        self._writer.add_key_value_metadata(encode_metadata(metadata))
        self._writer.close()
        self._writer = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None or self._writer is not None:
            # an exception, or the block ended without close(): leave nothing behind
            self.abort()


def iter_events(path: str | os.PathLike[str]) -> Iterator[ak.Array]:
    """Yield the event record of a Parquet file row group by row group."""
    pf = open_parquet(path)
    for i in range(pf.num_row_groups):
        try:
            table = pf.read_row_group(i)
        except (pa.ArrowException, OSError) as exc:
            raise corrupt_file_error(path, exc) from exc
        yield ak.from_arrow(table, highlevel=True)


def read_events(path: str | os.PathLike[str]) -> ak.Array:
    """Read a whole event Parquet file into an awkward array."""
    events = ak.from_arrow(read_table(path), highlevel=True)
    check_events(events, str(path))
    return events
