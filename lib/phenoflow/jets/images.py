"""Jet images: pT-weighted histograms of the constituents in (deta, dphi), with preprocessing.

Axis convention: ``image[jet, channel, row, col]`` with ``row`` the dphi bin and ``col`` the deta
bin, both increasing with the coordinate (row 0 = most negative dphi, col 0 = most negative deta).
Show one with ``plt.imshow(image[j, c], origin="lower", extent=(-w, w, -w, w))`` to get deta to
the right and dphi up. Bins are half-open, ``[-w + k * 2w/size, -w + (k+1) * 2w/size)``; a
coordinate of exactly 0 falls in bin ``size // 2`` (for an even size the centre is the lower-left
corner of pixel (size/2, size/2); for an odd size it is the middle of the central pixel).

Preprocessing, applied in this order (each step can be switched off in ``ImageConfig``):

1. centre: coordinates are deta = eta_p - eta_c and dphi = phi_p - phi_c wrapped into [-pi, pi),
   with (eta_c, phi_c) the given centre (typically the leading subjet) when ``center`` is on and
   one is given, else the jet axis.
2. rotate: about the centre, so that the principal axis of the pT-weighted second-moment tensor
   S = sum_p pT_p (x_p, y_p)^T (x_p, y_p) (x = deta, y = dphi, all constituents of the jet, taken
   about the centre) is vertical, i.e. along dphi. The axis makes the angle
   theta = 0.5 * atan2(2 Sxy, Sxx - Syy) with the deta axis; the jet is rotated by pi/2 - theta.
3. flip: reflect deta -> -deta if the pT-weighted sum sum_p pT_p deta_p is negative, and likewise
   for dphi, so the pT-weighted centroid (the heavier side) is always at deta >= 0 and
   dphi >= 0. A zero sum does not flip, so a flipped jet is left unchanged by a second flip.

Particles outside the window [-half_width, half_width)^2 are dropped after preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from phenoflow.jets.features import flatten_constituents, jet_column
from phenoflow.physics.kinematics import delta_phi, eta, phi, pt

CHANNELS: tuple[str, ...] = ("total", "charged", "neutral")


@dataclass(frozen=True)
class ImageConfig:
    """How to build jet images.

    Attributes:
        size: pixels per side.
        half_width: the image covers [-half_width, half_width) in deta and in dphi [rad];
            0.8 is the jet area for R = 0.8.
        center: translate the given centre (e.g. leading subjet) to the image centre; when off,
            or when no centre is given, the jet axis is the centre.
        rotate: rotate the pT-weighted principal axis to the vertical (dphi) direction.
        flip: reflect so the pT-weighted centroid is at deta >= 0 and dphi >= 0.
        channels: any of "total" (all particles), "charged" (charge != 0), "neutral"
            (charge == 0), one image channel each, in this order.
        normalize: divide each channel of each image by its own sum of pixel pT, so each
            non-empty channel sums to 1 (an empty channel stays all zero).
    """

    size: int = 40
    half_width: float = 0.8
    center: bool = True
    rotate: bool = True
    flip: bool = True
    channels: tuple[str, ...] = ("total",)
    normalize: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"ImageConfig.size must be a positive integer, got {self.size!r}")
        if not np.isfinite(self.half_width) or self.half_width <= 0:
            raise ValueError(
                f"ImageConfig.half_width must be a positive number [rad], got {self.half_width!r}"
            )
        if isinstance(self.channels, str) or len(self.channels) == 0:
            raise ValueError(
                f"ImageConfig.channels must be a non-empty tuple of {CHANNELS}, got "
                f"{self.channels!r}"
            )
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown:
            raise ValueError(f"ImageConfig.channels has unknown {unknown}; allowed: {CHANNELS}")


def _centre(name: str, values: np.ndarray, n_jets: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n_jets,):
        raise ValueError(f"{name} has shape {array.shape}, expected ({n_jets},) (one per jet)")
    return array


def jet_images(
    constituents: ak.Array,
    jet: Any,
    config: ImageConfig,
    center_eta: np.ndarray | None = None,
    center_phi: np.ndarray | None = None,
) -> np.ndarray:
    """pT-weighted jet images with centring, rotation and flipping (see the module docstring).

    All jets are filled at once with a single ``np.bincount`` over a flat pixel index, so memory
    is about 8 * n_jets * n_channels * size^2 bytes; batch very large inputs.

    Args:
        constituents: awkward Array ``n_jets * var * {px, py, pz, E, pid, charge}`` [GeV].
        jet: record array or mapping with (n_jets,) fields ``eta, phi`` (the jet axis).
        config: image size, window and preprocessing switches.
        center_eta, center_phi: (n_jets,) centre of each image [rad], e.g. the leading subjet;
            give both or neither. Used only when ``config.center`` is on.

    Returns:
        (n_jets, len(config.channels), size, size) float32, ``image[j, c, row, col]`` with
        row = dphi bin and col = deta bin; pT [GeV] per pixel, or fractions if normalised.
    """
    if not isinstance(config, ImageConfig):
        raise TypeError(f"config must be an ImageConfig, got {type(config).__name__}")
    if (center_eta is None) != (center_phi is None):
        raise ValueError("give both center_eta and center_phi, or neither")
    flat = flatten_constituents(constituents)
    n_jets = flat.n_jets
    j = flat.jet_index
    w = pt(flat.px, flat.py)

    if config.center and center_eta is not None and center_phi is not None:
        eta_c = _centre("center_eta", center_eta, n_jets)
        phi_c = _centre("center_phi", center_phi, n_jets)
    else:
        eta_c = jet_column(jet, "eta", n_jets)
        phi_c = jet_column(jet, "phi", n_jets)
    x = eta(flat.px, flat.py, flat.pz) - eta_c[j]
    y = delta_phi(phi(flat.px, flat.py), phi_c[j])
    if config.rotate:
        x, y = _rotate(x, y, w, j, n_jets)
    if config.flip:
        x, y = _flip(x, y, w, j, n_jets)
    images = _fill(x, y, w, flat.charge != 0, j, n_jets, config)
    if config.normalize:
        sums = images.sum(axis=(2, 3), keepdims=True)
        sums[sums == 0] = 1.0  # an empty channel stays all zero instead of 0/0
        images /= sums
    return images.astype(np.float32)


def _rotate(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, j: np.ndarray, n_jets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate each jet's pT-weighted principal axis to the vertical (dphi) direction."""
    sxx = np.bincount(j, weights=w * x * x, minlength=n_jets)
    syy = np.bincount(j, weights=w * y * y, minlength=n_jets)
    sxy = np.bincount(j, weights=w * x * y, minlength=n_jets)
    alpha = 0.5 * np.pi - 0.5 * np.arctan2(2.0 * sxy, sxx - syy)
    cos_a, sin_a = np.cos(alpha)[j], np.sin(alpha)[j]
    return x * cos_a - y * sin_a, x * sin_a + y * cos_a


def _flip(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, j: np.ndarray, n_jets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reflect each jet so its pT-weighted centroid is at deta >= 0 and dphi >= 0.

    pT-weighted first moments rather than pT counts per half: continuous in the particle
    positions, so particles sitting on an axis cannot flip the image by a rounding error.
    """
    side_x = np.bincount(j, weights=w * x, minlength=n_jets)
    side_y = np.bincount(j, weights=w * y, minlength=n_jets)
    return np.where(side_x[j] < 0, -x, x), np.where(side_y[j] < 0, -y, y)


def _fill(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    charged: np.ndarray,
    j: np.ndarray,
    n_jets: int,
    config: ImageConfig,
) -> np.ndarray:
    """(n_jets, n_channels, size, size) float64 pT per pixel: one ``np.bincount`` for all jets."""
    size = config.size
    scale = size / (2.0 * config.half_width)
    # x * scale + size/2 keeps a coordinate of exactly 0 on the integer size // 2 (no rounding)
    col_f = np.floor(x * scale + 0.5 * size)
    row_f = np.floor(y * scale + 0.5 * size)
    inside = (col_f >= 0) & (col_f < size) & (row_f >= 0) & (row_f < size)  # NaN -> outside
    n_channels = len(config.channels)
    n_pix = size * size
    pixel = (
        j[inside] * (n_channels * n_pix)
        + row_f[inside].astype(np.int64) * size
        + col_f[inside].astype(np.int64)
    )
    w_in = w[inside]
    charged_in = charged[inside]
    index_parts, weight_parts = [], []
    for c, name in enumerate(config.channels):  # at most three channels, not a data loop
        selections: dict[str, slice | np.ndarray] = {
            "total": slice(None),
            "charged": charged_in,
            "neutral": ~charged_in,
        }
        chosen = selections[name]
        index_parts.append(pixel[chosen] + c * n_pix)
        weight_parts.append(w_in[chosen])
    images: np.ndarray = np.bincount(
        np.concatenate(index_parts),
        weights=np.concatenate(weight_parts),
        minlength=n_jets * n_channels * n_pix,
    )
    # (np.bincount returns int64 when it is given no particles at all)
    return images.astype(np.float64, copy=False).reshape(n_jets, n_channels, size, size)
