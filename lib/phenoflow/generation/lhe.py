"""Parton-level Les Houches events for gg -> S -> b bbar, S a colour-singlet or -octet scalar.

Pythia 8 has no colour-octet scalar process, so the hard process is written
here and showered by Pythia from an LHEF file (``Beams:frameType = 4``):

* S is made at rest in the transverse plane (LO 2 -> 1, no pT: initial-state
  radiation comes from the shower); its mass m is drawn from a relativistic
  Breit-Wigner in m^2 truncated to ``m_window``;
* given m, its rapidity y is drawn by accept-reject from the gluon luminosity
  x1 g(x1) x2 g(x2) at Q = m with x1,2 = (m / sqrt s) e^{+-y} (Pythia's proton
  PDF, tabulated by :class:`phenoflow.physics.pdf.PDFTable`);
* S -> b bbar is isotropic in the S rest frame, with Pythia's b mass (``5:m0``).

The colour flows (LHEF: a tag is a colour line; an incoming particle's colour
leaves the process as an outgoing colour or meets an incoming anticolour):

========  ===========  ===========  ===========  =========  ===========
S         g1           g2           S            b          bbar
========  ===========  ===========  ===========  =========  ===========
singlet   (501, 502)   (502, 501)   (0, 0)       (503, 0)   (0, 503)
octet     (501, 502)   (502, 503)   (501, 503)   (501, 0)   (0, 503)
========  ===========  ===========  ===========  =========  ===========

The singlet and octet files of a shard hold the same momenta when they are
written with the same ``seed``; only the colour tags and the id of S differ.
There is no coupling model: the cross section written into the file
(``sigma_pb``) is the caller's normalisation, carried through Pythia into the
shard metadata.  Units: GeV, momenta as (px, py, pz, E).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from phenoflow.physics.pdf import GLUON, PDFTable

#: Pythia ids of the new scalars (defined with ``id:new``, see :func:`pythia_lhe_settings`).
SCALAR_IDS = {"singlet": 9000025, "octet": 9000021}
#: Pythia's colour type of each scalar (0: singlet, 2: octet).
COLOUR_TYPES = {"singlet": 0, "octet": 2}
SCALAR_NAMES = {"singlet": "S1", "octet": "S8"}
#: b-quark mass [GeV], Pythia 8's default ``5:m0``.
B_MASS = 4.8
PROTON = 2212
#: Entry order of every event: g1, g2, S, b, bbar.
N_PARTICLES = 5
_STATUS = (-1, -1, 2, 1, 1)
_MOTHERS = ((0, 0), (0, 0), (1, 2), (3, 3), (3, 3))
_COLOURS = {
    "singlet": ((501, 502), (502, 501), (0, 0), (503, 0), (0, 503)),
    "octet": ((501, 502), (502, 503), (501, 503), (501, 0), (0, 503)),
}
# LHE events written beyond the requested number (Pythia may reject a few)
_MARGIN_FRACTION = 0.02
_MARGIN_MIN = 10


@dataclass(frozen=True)
class ScalarResonance:
    """The S of gg -> S -> b bbar: colour (``singlet`` or ``octet``), mass, width, window [GeV]."""

    colour: str
    mass: float
    width: float
    m_window: tuple[float, float]
    ecm: float = 14000.0

    def __post_init__(self) -> None:
        if self.colour not in SCALAR_IDS:
            raise ValueError(f"colour must be one of {sorted(SCALAR_IDS)}, got {self.colour!r}")
        lo, hi = self.m_window
        if not 2 * B_MASS < lo < self.mass < hi < self.ecm:
            raise ValueError(
                f"need 2 m_b < m_window[0] < mass < m_window[1] < ecm [GeV], got "
                f"m_window={list(self.m_window)}, mass={self.mass}, ecm={self.ecm}"
            )
        if not self.width > 0:
            raise ValueError(f"width must be > 0 GeV, got {self.width}")

    @property
    def pid(self) -> int:
        return SCALAR_IDS[self.colour]


@dataclass(frozen=True)
class PartonEvents:
    """Hard-process events: ``p`` (n, 5, 4) momenta (px, py, pz, E) of g1, g2, S, b, bbar [GeV].

    ``x1``, ``x2`` (n,) are the gluons' momentum fractions, ``mass`` and ``y``
    (n,) the mass [GeV] and rapidity of S.
    """

    p: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    mass: np.ndarray
    y: np.ndarray


@lru_cache(maxsize=2)
def gluon_pdf(settings: tuple[str, ...] = ()) -> PDFTable:
    """Pythia's proton gluon density x g(x, Q^2) as a :class:`PDFTable` (built in memory, < 0.1 s)."""
    return PDFTable.from_pythia(settings=settings, pids=(GLUON,))


def gluon_luminosity(y: np.ndarray, mass: np.ndarray, ecm: float, pdf: PDFTable) -> np.ndarray:
    """x1 g(x1) x2 g(x2) at Q = ``mass``, x1,2 = (mass / ecm) e^{+-y}; 0 where an x >= 1.

    ``y`` and ``mass`` [GeV] broadcast to a common shape, which is returned.
    """
    y, mass = np.broadcast_arrays(np.asarray(y, float), np.asarray(mass, float))
    x1 = mass / ecm * np.exp(y)
    x2 = mass / ecm * np.exp(-y)
    inside = (x1 < 1.0) & (x2 < 1.0)
    q2 = mass**2
    lum = pdf.xf(GLUON, np.where(inside, x1, 0.5), q2) * pdf.xf(
        GLUON, np.where(inside, x2, 0.5), q2
    )
    return np.where(inside, lum, 0.0)


def sample_mass(rng: np.random.Generator, n: int, s: ScalarResonance) -> np.ndarray:
    """(n,) masses [GeV] from a relativistic Breit-Wigner in m^2, truncated to ``s.m_window``."""
    mg = s.mass * s.width
    lo, hi = (math.atan((m**2 - s.mass**2) / mg) for m in s.m_window)
    return np.sqrt(s.mass**2 + mg * np.tan(rng.uniform(lo, hi, n)))


def _luminosity_bound(mass: np.ndarray, s: ScalarResonance, pdf: PDFTable) -> np.ndarray:
    """An upper bound of the luminosity over y at each mass (n,): maxima on an (m, y) grid."""
    m_nodes = np.linspace(*s.m_window, 17)
    y_max = math.log(s.ecm / s.m_window[0])
    grid = gluon_luminosity(np.linspace(-y_max, y_max, 401)[None, :], m_nodes[:, None], s.ecm, pdf)
    peak = grid.max(axis=1)
    cell = np.clip(np.searchsorted(m_nodes, mass) - 1, 0, len(m_nodes) - 2)
    # the luminosity changes by a few per cent between grid points: 25% headroom
    return 1.25 * np.maximum(peak[cell], peak[cell + 1])


def sample_rapidity(
    rng: np.random.Generator, mass: np.ndarray, s: ScalarResonance, pdf: PDFTable
) -> np.ndarray:
    """(n,) rapidities of S given its masses (n,) [GeV]: accept-reject from the gluon luminosity.

    Proposals are uniform in |y| < ln(ecm / m); a rejected event is proposed
    again at the same mass, so y follows the luminosity at that mass exactly.
    """
    bound = _luminosity_bound(mass, s, pdf)
    y = np.empty(mass.shape)
    todo = np.arange(mass.size)
    for _ in range(10_000):
        if not todo.size:
            return y
        y_max = np.log(s.ecm / mass[todo])
        proposal = rng.uniform(-y_max, y_max)
        w = gluon_luminosity(proposal, mass[todo], s.ecm, pdf) / bound[todo]
        if np.any(w > 1.0):
            raise RuntimeError(f"gluon-luminosity bound too low (weight {w.max():.3f} > 1)")
        ok = rng.random(todo.size) < w
        y[todo[ok]] = proposal[ok]
        todo = todo[~ok]
    raise RuntimeError(f"rapidity sampling did not converge ({todo.size} events left)")


def sample_events(
    n: int, seed: int, s: ScalarResonance, pdf: PDFTable | None = None
) -> PartonEvents:
    """``n`` events gg -> S -> b bbar drawn from ``seed`` (independent of ``s.colour``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    pdf = pdf if pdf is not None else gluon_pdf()
    rng = np.random.default_rng(seed)
    mass = sample_mass(rng, n, s)
    y = sample_rapidity(rng, mass, s, pdf)
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * math.pi, n)
    x1 = mass / s.ecm * np.exp(y)
    x2 = mass / s.ecm * np.exp(-y)
    p = np.zeros((n, N_PARTICLES, 4))
    half = 0.5 * s.ecm
    p[:, 0, 2] = p[:, 0, 3] = x1 * half
    p[:, 1, 2], p[:, 1, 3] = -x2 * half, x2 * half
    p[:, 2, 2], p[:, 2, 3] = mass * np.sinh(y), mass * np.cosh(y)
    # b in the S rest frame, then boosted along z with (gamma, beta gamma) = (cosh y, sinh y)
    e_star = 0.5 * mass
    p_star = np.sqrt(e_star**2 - B_MASS**2)
    sin_t = np.sqrt(1.0 - cos_t**2)
    px, py, pz = p_star * sin_t * np.cos(phi), p_star * sin_t * np.sin(phi), p_star * cos_t
    ch, sh = np.cosh(y), np.sinh(y)
    for i, sign in ((3, 1.0), (4, -1.0)):
        p[:, i, 0], p[:, i, 1] = sign * px, sign * py
        p[:, i, 2] = ch * sign * pz + sh * e_star
        p[:, i, 3] = ch * e_star + sh * sign * pz
    return PartonEvents(p, x1, x2, mass, y)


def lhe_events_needed(n_events: int) -> int:
    """Events to write for a shower job of ``n_events``: a margin for events Pythia rejects."""
    return n_events + max(_MARGIN_MIN, math.ceil(_MARGIN_FRACTION * n_events))


def lhe_text(events: PartonEvents, s: ScalarResonance, sigma_pb: float, comment: str = "") -> str:
    """The LHEF 3.0 text of ``events`` (IDWTUP 3: unweighted, cross section ``sigma_pb``)."""
    init = (
        f"{PROTON} {PROTON} {s.ecm / 2:.10e} {s.ecm / 2:.10e} 0 0 0 0 3 1\n"
        f"{sigma_pb:.10e} {0.0:.10e} {1.0:.10e} 1\n"
    )
    lines = [
        '<LesHouchesEvents version="3.0">',
        "<header>",
        f"<!-- phenoflow: g g -> S -> b bbar, S colour {s.colour}; {comment} -->",
        "</header>",
        f"<init>\n{init}</init>",
    ]
    ids = (21, 21, s.pid, 5, -5)
    rows = [
        f"{ids[i]:>8d} {_STATUS[i]:>2d} {_MOTHERS[i][0]} {_MOTHERS[i][1]} "
        f"{_COLOURS[s.colour][i][0]:>3d} {_COLOURS[s.colour][i][1]:>3d} "
        for i in range(N_PARTICLES)
    ]
    masses = np.zeros(events.p.shape[:2])
    masses[:, 2], masses[:, 3:] = events.mass, B_MASS
    for k in range(events.p.shape[0]):
        body = "".join(
            f"{rows[i]}{v[0]:.16e} {v[1]:.16e} {v[2]:.16e} {v[3]:.16e} {masses[k, i]:.16e} 0. 9.\n"
            for i, v in enumerate(events.p[k])
        )
        lines.append(
            f"<event>\n{N_PARTICLES} 1 1.0 {events.mass[k]:.10e} 7.8125e-03 1.18e-01\n{body}</event>"
        )
    lines.append("</LesHouchesEvents>\n")
    return "\n".join(lines)


def write_lhe(
    path: str | Path,
    n_events: int,
    seed: int,
    *,
    colour: str,
    mass: float,
    width: float,
    m_window: tuple[float, float],
    ecm: float = 14000.0,
    sigma_pb: float = 1.0,
) -> int:
    """Write ``n_events`` gg -> S -> b bbar events to the LHEF file ``path``; return ``n_events``.

    The momenta depend on (``seed``, mass, width, window, ecm) only, so a
    singlet and an octet file of the same ``seed`` hold the same momenta.  The
    file is written to a temporary name and renamed: no half-written file stays.
    """
    s = ScalarResonance(colour, float(mass), float(width), (m_window[0], m_window[1]), ecm)
    if not sigma_pb > 0:
        raise ValueError(f"sigma_pb must be > 0, got {sigma_pb}")
    events = sample_events(n_events, seed, s)
    comment = f"mass {mass} GeV, width {width} GeV, window {list(m_window)}, seed {seed}"
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(lhe_text(events, s, sigma_pb, comment))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n_events


def pythia_lhe_settings(
    colour: str, mass: float, width: float, m_window: tuple[float, float], lhe_file: str | Path
) -> tuple[str, ...]:
    """Pythia settings that shower ``lhe_file``: the scalar's definition and the LHEF beams."""
    name = SCALAR_NAMES[colour]
    lo, hi = m_window
    return (
        f"{SCALAR_IDS[colour]}:new = {name} void 1 0 {COLOUR_TYPES[colour]} "
        f"{mass} {width} {lo} {hi} 0.",
        "Beams:frameType = 4",
        f"Beams:LHEF = {lhe_file}",
    )


@dataclass(frozen=True)
class LHEEvents:
    """Events read from an LHEF file with the same number of particles in every event.

    ``pid``, ``status`` (n, k); ``mothers``, ``colours`` (n, k, 2); ``p`` (n, k, 5)
    as (px, py, pz, E, m) [GeV]; ``scale`` (n,) [GeV]; ``sigma_pb`` from ``<init>``.
    """

    pid: np.ndarray
    status: np.ndarray
    mothers: np.ndarray
    colours: np.ndarray
    p: np.ndarray
    scale: np.ndarray
    sigma_pb: float


def read_lhe(path: str | Path) -> LHEEvents:
    """Read an LHEF file of fixed-multiplicity events (as :func:`write_lhe` writes)."""
    text = Path(path).read_text()
    init = text.split("<init>", 1)[1].split("</init>", 1)[0].split()
    blocks = [b.split("</event>", 1)[0].split() for b in text.split("<event>")[1:]]
    if not blocks:
        raise ValueError(f"{path}: no <event> blocks")
    k = int(blocks[0][0])
    if any(int(b[0]) != k or len(b) != 6 + 13 * k for b in blocks):
        raise ValueError(f"{path}: events differ in their number of particles (expected {k})")
    head = np.array([b[:6] for b in blocks], dtype=float)
    rows = np.array([b[6:] for b in blocks], dtype=float).reshape(len(blocks), k, 13)
    ints = rows[..., :6].astype(np.int64)
    return LHEEvents(
        pid=ints[..., 0],
        status=ints[..., 1],
        mothers=ints[..., 2:4],
        colours=ints[..., 4:6],
        p=rows[..., 6:11],
        scale=head[:, 3],
        sigma_pb=float(init[10]),
    )
