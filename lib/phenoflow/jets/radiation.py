"""Soft-radiation images of b bbar events, in the event frame and on the Riemann sphere.

A colour-singlet resonance -> b bbar radiates mostly between the two b jets, colour-octet or
QCD b bbar mostly outside them, towards the beams (arXiv:2209.03898, arXiv:2311.16674).

**Event frame** (:func:`event_frame`): every particle's (Delta eta, Delta phi) from the
midpoint of the two b-jet axes in (eta, phi) (Delta phi wrapped into [-pi, pi), the midpoint
taken along the shorter arc, so jets on both sides of phi = +-pi are handled), rotated so that
the b bbar axis is horizontal with the leading jet at (u, v) = (+R, 0) and the subleading one at
(-R, 0), R = Delta R_bb / 2.  The rotation acts on (eta, phi) as on a plane; Delta phi is
wrapped before rotating, so the frame is exact near the jets and approximate only for
particles about pi away in phi from the midpoint.

**Riemann map** (:func:`riemann_map`): with D^2 = u^2 + v^2, z = (D^2 - R^2) / (D^2 + R^2) and
psi = atan2(v, u): the midpoint goes to z = -1, the circle through both jet axes to z = 0 and
far-away particles to z -> +1; psi = 0 towards the leading jet, +-pi towards the subleading one.
z and psi do not change when u, v and R are scaled together, so the map removes the dependence
of the jet separation (and hence of pT_bb) from the image.

**Images** (:func:`radiation_images`), ``image[event, row, col]``:

- ``"plain"``: col = u bin over [-w, w), row = v bin over [-pi, pi) (w = ``eta_half_width``);
  bins are half-open, particles outside are dropped.
- ``"riemann"``: col = psi bin over [-pi, pi], row = arcsin(z) bin over [-pi/2, pi/2]; the
  upper edges belong to the last bin, so every particle lands in the image.

Row 0 is the lowest v (or arcsin z), col 0 the lowest u (or psi): show one with
``plt.imshow(image[i], origin="lower", extent=(-w, w, -np.pi, np.pi))``.  Pixels hold the sum
of pT [GeV] of the particles that pass the selection of :class:`RadiationImageConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.physics.kinematics import delta_phi

PARTICLE_FIELDS: tuple[str, ...] = ("px", "py", "pz", "E", "charge")
IMAGE_KINDS: tuple[str, ...] = ("plain", "riemann")


@dataclass(frozen=True)
class RadiationImageConfig:
    """Which particles go into the radiation images, and the image binning.

    Attributes:
        size: pixels per side.
        pt_min: particles with pT > pt_min [GeV] are used.
        charged_only: use charged particles only (charge != 0); False adds the neutrals.
        core_r: drop particles within Delta R < core_r of either b-jet axis (0 keeps all).
        eta_half_width: the plain image covers u in [-w, w) and v in [-pi, pi).
    """

    size: int = 32
    pt_min: float = 1.0
    charged_only: bool = True
    core_r: float = 0.4
    eta_half_width: float = 4.0

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(
                f"RadiationImageConfig.size must be a positive integer, got {self.size!r}"
            )
        if not isinstance(self.charged_only, bool):
            raise ValueError(
                f"RadiationImageConfig.charged_only must be true or false, got "
                f"{self.charged_only!r}"
            )
        for name, low, strict in (
            ("pt_min", 0.0, False),
            ("core_r", 0.0, False),
            ("eta_half_width", 0.0, True),
        ):
            value = getattr(self, name)
            ok = (
                not isinstance(value, bool)
                and isinstance(value, (int, float))
                and math.isfinite(value)
                and (value > low if strict else value >= low)
            )
            if not ok:
                bound = "> 0" if strict else ">= 0"
                raise ValueError(
                    f"RadiationImageConfig.{name} must be a finite number {bound}, got {value!r}"
                )


@dataclass(frozen=True)
class _Flat:
    """All particles of all events as flat (n_particles,) arrays; ``event`` the event index."""

    counts: np.ndarray
    event: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    charge: np.ndarray


def _flatten(particles: ak.Array, n_events: int) -> _Flat:
    if not isinstance(particles, ak.Array):
        raise TypeError(
            f"particles must be an awkward Array n_events * var * {{px, py, pz, E, charge}}, "
            f"got {type(particles).__name__}"
        )
    missing = [f for f in PARTICLE_FIELDS if f not in particles.fields]
    if missing or particles.ndim != 2:
        raise ValueError(
            f"particles must be n_events * var * {{{', '.join(PARTICLE_FIELDS)}}}; got "
            f"{particles.type} (missing fields: {missing})"
        )
    if len(particles) != n_events:
        raise ValueError(f"particles has {len(particles)} events but b_jets has {n_events}")
    counts = np.asarray(ak.to_numpy(ak.num(particles, axis=1)), dtype=np.int64)
    flat = ak.flatten(ak.Array(particles.layout), axis=1)

    def column(name: str) -> np.ndarray:
        return np.asarray(ak.to_numpy(flat[name], allow_missing=False), dtype=np.float64)

    px, py, pz = column("px"), column("py"), column("pz")
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):  # pT = 0: eta = +-inf or NaN
        eta = np.arcsinh(pz / pt)
    return _Flat(
        counts=counts,
        event=np.repeat(np.arange(n_events, dtype=np.int64), counts),
        pt=pt,
        eta=eta,
        phi=np.arctan2(py, px),
        charge=column("charge"),
    )


def bb_frame(b_jets: np.ndarray) -> dict[str, np.ndarray]:
    """Per event (n,) float64: the midpoint ``eta_c``, ``phi_c`` (in [-pi, pi)) of the two
    b-jet axes, the angle ``angle`` of the subleading -> leading axis in the (eta, phi) plane
    and ``half_distance`` R = Delta R_bb / 2.

    Raises ValueError if ``b_jets`` is not (n, 2, 4) finite, a jet has pT = 0 or the two axes
    coincide (no frame can be defined).
    """
    jets = np.asarray(b_jets, dtype=np.float64)
    if jets.ndim != 3 or jets.shape[1:] != (2, 4):
        raise ValueError(f"b_jets has shape {jets.shape}, expected (n, 2, 4) (px, py, pz, E)")
    if not np.all(np.isfinite(jets)):
        bad = np.flatnonzero(~np.isfinite(jets).all(axis=(1, 2)))
        raise ValueError(f"b_jets has non-finite values in events {bad[:5].tolist()}")
    pt = np.hypot(jets[..., 0], jets[..., 1])
    if np.any(pt <= 0):
        bad = np.flatnonzero((pt <= 0).any(axis=1))
        raise ValueError(f"b_jets: a jet with pT = 0 in events {bad[:5].tolist()}")
    eta = np.arcsinh(jets[..., 2] / pt)
    phi = np.arctan2(jets[..., 1], jets[..., 0])
    # half of the (leading - subleading) separation, the shorter way round in phi
    half_eta = 0.5 * (eta[:, 0] - eta[:, 1])
    half_phi = 0.5 * delta_phi(phi[:, 0], phi[:, 1])
    half_distance = np.hypot(half_eta, half_phi)
    if np.any(half_distance == 0):
        bad = np.flatnonzero(half_distance == 0)
        raise ValueError(f"b_jets: the two jet axes coincide in events {bad[:5].tolist()}")
    return {
        "eta_c": eta[:, 1] + half_eta,
        "phi_c": delta_phi(phi[:, 1] + half_phi, 0.0),
        "angle": np.arctan2(half_phi, half_eta),
        "half_distance": half_distance,
    }


def _uv(flat: _Flat, frame: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flat (u, v) of every particle in its event's frame."""
    e = flat.event
    x = flat.eta - frame["eta_c"][e]
    y = delta_phi(flat.phi, frame["phi_c"][e])
    c, s = np.cos(frame["angle"])[e], np.sin(frame["angle"])[e]
    with np.errstate(invalid="ignore"):  # eta = +-inf (pT = 0) gives NaN, never a warning
        return c * x + s * y, c * y - s * x


def event_frame(particles: ak.Array, b_jets: np.ndarray) -> tuple[ak.Array, ak.Array, np.ndarray]:
    """Every particle's coordinates in the b bbar frame (see the module docstring).

    Args:
        particles: ``n * var * {px, py, pz, E, charge, ...}`` [GeV].
        b_jets: (n, 2, 4) float64 (px, py, pz, E) [GeV], leading b jet first.

    Returns:
        ``(u, v, half_distance)``: ``n * var * float64`` rotated (Delta eta, Delta phi) from the
        midpoint of the two jet axes, leading jet at (+R, 0); and (n,) float64 R = Delta R_bb / 2.
    """
    frame = bb_frame(b_jets)
    flat = _flatten(particles, len(frame["half_distance"]))
    u, v = _uv(flat, frame)
    return (
        ak.unflatten(u, flat.counts),
        ak.unflatten(v, flat.counts),
        frame["half_distance"],
    )


def riemann_map(u: Any, v: Any, half_distance: Any) -> tuple[Any, Any]:
    """``(psi, z)`` on the Riemann sphere: psi = atan2(v, u) in [-pi, pi],
    z = (D^2 - R^2) / (D^2 + R^2) in [-1, 1] with D^2 = u^2 + v^2, R = ``half_distance``.

    Works on numpy arrays (R broadcast against u, v) and on awkward ``n * var`` arrays with
    (n,) R.  The jet axes (D = R) map to z = 0, the midpoint to z = -1, far points to z -> +1.
    """
    d2 = u**2 + v**2
    r2 = np.asarray(half_distance, dtype=np.float64) ** 2
    with np.errstate(invalid="ignore"):  # D = R = 0 or D = inf: NaN, dropped by the images
        z = (d2 - r2) / (d2 + r2)
    return np.arctan2(v, u), z


def _bin(x: np.ndarray, low: float, high: float, size: int, closed: bool) -> np.ndarray:
    """Bin index (float; out of range or NaN for particles outside) of x over [low, high)."""
    index = np.floor((x - low) * (size / (high - low)))
    if closed:  # [low, high]: the upper edge belongs to the last bin
        index = np.where(x == high, size - 1, index)
    return index


def _histogram(
    event: np.ndarray, col: np.ndarray, row: np.ndarray, w: np.ndarray, n: int, size: int
) -> np.ndarray:
    """(n, size, size) float32 sum of w per pixel, one ``np.bincount`` over all events."""
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)  # NaN -> outside
    pixel = (
        event[inside] * (size * size)
        + row[inside].astype(np.int64) * size
        + col[inside].astype(np.int64)
    )
    image = np.bincount(pixel, weights=w[inside], minlength=n * size * size)
    return image.astype(np.float32).reshape(n, size, size)


def radiation_images(
    particles: ak.Array, b_jets: np.ndarray, config: RadiationImageConfig
) -> dict[str, np.ndarray]:
    """pT-weighted radiation images in the event frame and on the Riemann sphere.

    Particles used: pT > ``pt_min``, charge != 0 if ``charged_only``, and Delta R >= ``core_r``
    from both b-jet axes.  Axes and bins are described in the module docstring.

    Args:
        particles: ``n * var * {px, py, pz, E, charge, ...}`` [GeV].
        b_jets: (n, 2, 4) float64 (px, py, pz, E) [GeV], leading b jet first.
        config: particle selection and image size.

    Returns:
        ``{"plain": (n, size, size), "riemann": (n, size, size)}`` float32, pT [GeV] per pixel;
        ``image[event, row, col]`` with col the u (psi) bin and row the v (arcsin z) bin.
    """
    if not isinstance(config, RadiationImageConfig):
        raise TypeError(f"config must be a RadiationImageConfig, got {type(config).__name__}")
    frame = bb_frame(b_jets)
    n, size = len(frame["half_distance"]), config.size
    flat = _flatten(particles, n)
    u, v = _uv(flat, frame)
    r = frame["half_distance"][flat.event]
    keep = flat.pt > config.pt_min
    if config.charged_only:
        keep &= flat.charge != 0
    if config.core_r > 0:
        core2 = config.core_r**2
        keep &= ((u - r) ** 2 + v**2 >= core2) & ((u + r) ** 2 + v**2 >= core2)
    e, u, v, r, w = flat.event[keep], u[keep], v[keep], r[keep], flat.pt[keep]
    hw = config.eta_half_width
    psi, z = riemann_map(u, v, r)
    latitude = np.arcsin(np.clip(z, -1.0, 1.0))
    return {
        "plain": _histogram(
            e, _bin(u, -hw, hw, size, False), _bin(v, -np.pi, np.pi, size, False), w, n, size
        ),
        "riemann": _histogram(
            e,
            _bin(psi, -np.pi, np.pi, size, True),
            _bin(latitude, -0.5 * np.pi, 0.5 * np.pi, size, True),
            w,
            n,
            size,
        ),
    }
