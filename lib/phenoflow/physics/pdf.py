"""Proton PDFs tabulated from Pythia 8 and interpolated on whole arrays.

Pythia's built-in proton PDF (``PDF:pSet``; the default 13 is NNPDF2.3 QCD+QED
LO) is evaluated once on a grid uniform in (logit x = ln(x / (1 - x)), ln Q^2)
for the five light quarks and their antiquarks (logit x spaces the nodes
logarithmically at small x and densely towards x -> 1, where the densities fall
like powers of 1 - x); :meth:`PDFTable.xf` then interpolates x f(x, Q^2)
with separable 4-point (cubic Lagrange) weights, all flavours of a point in one
gather.  Building the default table takes well under a second, so it is
built in memory; :meth:`PDFTable.save` / :meth:`PDFTable.load` keep a copy in
an ``.npz`` with its PDF set and grid, for jobs without Pythia;
:meth:`PDFTable.cached` keys its file by the grid, the settings, Pythia's
version and this code (``phenoflow.resume``).

Shapes: ``x`` and ``q2`` broadcast to a common shape S; ``xf`` returns S,
``xf_all`` returns S + (10,) in the order of :data:`PIDS`.  Units: Q^2 in GeV^2.
A table of other partons (``pids=(GLUON,)`` for the gluon) has one column per
parton of its ``pids``, in that order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from phenoflow.codehash import adapter_code_hash
from phenoflow.resume import key_differences, resume_key

log = logging.getLogger(__name__)
#: Parton ids of the table columns: d u s c b, then their antiquarks.
PIDS: tuple[int, ...] = (1, 2, 3, 4, 5, -1, -2, -3, -4, -5)
#: The gluon's parton id (a table built with ``pids=(GLUON,)`` holds it).
GLUON = 21
# points per pass in xf_all: temporaries of a pass stay in cache (~10 MB)
_CHUNK = 1 << 13


@dataclass(frozen=True)
class PDFGrid:
    """The (logit x, ln Q^2) grid of a table.

    ``x_min``, ``x_max``  tabulated range of x; above ``x_max`` x f is set to 0
                (at x_max = 0.999 the densities are ~1e-12 of their peak).
    ``q_min``, ``q_max``  range of Q = sqrt(Q^2) [GeV].  Keep ``q_min`` above the
                b-quark threshold (4.8 GeV): the b density has a kink there.
                Above ``q_max`` the densities are frozen at Q = q_max, as Pythia
                does above the end of its grid; the default 10 TeV is that end
                for NNPDF2.3 (so tables of it agree with Pythia at any Q).
    ``n_x``, ``n_q``  number of nodes along logit x and ln Q^2 (>= 4 each).
    """

    x_min: float = 1.0e-7
    x_max: float = 0.999
    q_min: float = 10.0
    q_max: float = 10000.0
    n_x: int = 401
    n_q: int = 73

    def __post_init__(self) -> None:
        if not 0.0 < self.x_min < self.x_max < 1.0:
            raise ValueError(
                f"PDFGrid needs 0 < x_min < x_max < 1, got x_min={self.x_min}, x_max={self.x_max}"
            )
        if not 0.0 < self.q_min < self.q_max:
            raise ValueError(
                f"PDFGrid needs 0 < q_min < q_max [GeV], got q_min={self.q_min}, q_max={self.q_max}"
            )
        if self.n_x < 4 or self.n_q < 4:
            raise ValueError(f"PDFGrid needs n_x, n_q >= 4, got n_x={self.n_x}, n_q={self.n_q}")

    @property
    def logit_x(self) -> np.ndarray:
        """(n_x,) nodes in logit x = ln(x / (1 - x)), from x_min to x_max."""
        return np.linspace(_logit(self.x_min), _logit(self.x_max), self.n_x)

    @property
    def log_q2(self) -> np.ndarray:
        """(n_q,) nodes in ln Q^2 [ln GeV^2]."""
        return np.linspace(2.0 * math.log(self.q_min), 2.0 * math.log(self.q_max), self.n_q)


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """4-point Lagrange weights (n, 4) for nodes -1, 0, 1, 2 at fractional positions t (n,)."""
    w = np.empty((t.size, 4))
    tm1, tp1, tm2 = t - 1.0, t + 1.0, t - 2.0
    tt = t * tm1
    w[:, 0] = tt * tm2 * (-1.0 / 6.0)
    w[:, 1] = tp1 * tm1 * tm2 * 0.5
    w[:, 2] = tp1 * t * tm2 * -0.5
    w[:, 3] = tt * tp1 * (1.0 / 6.0)
    return w


class PDFTable:
    """x f(x, Q^2) of a proton on a (logit x, ln Q^2) grid, interpolated vectorised.

    ``values`` has shape (n_q, n_x, len(pids)): Q^2 node, x node, parton in the
    order of ``pids`` (default :data:`PIDS`, the quarks and antiquarks).
    ``pdf_set`` names the source (Pythia's ``PDF:pSet``).
    """

    def __init__(
        self, grid: PDFGrid, values: np.ndarray, pdf_set: str, pids: tuple[int, ...] = PIDS
    ) -> None:
        self.pids = tuple(int(p) for p in pids)
        self._column = {pid: i for i, pid in enumerate(self.pids)}
        expected = (grid.n_q, grid.n_x, len(self.pids))
        if values.shape != expected:
            raise ValueError(f"PDFTable values must have shape {expected}, got {values.shape}")
        self.grid = grid
        self.pdf_set = pdf_set
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self._flat = self.values.reshape(grid.n_q * grid.n_x, len(self.pids))
        self._lx0 = _logit(grid.x_min)
        self._hx = (_logit(grid.x_max) - self._lx0) / (grid.n_x - 1)
        self._lq0 = 2.0 * math.log(grid.q_min)
        self._hq = 2.0 * math.log(grid.q_max / grid.q_min) / (grid.n_q - 1)
        self._lq_top = 2.0 * math.log(grid.q_max)
        self._stencil = (np.arange(4)[:, None] * grid.n_x + np.arange(4)[None, :]).ravel()

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_pythia(
        cls,
        grid: PDFGrid | None = None,
        settings: tuple[str, ...] = (),
        pids: tuple[int, ...] = PIDS,
    ) -> PDFTable:
        """Tabulate Pythia's proton PDF (``getPDFPtr(2212)``) of the partons ``pids`` on ``grid``.

        ``settings`` are extra ``readString`` lines (e.g. ``("PDF:pSet = 8",)``)
        applied before the PDF is fetched.  Pythia needs no ``init()`` for this.
        """
        grid = grid or PDFGrid()
        pythia = _pythia(settings)
        pdf = pythia.getPDFPtr(2212)
        xs = 1.0 / (1.0 + np.exp(-grid.logit_x))
        q2s = np.exp(grid.log_q2)
        values = np.zeros((grid.n_q, grid.n_x, len(pids)))
        for iq, q2 in enumerate(q2s.tolist()):
            for ix, x in enumerate(xs.tolist()):
                row = values[iq, ix]
                for col, pid in enumerate(pids):
                    row[col] = pdf.xf(pid, x, q2)
        return cls(grid, values, pdf_set=str(pythia.word("PDF:pSet")), pids=pids)

    def save(self, path: str | Path | BinaryIO, key: dict[str, str] | None = None) -> None:
        """Write the table (.npz) to ``path`` or an open binary file, with its grid and PDF set.

        ``key`` (``phenoflow.resume.resume_key``) marks a cache with what made it.
        """
        g = self.grid
        arrays: dict[str, Any] = {
            "values": self.values,
            "grid": np.array([g.x_min, g.x_max, g.q_min, g.q_max, g.n_x, g.n_q], dtype=np.float64),
            "pdf_set": np.array(self.pdf_set),
            "pids": np.array(self.pids),
        }
        if key is not None:
            arrays["key"] = np.array(json.dumps(key, sort_keys=True))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(
        cls,
        path: str | Path,
        grid: PDFGrid | None = None,
        pdf_set: str | None = None,
        pids: tuple[int, ...] = PIDS,
    ) -> PDFTable:
        """Read a table of the partons ``pids`` written by :meth:`save`.

        If ``grid`` or ``pdf_set`` is given, the file must match it, and its
        partons must be ``pids``; a mismatch raises ``ValueError`` naming the
        file (a stale cache, to be rebuilt).
        """
        with np.load(path) as f:
            x_min, x_max, q_min, q_max, n_x, n_q = f["grid"].tolist()
            stored = PDFGrid(x_min, x_max, q_min, q_max, int(n_x), int(n_q))
            stored_set = str(f["pdf_set"])
            if tuple(f["pids"].tolist()) != tuple(pids):
                raise ValueError(f"{path}: parton columns {f['pids'].tolist()} != {list(pids)}")
            values = f["values"]
        if grid is not None and grid != stored:
            raise ValueError(f"{path}: table grid {stored} differs from the requested {grid}")
        if pdf_set is not None and pdf_set != stored_set:
            raise ValueError(f"{path}: table PDF set {stored_set!r} != requested {pdf_set!r}")
        return cls(stored, values, stored_set, pids)

    @classmethod
    def cached(
        cls,
        path: str | Path,
        grid: PDFGrid | None = None,
        settings: tuple[str, ...] = (),
        pids: tuple[int, ...] = PIDS,
    ) -> PDFTable:
        """Load ``path`` if the same job made it, else build and save it.

        The same job: the same ``grid``, ``settings`` and ``pids``, the same Pythia (whose
        PDF data it tabulates) and the same code (this module's import closure).
        Any other cache is logged and rebuilt.  The file is written to a
        temporary name and renamed, so a crash never leaves a half-written cache.
        """
        grid = grid or PDFGrid()
        path = Path(path)
        key = _cache_key(grid, settings, pids)
        if path.exists():
            try:
                with np.load(path) as f:
                    stored = json.loads(str(f["key"])) if "key" in f.files else None
                why = key_differences(stored, key)
                if not why:
                    return cls.load(path, grid, _pythia_pdf_set(settings), pids)
                log.info(
                    "PDF cache ignored: made by a different job (%s changed): %s; rebuilding",
                    ", ".join(why), path,
                )  # fmt: skip
            except (ValueError, OSError, KeyError):
                pass  # unreadable, another grid or PDF set: rebuilt below
        table = cls.from_pythia(grid, settings, pids)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            table.save(fh, key)
        os.replace(tmp, path)
        return table

    # -- evaluation ---------------------------------------------------------------------

    def check_domain(self, x: Any, q2: Any) -> None:
        """Raise ``ValueError`` unless all x lie in [x_min, 1] and Q^2 >= q_min^2."""
        x = np.asarray(x)
        q2 = np.asarray(q2)
        g = self.grid
        if x.size and (np.min(x) < g.x_min * (1 - 1e-12) or np.max(x) > 1.0):
            raise ValueError(
                f"x outside the PDF table's range [{g.x_min:g}, 1]: "
                f"min {np.min(x):g}, max {np.max(x):g}"
            )
        if q2.size and np.min(q2) < g.q_min**2 * (1 - 1e-12):
            raise ValueError(
                f"Q^2 below the PDF table's range (>= {g.q_min**2:g} GeV^2): min {np.min(q2):g}"
            )

    def xf_all(self, x: Any, q2: Any, check: bool = True) -> np.ndarray:
        """x f(x, Q^2) for all partons of the table (``pids``): shape S + (len(pids),).

        ``x`` and ``q2`` [GeV^2] broadcast to S.  With ``check`` (default) points
        outside the table raise ``ValueError``; without it they are extrapolated
        (callers that have checked their domain skip the cost).
        """
        x, q2 = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(q2, np.float64))
        if check:
            self.check_domain(x, q2)
        shape = x.shape
        x = x.ravel()
        q2 = q2.ravel()
        out = np.empty((x.size, len(self.pids)))
        # chunks keep every temporary in cache; (chunk, 16, 10) stencil rows at most
        for lo in range(0, x.size, _CHUNK):
            hi = min(lo + _CHUNK, x.size)
            out[lo:hi] = self._interpolate(x[lo:hi], q2[lo:hi])
        return out.reshape(*shape, len(self.pids))

    def _interpolate(self, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
        """Bicubic interpolation at (n,) points: (n, len(pids))."""
        g = self.grid
        xc = np.minimum(x, g.x_max)  # x = 1 would give logit = inf
        sx = (np.log(xc / (1.0 - xc)) - self._lx0) * (1.0 / self._hx)
        sq = (np.minimum(np.log(q2), self._lq_top) - self._lq0) * (1.0 / self._hq)
        ix = np.clip(sx.astype(np.intp), 1, g.n_x - 3)  # sx >= 0 inside: truncation = floor
        iq = np.clip(sq.astype(np.intp), 1, g.n_q - 3)
        # one gather of the 4x4 stencil, then a weighted sum: ~10x faster than
        # 16 separate fancy-index passes over (n, 10) temporaries
        w = _cubic_weights(sq - iq)[:, :, None] * _cubic_weights(sx - ix)[:, None, :]
        rows = np.take(self._flat, ((iq - 1) * g.n_x + (ix - 1))[:, None] + self._stencil, axis=0)
        out = np.einsum("nk,nkf->nf", w.reshape(-1, 16), rows)
        out[x > g.x_max] = 0.0
        return out

    def xf(self, pid: int, x: Any, q2: Any) -> np.ndarray:
        """x f(x, Q^2) of parton ``pid`` (one of ``pids``): shape S of broadcast ``x``, ``q2``."""
        if pid not in self._column:
            raise ValueError(f"PDFTable holds the parton ids {self.pids}, not {pid}")
        return self.xf_all(x, q2)[..., self._column[pid]]


def _logit(x: float) -> float:
    return math.log(x / (1.0 - x))


def _pythia(settings: tuple[str, ...]) -> Any:
    """A quiet, uninitialised ``pythia8mc.Pythia`` with ``settings`` applied."""
    from phenoflow.generation.pythia import make_pythia

    return make_pythia(settings, init=False, where=lambda i: " (a PDF setting)")


def _cache_key(
    grid: PDFGrid, settings: tuple[str, ...], pids: tuple[int, ...] = PIDS
) -> dict[str, str]:
    """What determines a cached table: grid, settings, partons, Pythia's version, this code."""
    from importlib.metadata import version

    params = {"grid": dataclasses.asdict(grid), "settings": list(settings), "pids": list(pids)}
    return resume_key(params, adapter_code_hash(__file__), f"pythia8mc {version('pythia8mc')}")


def _pythia_pdf_set(settings: tuple[str, ...]) -> str:
    """Pythia's ``PDF:pSet`` after applying ``settings`` (no init needed)."""
    return str(_pythia(settings).word("PDF:pSet"))
