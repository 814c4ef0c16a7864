"""Leading-order Drell-Yan pp -> gamma*/Z (/Z') -> e+ e- at hadron colliders.

The cross section is written in the e+e- mass m [GeV], the pair rapidity y and
cos(theta*), the polar angle of the e- in the pair rest frame measured from the
direction of the pair's longitudinal boost (the +z beam for y >= 0, the -z beam
for y < 0).  At LO the pair has no transverse momentum, so this is the
Collins-Soper angle with the quark direction guessed from the sign of y, the
convention of the LHC A_FB measurements.  Both orderings of the incoming
q qbar are summed:

    d sigma / dm dy dcos = 2/m sum_q [ T_q(m) (1 + cos^2) L+_q + 2 A_q(m) cos sgn(y) L-_q ]

with L+-_q = x1 q(x1) x2 qbar(x2) +- x1 qbar(x1) x2 q(x2) at Q^2 = m^2 and
x1,2 = m e^(+-y) / sqrt(s), and d sigma_hat / dcos = T (1 + cos^2) + 2 A cos the
partonic q qbar -> e- e+ cross section (cos from the quark to the e-), built
from chiral amplitudes of gamma*, Z and an optional Z' with full interference.

The electroweak inputs (:class:`ElectroweakParams`) default to Pythia 8.3's, so
that :func:`pythia_sigma` (Pythia's own sigma_gen for
``WeakSingleBoson:ffbar2gmZ``) is reproduced: running alpha_em(m^2)
(``SigmaProcess:alphaEMorder = 1``), sin^2 theta_W = 0.2312 in the Z
normalisation and sin^2 theta_W,bar = 0.2315 in the vector couplings, a Breit-Wigner
with the s-dependent width (s - mZ^2)^2 + (s Gamma_Z / mZ)^2, and Gamma_Z computed
from its partial widths as Pythia does at initialisation.

:class:`DrellYan` evaluates the differential cross section on whole arrays,
maps the unit cube onto (m, y, cos) for Monte-Carlo integrators (``integrand``)
and integrates it with deterministic Gauss-Legendre quadrature
(``sigma_total``, ``dsigma_dm``, ``dsigma_dcos``, ``afb``): the cos integral
is analytic, because the lepton cuts at LO bound |cos| symmetrically.

Units: GeV, cross sections in pb (dsigma: pb / GeV per unit y per unit cos).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from phenoflow.physics.pdf import PIDS, PDFTable

#: GeV^-2 -> pb, Pythia's SigmaProcess::CONVERT2MB = 0.389380 mb GeV^2.
GEV2_TO_PB = 0.389380e9
MB_TO_PB = 1.0e9
#: Pythia's AlphaEM: reference mass [GeV], top threshold [GeV^2] and b-coefficient of the running.
_ALPHA_EM_MZ_REF = 91.188
_ALPHA_EM_Q2_STEP = 90.0
_ALPHA_EM_B_RUN = 0.725
#: Pythia 8.3 default masses [GeV] of the fermions (particle data m0).
FERMION_MASS: dict[int, float] = {
    1: 0.33,
    2: 0.33,
    3: 0.5,
    4: 1.5,
    5: 4.8,
    6: 173.0,
    11: 0.000511,
    12: 0.0,
    13: 0.10566,
    14: 0.0,
    15: 1.77682,
    16: 0.0,
}
#: (charge, 2 T3) of down-type quarks, up-type quarks, charged leptons and neutrinos.
_CHARGE_T3 = {"d": (-1.0 / 3.0, -1.0), "u": (2.0 / 3.0, 1.0), "l": (-1.0, -1.0), "nu": (0.0, 1.0)}
_KIND = {1: "d", 2: "u", 3: "d", 4: "u", 5: "d", 6: "u", 11: "l", 13: "l", 15: "l"}
_KIND.update({12: "nu", 14: "nu", 16: "nu"})
# Columns of the PDF table for the up-type (u, c) and down-type (d, s, b) quarks
# and the matching antiquarks.
_UP = [PIDS.index(2), PIDS.index(4)]
_DOWN = [PIDS.index(1), PIDS.index(3), PIDS.index(5)]
_UP_BAR = [PIDS.index(-2), PIDS.index(-4)]
_DOWN_BAR = [PIDS.index(-1), PIDS.index(-3), PIDS.index(-5)]
PYTHIA_SEED_MAX = 900_000_000
# share of the log-m map mixed into the "spectrum" mass map
_LOG_SHARE = 1e-3


@dataclass(frozen=True)
class ZPrime:
    """A Z' with universal vector couplings.

    ``mass`` [GeV]; ``g_quark`` couples it to every quark (d ... t) and ``g_lepton``
    to the charged leptons (e, mu, tau) through g Z'_mu fbar gamma^mu f; neutrinos
    do not couple.  Its width is the sum of its decays to those fermions
    (:meth:`width`), in the propagator with the same s-dependent form as the Z.
    """

    mass: float
    g_quark: float
    g_lepton: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mass) and self.mass > 0.0):
            raise ValueError(f"ZPrime.mass must be a positive number of GeV, got {self.mass}")
        for name in ("g_quark", "g_lepton"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"ZPrime.{name} must be finite, got {getattr(self, name)}")

    def width(self) -> float:
        """Total width [GeV]: sum_f N_c g_f^2 M / (12 pi) beta (1 + 2 m_f^2 / M^2), open channels."""
        total = 0.0
        for pid in (1, 2, 3, 4, 5, 6, 11, 13, 15):
            colours, g = (3.0, self.g_quark) if pid < 10 else (1.0, self.g_lepton)
            r = (FERMION_MASS[pid] / self.mass) ** 2
            if r < 0.25:
                phase_space = math.sqrt(1.0 - 4.0 * r) * (1.0 + 2.0 * r)
                total += colours * g * g * self.mass / (12.0 * math.pi) * phase_space
        return total


@dataclass(frozen=True)
class ElectroweakParams:
    """Collider energy and electroweak inputs; the defaults are Pythia 8.3's.

    ``sqrt_s``            pp centre-of-mass energy [GeV] (``Beams:eCM``; 13 TeV here,
                          where Pythia's own default is 14 TeV).
    ``m_z``               Z mass [GeV] (``23:m0``).
    ``width_z``           Z width [GeV]; None: computed from the partial widths to
                          all fermions but top, as Pythia does at init (2.50419 GeV),
                          see :meth:`z_width`.
    ``sin2_theta_w``      ``StandardModel:sin2thetaW``, in the Z normalisation
                          1 / (16 sin^2 cos^2).
    ``sin2_theta_w_bar``  ``StandardModel:sin2thetaWbar``, in the vector couplings
                          v_f = 2 T3 - 4 Q_f sin^2.
    ``alpha_em_0``, ``alpha_em_mz``  alpha_em at Q = 0 and at the Z mass
                          (``StandardModel:alphaEM0``, ``alphaEMmZ``).
    ``alpha_em_order``    ``SigmaProcess:alphaEMorder``: 1 runs alpha_em(m^2), 0
                          fixes alpha_em_0, -1 fixes alpha_em_mz.
    ``alpha_s_mz``        alpha_s(mZ) (``SigmaProcess:alphaSvalue``), only in the
                          QCD factor 1 + alpha_s / pi of the hadronic Z width.
    ``gmz_mode``          ``WeakZ0:gmZmode``: 0 full gamma*/Z, 1 gamma* only, 2 Z only;
                          3 neither (only the Z'; not a Pythia mode).
    ``zprime``            an optional :class:`ZPrime` added to the amplitudes.
    """

    sqrt_s: float = 13000.0
    m_z: float = 91.1876
    width_z: float | None = None
    sin2_theta_w: float = 0.2312
    sin2_theta_w_bar: float = 0.2315
    alpha_em_0: float = 0.00729735
    alpha_em_mz: float = 0.00781751
    alpha_em_order: int = 1
    alpha_s_mz: float = 0.13
    gmz_mode: int = 0
    zprime: ZPrime | None = None

    def __post_init__(self) -> None:
        for name in ("sqrt_s", "m_z", "alpha_em_0", "alpha_em_mz", "alpha_s_mz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"ElectroweakParams.{name} must be positive, got {value}")
        if self.width_z is not None and not (math.isfinite(self.width_z) and self.width_z > 0):
            raise ValueError(
                f"ElectroweakParams.width_z must be positive or None, got {self.width_z}"
            )
        for name in ("sin2_theta_w", "sin2_theta_w_bar"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(
                    f"ElectroweakParams.{name} must lie in (0, 1), got {getattr(self, name)}"
                )
        if self.alpha_em_order not in (-1, 0, 1):
            raise ValueError(
                f"ElectroweakParams.alpha_em_order must be -1, 0 or 1, got {self.alpha_em_order}"
            )
        if self.gmz_mode not in (0, 1, 2, 3):
            raise ValueError(
                f"ElectroweakParams.gmz_mode must be 0, 1, 2 or 3, got {self.gmz_mode}"
            )

    @classmethod
    def from_pythia(cls, settings: tuple[str, ...] = ()) -> ElectroweakParams:
        """Read the inputs from a Pythia initialised for ``ffbar2gmZ`` with ``settings``.

        ``width_z`` is Pythia's width after initialisation (computed from the
        partial widths unless ``23:doForceWidth = on``).  Needs ``pythia8mc``.
        """
        pythia = _init_pythia(
            (
                "WeakSingleBoson:ffbar2gmZ = on",
                "PartonLevel:all = off",
                "HadronLevel:all = off",
                *settings,
            )
        )
        coup = pythia.coupSM
        return cls(
            sqrt_s=pythia.parm("Beams:eCM"),
            m_z=pythia.particleData.m0(23),
            width_z=pythia.particleData.mWidth(23),
            sin2_theta_w=coup.sin2thetaW(),
            sin2_theta_w_bar=coup.sin2thetaWbar(),
            alpha_em_0=pythia.parm("StandardModel:alphaEM0"),
            alpha_em_mz=pythia.parm("StandardModel:alphaEMmZ"),
            alpha_em_order=pythia.mode("SigmaProcess:alphaEMorder"),
            alpha_s_mz=pythia.parm("SigmaProcess:alphaSvalue"),
            gmz_mode=pythia.mode("WeakZ0:gmZmode"),
        )

    def alpha_em(self, q2: Any) -> np.ndarray:
        """alpha_em(Q^2) as Pythia's AlphaEM, for Q^2 [GeV^2] above 90 GeV^2 (order 1).

        1 / alpha = 1 / alpha_em_mz - 0.725 ln(Q^2 / 91.188^2): Pythia's running
        above its b-quark step; below it Pythia has further steps, not needed here.
        """
        q2 = np.asarray(q2, dtype=np.float64)
        if self.alpha_em_order == 0:
            return np.full_like(q2, self.alpha_em_0)
        if self.alpha_em_order < 0:
            return np.full_like(q2, self.alpha_em_mz)
        if q2.size and np.min(q2) <= _ALPHA_EM_Q2_STEP:
            raise ValueError(
                f"alpha_em running is implemented for Q^2 > {_ALPHA_EM_Q2_STEP:g} GeV^2, got {np.min(q2):g}"
            )
        return 1.0 / (1.0 / self.alpha_em_mz - _ALPHA_EM_B_RUN * np.log(q2 / _ALPHA_EM_MZ_REF**2))

    @property
    def theta_w_ratio(self) -> float:
        """Pythia's thetaWRat = 1 / (16 sin^2 theta_W cos^2 theta_W)."""
        return 1.0 / (16.0 * self.sin2_theta_w * (1.0 - self.sin2_theta_w))

    def vector_axial(self, kind: str) -> tuple[float, float, float]:
        """(Q, v, a) of a fermion kind "d", "u", "l", "nu": a = 2 T3, v = a - 4 Q sin^2 theta_W,bar."""
        charge, a = _CHARGE_T3[kind]
        return charge, a - 4.0 * charge * self.sin2_theta_w_bar, a

    def z_width(self) -> float:
        """Z width [GeV]: ``width_z`` if set, else Pythia's sum of partial widths at init.

        Gamma = sum_f alpha_em(mZ^2) thetaWRat mZ / 3 * beta (v_f^2 (1 + 2 r) + a_f^2 beta^2)
        * (3 (1 + alpha_s / pi) for quarks), r = m_f^2 / mZ^2, over all fermions but top
        (ResonanceGmZ::calcWidth).
        """
        if self.width_z is not None:
            return self.width_z
        pre = float(self.alpha_em(self.m_z**2)) * self.theta_w_ratio * self.m_z / 3.0
        colour = 3.0 * (1.0 + self.alpha_s_mz / math.pi)
        total = 0.0
        for pid in (1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 16):
            _, v, a = self.vector_axial(_KIND[pid])
            r = (FERMION_MASS[pid] / self.m_z) ** 2
            if r >= 0.25:
                continue
            beta = math.sqrt(1.0 - 4.0 * r)
            width = pre * beta * (v * v * (1.0 + 2.0 * r) + a * a * beta * beta)
            total += width * (colour if pid < 10 else 1.0)
        return total


@dataclass(frozen=True)
class Cuts:
    """e+e- mass window [GeV] and lepton cuts (both leptons).

    ``pt_min`` [GeV] (0: none) and ``eta_max`` (inf: none) apply to each lepton.
    The defaults: 60 GeV - 3 TeV, pT > 10 GeV, |eta| < 2.5.
    """

    m_min: float = 60.0
    m_max: float = 3000.0
    pt_min: float = 10.0
    eta_max: float = 2.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.m_min) and math.isfinite(self.m_max)):
            raise ValueError(
                f"Cuts: mass window must be finite, got [{self.m_min}, {self.m_max}] GeV"
            )
        if self.m_min <= 0.0:
            raise ValueError(f"Cuts.m_min must be a positive mass in GeV, got {self.m_min}")
        if self.m_max <= self.m_min:
            raise ValueError(
                f"Cuts: mass window needs m_min < m_max, got m_min={self.m_min}, m_max={self.m_max} GeV"
            )
        if not (math.isfinite(self.pt_min) and self.pt_min >= 0.0):
            raise ValueError(f"Cuts.pt_min must be >= 0 GeV, got {self.pt_min}")
        if not self.eta_max > 0.0:
            raise ValueError(f"Cuts.eta_max must be > 0 (inf for no cut), got {self.eta_max}")

    @classmethod
    def window(cls, m_min: float, m_max: float) -> Cuts:
        """Only the mass window, no lepton cuts (the phase space of Pythia's mHatMin/mHatMax)."""
        return cls(m_min=m_min, m_max=m_max, pt_min=0.0, eta_max=math.inf)


class DrellYan:
    """LO pp -> gamma*/Z (/Z') -> e+e- with cuts, vectorised, with deterministic integrals.

    ``params``  :class:`ElectroweakParams` (default: Pythia's).
    ``pdf``     a :class:`~phenoflow.physics.pdf.PDFTable` covering Q >= cuts.m_min
                and x >= (m_min / sqrt_s)^2.
    ``cuts``    :class:`Cuts` (default 60 GeV - 3 TeV, pT > 10 GeV, |eta| < 2.5).
    ``mass_mapping``  how :meth:`to_physical` maps u0 to m: "spectrum" (default)
                inverts the tabulated LO mass spectrum with these cuts, which
                flattens the Breit-Wigner peak(s) and the falling tail; "log"
                is m = m_min (m_max / m_min)^u0, which flattens only 1/m.
    ``quadrature_refinement``  multiplies the number of quadrature nodes (1 gives
                ~1e-6 relative precision; 2 is for convergence checks).
    """

    def __init__(
        self,
        params: ElectroweakParams | None = None,
        pdf: PDFTable | None = None,
        cuts: Cuts | None = None,
        mass_mapping: str = "spectrum",
        quadrature_refinement: int = 1,
    ) -> None:
        self.params = params or ElectroweakParams()
        self.pdf = pdf if pdf is not None else PDFTable.from_pythia()
        self.cuts = cuts or Cuts()
        if mass_mapping not in ("spectrum", "log"):
            raise ValueError(f"mass_mapping must be 'spectrum' or 'log', got {mass_mapping!r}")
        if quadrature_refinement < 1:
            raise ValueError(f"quadrature_refinement must be >= 1, got {quadrature_refinement}")
        self.mass_mapping = mass_mapping
        self.refinement = int(quadrature_refinement)
        self._check_window(self.cuts.m_min, self.cuts.m_max)
        self.width_z = self.params.z_width()
        self.width_zprime = self.params.zprime.width() if self.params.zprime else 0.0
        self._build_mass_map()

    # -- set-up ------------------------------------------------------------------------

    def _check_window(self, m_min: float, m_max: float) -> None:
        if not (m_min > 0.0 and m_max > m_min):
            raise ValueError(f"mass window needs 0 < m_min < m_max, got [{m_min}, {m_max}] GeV")
        root_s = self.params.sqrt_s
        if m_max >= root_s:
            raise ValueError(f"Cuts.m_max = {m_max} GeV must lie below sqrt_s = {root_s} GeV")
        grid = self.pdf.grid
        if m_min < grid.q_min:
            raise ValueError(
                f"Cuts.m_min = {m_min} GeV is below the PDF table's q_min = {grid.q_min} GeV "
                "(Q^2 = m^2); build the table with a lower PDFGrid.q_min"
            )
        if (m_min / root_s) ** 2 < grid.x_min:
            raise ValueError(
                f"Cuts.m_min = {m_min} GeV needs x down to {(m_min / root_s) ** 2:g}, below the "
                f"PDF table's x_min = {grid.x_min:g}"
            )

    def _build_mass_map(self) -> None:
        """Nodes (u_k, m_k) of the piecewise-linear map u0 -> m (cumulative LO spectrum)."""
        lo, hi = self.cuts.m_min, self.cuts.m_max
        pieces = [np.geomspace(lo, hi, 1025)]
        for mass, width in self._resonances():
            pieces.append(_breit_wigner_nodes(mass, width, lo, hi, 257))
        pieces.append(np.array(self._kink_masses()))
        m = np.unique(np.clip(np.concatenate(pieces), lo, hi))
        density = self._y_integrated(m, -1.0, 1.0, n_y=8)
        density = density / _trapezoid(density, m)
        # a 0.1 % admixture of the log map keeps every piece of the far tail
        # resolvable in u0 (float64 steps near 1 are 1e-16) and bounds its weights
        density = (1.0 - _LOG_SHARE) * density + _LOG_SHARE / (m * math.log(hi / lo))
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(m))])
        self._map_m = m
        self._map_u = cdf / cdf[-1]

    def _resonances(self) -> list[tuple[float, float]]:
        """(mass, width) [GeV] of the Z and the Z', when they are in the amplitudes."""
        out = []
        if self.params.gmz_mode in (0, 2):
            out.append((self.params.m_z, self.width_z))
        zp = self._coupled_zprime()
        if zp is not None:
            out.append((zp.mass, self.width_zprime))
        return out

    def _coupled_zprime(self) -> ZPrime | None:
        """The Z' if there is one coupling to both quarks and leptons (else it adds nothing)."""
        zp = self.params.zprime
        return zp if zp is not None and zp.g_quark * zp.g_lepton != 0.0 else None

    def _kink_masses(self) -> list[float]:
        """Masses [GeV] where the cuts change the shape of the (y, cos) region."""
        c = self.cuts
        lo, hi = c.m_min, c.m_max
        out = [lo, hi]
        if c.pt_min > 0:
            out.append(2.0 * c.pt_min)
            if math.isfinite(c.eta_max):
                out.append(2.0 * c.pt_min * math.cosh(c.eta_max))
        if math.isfinite(c.eta_max):
            out.append(self.params.sqrt_s * math.exp(-c.eta_max))
        return [m for m in out if lo <= m <= hi]

    # -- partonic cross section --------------------------------------------------------

    def partonic_coefficients(
        self, m: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(T_u, A_u, T_d, A_d) [pb], shape of ``m`` [GeV]: d sigma_hat / dcos = T (1 + cos^2) + 2 A cos.

        For q qbar -> e- e+ with cos the angle between the quark and the e- in the
        pair rest frame; u: up-type, d: down-type quarks; colour averaged.
        """
        s = np.asarray(m, dtype=np.float64) ** 2
        p = self.params
        e2 = 4.0 * math.pi * p.alpha_em(s)
        use_gamma = p.gmz_mode in (0, 1)
        use_z = p.gmz_mode in (0, 2)
        prop_z = 1.0 / (s - p.m_z**2 + 1j * s * self.width_z / p.m_z)
        zp = self._coupled_zprime()
        if zp is not None:
            prop_zp = 1.0 / (s - zp.mass**2 + 1j * s * self.width_zprime / zp.mass)
        q_l, v_l, a_l = p.vector_axial("l")
        # d sigma_hat / dcos = s / (384 pi) [S1 (1 + cos)^2 + S2 (1 - cos)^2], S1 from
        # equal quark/lepton helicities (LL + RR), S2 from opposite ones (LR + RL)
        norm = s / (384.0 * math.pi) * GEV2_TO_PB
        out = []
        for kind in ("u", "d"):
            q_q, v_q, a_q = p.vector_axial(kind)
            s1 = np.zeros_like(s)
            s2 = np.zeros_like(s)
            for hq in (1.0, -1.0):  # +1 left, -1 right: chiral Z coupling (v +- a) / 4
                for hl in (1.0, -1.0):
                    amp = np.zeros_like(s, dtype=np.complex128)
                    if use_gamma:
                        amp = amp + e2 * q_q * q_l / s
                    if use_z:
                        amp = (
                            amp
                            + e2 * p.theta_w_ratio * (v_q + hq * a_q) * (v_l + hl * a_l) * prop_z
                        )
                    if zp is not None:
                        amp = amp + zp.g_quark * zp.g_lepton * prop_zp
                    sq = np.abs(amp) ** 2
                    if hq == hl:
                        s1 += sq
                    else:
                        s2 += sq
            out += [norm * (s1 + s2), norm * (s1 - s2)]
        return out[0], out[1], out[2], out[3]

    def sigma_hat(self, m: Any, pid: int) -> np.ndarray:
        """Partonic sigma(q qbar -> e+e-) [pb] at sqrt(s_hat) = ``m`` [GeV] for quark ``pid`` (1-5)."""
        if abs(pid) not in (1, 2, 3, 4, 5):
            raise ValueError(f"sigma_hat needs a quark id 1 ... 5, got {pid}")
        t_u, _, t_d, _ = self.partonic_coefficients(m)
        return (t_u if _KIND[abs(pid)] == "u" else t_d) * 8.0 / 3.0

    # -- differential cross section ----------------------------------------------------

    def _luminosities(self, m: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
        """(L+_u, L-_u, L+_d, L-_d): sums over up/down-type flavours of x1 q x2 qbar +- x1 qbar x2 q."""
        tau_root = m / self.params.sqrt_s
        x = np.concatenate([(tau_root * np.exp(y)).ravel(), (tau_root * np.exp(-y)).ravel()])
        q2 = np.concatenate([m.ravel(), m.ravel()]) ** 2
        f = self.pdf.xf_all(x, q2, check=False)
        f1, f2 = f[: m.size], f[m.size :]
        out = []
        for quarks, antis in ((_UP, _UP_BAR), (_DOWN, _DOWN_BAR)):
            a = np.sum(f1[:, quarks] * f2[:, antis], axis=1)  # quark from beam 1
            b = np.sum(f1[:, antis] * f2[:, quarks], axis=1)  # quark from beam 2
            out += [(a + b).reshape(m.shape), (a - b).reshape(m.shape)]
        return tuple(out)

    def lepton_kinematics(
        self, m: Any, y: Any, cos_theta: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pT [GeV], eta of e-, eta of e+) of the massless leptons at LO, broadcast shape."""
        m, y, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (m, y, cos_theta)))
        cz = np.where(y >= 0.0, c, -c)  # angle to +z
        pt = 0.5 * m * np.sqrt(np.maximum(1.0 - c * c, 0.0))
        with np.errstate(divide="ignore"):
            eta_star = np.arctanh(cz)
        return pt, y + eta_star, y - eta_star

    def passes_cuts(self, m: Any, y: Any, cos_theta: Any) -> np.ndarray:
        """Boolean mask: mass window, both leptons pT > pt_min and |eta| < eta_max."""
        c = self.cuts
        pt, eta_minus, eta_plus = self.lepton_kinematics(m, y, cos_theta)
        m = np.broadcast_to(np.asarray(m, dtype=np.float64), pt.shape)
        ok = (m >= c.m_min) & (m <= c.m_max)
        if c.pt_min > 0:
            ok &= pt > c.pt_min
        if math.isfinite(c.eta_max):
            ok &= (np.abs(eta_minus) < c.eta_max) & (np.abs(eta_plus) < c.eta_max)
        return ok

    def dsigma(self, m: Any, y: Any, cos_theta: Any) -> np.ndarray:
        """d sigma / dm dy dcos(theta*) [pb/GeV], broadcast shape; zero where the cuts fail.

        Raises ``ValueError`` for m <= 0, |cos| > 1 or non-finite input.
        """
        m, y, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (m, y, cos_theta)))
        if m.size and not (np.all(np.isfinite(m)) and np.min(m) > 0.0):
            raise ValueError("dsigma: masses m must be finite and > 0 GeV")
        if c.size and not (np.all(np.isfinite(c)) and np.max(np.abs(c)) <= 1.0):
            raise ValueError("dsigma: cos_theta must lie in [-1, 1]")
        if y.size and not np.all(np.isfinite(y)):
            raise ValueError("dsigma: rapidities y must be finite")
        return self._dsigma(m, y, c)

    def _dsigma(self, m: np.ndarray, y: np.ndarray, c: np.ndarray) -> np.ndarray:
        """:meth:`dsigma` on validated arrays of one shape."""
        out = np.zeros(m.shape)
        ok = self.passes_cuts(m, y, c) & (np.abs(y) < np.log(self.params.sqrt_s / m))
        if not ok.any():
            return out
        m, y, c = m[ok], y[ok], c[ok]
        lp_u, lm_u, lp_d, lm_d = self._luminosities(m, y)
        t_u, a_u, t_d, a_d = self.partonic_coefficients(m)
        sign = np.where(y >= 0.0, 1.0, -1.0)
        sym = (1.0 + c * c) * (t_u * lp_u + t_d * lp_d)
        asym = 2.0 * c * sign * (a_u * lm_u + a_d * lm_d)
        out[ok] = 2.0 / m * (sym + asym)
        return out

    # -- unit cube <-> physical --------------------------------------------------------

    @property
    def dim(self) -> int:
        """Number of integration variables (3: m, y, cos)."""
        return 3

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:
        """The integration domain of :meth:`integrand`: the unit cube [0, 1]^3."""
        return ((0.0, 1.0),) * 3

    @property
    def physical_bounds(self) -> tuple[tuple[float, float], ...]:
        """Box holding all accepted (m [GeV], y, cos): the window, |y| <= its largest reach, |cos| <= 1."""
        c = self.cuts
        y_max = min(math.log(self.params.sqrt_s / c.m_min), c.eta_max)
        return ((c.m_min, c.m_max), (-y_max, y_max), (-1.0, 1.0))

    def _y_max(self, m: np.ndarray) -> np.ndarray:
        """Largest |y| at mass m: kinematic ln(sqrt_s / m), and eta_max (|y| < eta_max at LO)."""
        return np.minimum(np.log(self.params.sqrt_s / m), self.cuts.eta_max)

    def _cos_pt(self, m: np.ndarray) -> np.ndarray:
        """Largest |cos| allowed by the pT cut at mass m (0 below m = 2 pT_min)."""
        return np.sqrt(np.clip(1.0 - (2.0 * self.cuts.pt_min / m) ** 2, 0.0, 1.0))

    def _mass_of_u(self, u0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(m [GeV], dm/du0) for u0 in [0, 1]."""
        lo, hi = self.cuts.m_min, self.cuts.m_max
        if self.mass_mapping == "log":
            m = lo * (hi / lo) ** u0
            return m, m * math.log(hi / lo)
        k = np.clip(np.searchsorted(self._map_u, u0, side="right") - 1, 0, self._map_u.size - 2)
        du = self._map_u[k + 1] - self._map_u[k]
        dm = self._map_m[k + 1] - self._map_m[k]
        return self._map_m[k] + (u0 - self._map_u[k]) * dm / du, dm / du

    def to_physical(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(m [GeV], y, cos, jacobian [GeV]) for points ``u`` (n, 3) of the unit cube.

        m follows ``mass_mapping``; y is linear in |y| <= min(ln(sqrt_s / m), eta_max);
        cos is linear in |cos| <= sqrt(1 - (2 pT_min / m)^2).  The eta cut is
        left as a zero region of :meth:`integrand`.
        """
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != 3:
            raise ValueError(f"points u must have shape (n, 3), got {u.shape}")
        m, jac_m = self._mass_of_u(u[:, 0])
        y_max = self._y_max(m)
        c_max = self._cos_pt(m)
        y = (2.0 * u[:, 1] - 1.0) * y_max
        c = (2.0 * u[:, 2] - 1.0) * c_max
        return m, y, c, jac_m * 2.0 * y_max * 2.0 * c_max

    def integrand(self, u: np.ndarray) -> np.ndarray:
        """Cross section per unit volume [pb] at points ``u`` (n, 3) of [0, 1]^3; shape (n,).

        Its integral over the unit cube is :meth:`sigma_total` with these cuts.
        """
        m, y, c, jac = self.to_physical(u)
        return self._dsigma(m, y, c) * jac

    def momenta(self, u: np.ndarray, phi: np.ndarray | None = None) -> np.ndarray:
        """Lab four-momenta (E, px, py, pz) [GeV] of e- and e+: shape (n, 2, 4).

        ``phi`` (n,) is the azimuth of the e- [rad] (default 0: the cross
        section does not depend on it; pass uniform draws for events).
        """
        m, y, c, _ = self.to_physical(u)
        return lepton_momenta(m, y, c, phi)

    # -- deterministic integrals -------------------------------------------------------

    def _y_integrated(
        self, m: np.ndarray, c_lo: float, c_hi: float, n_y: int | None = None
    ) -> np.ndarray:
        """int dy int_{c_lo}^{c_hi} dcos dsigma [pb/GeV] at masses m (M,), with the cuts.

        The cuts keep |cos| <= a(m, y) = min(cos_pt(m), tanh(eta_max - |y|)), so the
        cos integral is analytic; y in [0, y_max] (the integrand is even in y)
        runs over Gauss-Legendre panels split where a(m, y) changes branch or
        crosses c_lo or c_hi, and at y_max / 2.  ``n_y`` nodes per panel.
        """
        c = self.cuts
        n_y = n_y or 12 * self.refinement
        m = np.asarray(m, dtype=np.float64)
        y_max = self._y_max(m)
        c_pt = self._cos_pt(m)
        kinks = [0.5 * y_max]
        if math.isfinite(c.eta_max):
            with np.errstate(divide="ignore"):  # no pT cut: kink at -inf, clipped away
                kinks.append(c.eta_max - np.arctanh(c_pt))
            kinks += [
                np.full_like(m, c.eta_max - math.atanh(abs(b)))
                for b in (c_lo, c_hi)
                if 0.0 < abs(b) < 1.0
            ]
        breaks = np.sort(np.clip(np.stack(kinks, axis=1), 0.0, y_max[:, None]), axis=1)
        breaks = np.concatenate([np.zeros((m.size, 1)), breaks, y_max[:, None]], axis=1)
        y, w = _panel_nodes(breaks, n_y)
        mm = np.broadcast_to(m[:, None], y.shape)
        a = np.minimum(c_pt[:, None], np.tanh(c.eta_max - y))
        lo = np.maximum(c_lo, -a)
        hi = np.minimum(c_hi, a)
        open_ = hi > lo
        lo, hi = np.where(open_, lo, 0.0), np.where(open_, hi, 0.0)
        lp_u, lm_u, lp_d, lm_d = self._luminosities(mm, y)
        t_u, a_u, t_d, a_d = (v[:, None] for v in self.partonic_coefficients(m))
        sym = (hi - lo + (hi**3 - lo**3) / 3.0) * (t_u * lp_u + t_d * lp_d)
        asym = (hi**2 - lo**2) * (a_u * lm_u + a_d * lm_d)
        return 2.0 * np.sum(w * 2.0 / mm * (sym + asym), axis=1)

    def _cos_kink_masses(self, cos_values: tuple[float, ...]) -> tuple[float, ...]:
        """Masses [GeV] where a bound |cos| = b meets the pT cut or the eta cut's y reach."""
        c = self.cuts
        out = []
        for b in cos_values:
            if 0.0 < abs(b) < 1.0:
                out.append(2.0 * c.pt_min / math.sqrt(1.0 - b * b))
                if math.isfinite(c.eta_max):
                    out.append(self.params.sqrt_s * math.exp(math.atanh(abs(b)) - c.eta_max))
        return tuple(out)

    def _mass_nodes(
        self, m_min: float, m_max: float, extra: tuple[float, ...] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gauss-Legendre nodes and weights in m over [m_min, m_max].

        Panels: equal steps of the cumulative spectrum (fine at the peaks), the
        masses where the cuts' shape changes, ``extra`` edges, and at least 16
        equal pieces of the range.
        """
        n_panels = 128 * self.refinement
        edges = np.interp(np.linspace(0.0, 1.0, n_panels + 1), self._map_u, self._map_m)
        edges = np.concatenate([edges, self._kink_masses(), extra, np.linspace(m_min, m_max, 17)])
        edges = np.unique(edges[(edges >= m_min) & (edges <= m_max)])
        return _gauss_legendre_panels(edges, 6)

    def _check_sub_window(self, m_min: float | None, m_max: float | None) -> tuple[float, float]:
        lo = self.cuts.m_min if m_min is None else float(m_min)
        hi = self.cuts.m_max if m_max is None else float(m_max)
        if not (lo < hi):
            raise ValueError(f"mass range needs m_min < m_max, got [{lo}, {hi}] GeV")
        if lo < self.cuts.m_min or hi > self.cuts.m_max:
            raise ValueError(
                f"mass range [{lo}, {hi}] GeV must lie inside the cuts' window "
                f"[{self.cuts.m_min}, {self.cuts.m_max}] GeV"
            )
        return lo, hi

    def sigma_total(self, m_min: float | None = None, m_max: float | None = None) -> float:
        """Cross section [pb] with the cuts in [m_min, m_max] (default: the cuts' window)."""
        lo, hi = self._check_sub_window(m_min, m_max)
        m, w = self._mass_nodes(lo, hi)
        return float(np.sum(w * self._y_integrated(m, -1.0, 1.0)))

    @property
    def mass_map(self) -> tuple[np.ndarray, np.ndarray]:
        """Nodes (u_k, m_k [GeV]) of the piecewise-linear "spectrum" map u0 -> m (copies)."""
        return self._map_u.copy(), self._map_m.copy()

    def dsigma_dm(self, m: Any) -> np.ndarray:
        """d sigma / dm [pb/GeV] with the lepton cuts, shape of ``m`` [GeV]; 0 outside the window."""
        m = np.asarray(m, dtype=np.float64)
        if m.size and not (np.all(np.isfinite(m)) and np.min(m) > 0.0):
            raise ValueError("dsigma_dm: masses must be finite and > 0 GeV")
        flat = m.ravel()
        inside = (flat >= self.cuts.m_min) & (flat <= self.cuts.m_max)
        out = np.zeros(flat.shape)
        if inside.any():
            out[inside] = self._y_integrated(flat[inside], -1.0, 1.0)
        return out.reshape(m.shape)

    def sigma_bins(self, m_edges: Any, cos_min: float = -1.0, cos_max: float = 1.0) -> np.ndarray:
        """Cross section [pb] in each mass bin (n_bins,), with cos(theta*) in [cos_min, cos_max]."""
        edges = _check_edges(m_edges, "m_edges")
        self._check_sub_window(edges[0], edges[-1])
        if not -1.0 <= cos_min < cos_max <= 1.0:
            raise ValueError(
                f"cos range needs -1 <= cos_min < cos_max <= 1, got [{cos_min}, {cos_max}]"
            )
        extra = self._cos_kink_masses((cos_min, cos_max))
        out = np.empty(edges.size - 1)
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            m, w = self._mass_nodes(lo, hi, extra)
            out[i] = np.sum(w * self._y_integrated(m, cos_min, cos_max))
        return out

    def afb(self, m_edges: Any) -> np.ndarray:
        """Forward-backward asymmetry (F - B) / (F + B) of cos(theta*) in each mass bin (n_bins,)."""
        forward = self.sigma_bins(m_edges, 0.0, 1.0)
        backward = self.sigma_bins(m_edges, -1.0, 0.0)
        return (forward - backward) / (forward + backward)

    def dsigma_dcos(
        self, cos_theta: Any, m_min: float | None = None, m_max: float | None = None
    ) -> np.ndarray:
        """d sigma / dcos(theta*) [pb] with the cuts, integrated over [m_min, m_max] GeV.

        ``cos_theta`` any shape in [-1, 1]; the window defaults to the cuts'.
        """
        lo, hi = self._check_sub_window(m_min, m_max)
        c_all = np.asarray(cos_theta, dtype=np.float64)
        if c_all.size and not (np.all(np.isfinite(c_all)) and np.max(np.abs(c_all)) <= 1.0):
            raise ValueError("dsigma_dcos: cos_theta must lie in [-1, 1]")
        cuts = self.cuts
        root_s = self.params.sqrt_s
        n_y = 24 * self.refinement
        out = np.empty(c_all.size)
        for i, c in enumerate(c_all.ravel().tolist()):
            # the pT cut needs m > 2 pT / sin(theta); the eta cut |y| < eta_max - atanh|c|
            m_low = max(lo, 2.0 * cuts.pt_min / math.sqrt(max(1.0 - c * c, 1e-300)))
            if math.isinf(cuts.eta_max):
                y_cut = math.inf
            else:
                y_cut = cuts.eta_max - math.atanh(abs(c)) if abs(c) < 1.0 else -math.inf
            if m_low >= hi or y_cut <= 0.0:
                out[i] = 0.0
                continue
            extra = (m_low, root_s * math.exp(-y_cut)) if math.isfinite(y_cut) else (m_low,)
            m, w = self._mass_nodes(m_low, hi, extra)
            y_top = np.minimum(np.log(root_s / m), y_cut)
            y, wy = _panel_nodes(np.stack([0 * y_top, 0.5 * y_top, y_top], axis=1), n_y)
            mm = np.broadcast_to(m[:, None], y.shape)
            lp_u, lm_u, lp_d, lm_d = self._luminosities(mm, y)
            t_u, a_u, t_d, a_d = (v[:, None] for v in self.partonic_coefficients(m))
            dens = (1 + c * c) * (t_u * lp_u + t_d * lp_d) + 2 * c * (a_u * lm_u + a_d * lm_d)
            out[i] = np.sum(w * 2.0 * np.sum(wy * 2.0 / mm * dens, axis=1))
        return out.reshape(c_all.shape)


# -- helpers ---------------------------------------------------------------------------


def lepton_momenta(m: Any, y: Any, cos_theta: Any, phi: Any = None) -> np.ndarray:
    """Lab four-momenta (E, px, py, pz) [GeV] of massless e- and e+ at LO: shape (n, 2, 4).

    ``m`` [GeV], ``y``, ``cos_theta`` (the angle of :mod:`this module <phenoflow.physics.drell_yan>`)
    and ``phi`` [rad] of the e- (default 0) are (n,) arrays.
    """
    m, y, c = (np.asarray(v, dtype=np.float64).ravel() for v in (m, y, cos_theta))
    phi = np.zeros_like(m) if phi is None else np.asarray(phi, dtype=np.float64).ravel()
    cz = np.where(y >= 0.0, c, -c)
    sin = np.sqrt(np.maximum(1.0 - cz * cz, 0.0))
    half = 0.5 * m
    ch, sh = np.cosh(y), np.sinh(y)
    out = np.empty((m.size, 2, 4))
    for k, sign in ((0, 1.0), (1, -1.0)):
        pz_rest = sign * half * cz
        out[:, k, 0] = half * ch + pz_rest * sh
        out[:, k, 1] = sign * half * sin * np.cos(phi)
        out[:, k, 2] = sign * half * sin * np.sin(phi)
        out[:, k, 3] = half * sh + pz_rest * ch
    return out


def _trapezoid(f: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(x)))


def _check_edges(edges: Any, name: str) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError(f"{name} must be an increasing 1D array of >= 2 edges, got {edges!r}")
    return edges


def _gauss_legendre_panels(edges: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of ``order``-point Gauss-Legendre on each [edges[i], edges[i+1]]."""
    t, wt = np.polynomial.legendre.leggauss(order)
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
    return (mid + half * t).ravel(), (half * wt).ravel()


def _panel_nodes(breaks: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights (M, P order) on the P panels of each row of ``breaks`` (M, P + 1)."""
    t, wt = np.polynomial.legendre.leggauss(order)
    half = 0.5 * np.diff(breaks, axis=1)[:, :, None]
    mid = 0.5 * (breaks[:, 1:] + breaks[:, :-1])[:, :, None]
    rows = breaks.shape[0]
    return (mid + half * t).reshape(rows, -1), (half * wt).reshape(rows, -1)


def _breit_wigner_nodes(mass: float, width: float, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` masses in [lo, hi] evenly spaced in the Breit-Wigner's arctan variable."""

    def angle(m: float) -> float:
        return math.atan((m * m - mass * mass) / (mass * width))

    theta = np.linspace(angle(lo), angle(hi), n)
    return np.sqrt(np.maximum(mass * mass + mass * width * np.tan(theta), lo * lo))


def _init_pythia(settings: tuple[str, ...]) -> Any:
    """An initialised, quiet ``pythia8mc.Pythia`` with ``settings``."""
    from phenoflow.generation.pythia import make_pythia

    return make_pythia(("Next:numberCount = 0", *settings))


def pythia_settings(m_min: float, m_max: float, sqrt_s: float = 13000.0) -> tuple[str, ...]:
    """Pythia settings for process-level pp -> gamma*/Z -> e+e- with m in [m_min, m_max] GeV."""
    if not 0.0 < m_min < m_max:
        raise ValueError(f"pythia_settings: needs 0 < m_min < m_max, got [{m_min}, {m_max}] GeV")
    return (
        f"Beams:eCM = {sqrt_s!r}",
        "WeakSingleBoson:ffbar2gmZ = on",
        "23:onMode = off",
        "23:onIfAny = 11",
        f"PhaseSpace:mHatMin = {m_min!r}",
        f"PhaseSpace:mHatMax = {m_max!r}",
        "PartonLevel:all = off",  # also no ISR, FSR, MPI
        "HadronLevel:all = off",
    )


def pythia_sigma(
    m_min: float,
    m_max: float,
    n_events: int,
    seed: int,
    sqrt_s: float = 13000.0,
    settings: tuple[str, ...] = (),
) -> tuple[float, float]:
    """Pythia's sigma_gen and its statistical error [pb] for ``ffbar2gmZ`` -> e+e- in the window.

    Process level only (no showers, no hadronisation), ``n_events`` events with
    ``Random:seed = seed`` (1 ... 900 000 000); extra ``settings`` come last.
    """
    if n_events < 1:
        raise ValueError(f"pythia_sigma: n_events must be >= 1, got {n_events}")
    if not 1 <= seed <= PYTHIA_SEED_MAX:
        raise ValueError(f"pythia_sigma: seed must lie in 1 ... {PYTHIA_SEED_MAX}, got {seed}")
    pythia = _init_pythia(
        (
            *pythia_settings(m_min, m_max, sqrt_s),
            "Random:setSeed = on",
            f"Random:seed = {seed}",
            *settings,
        )
    )
    for _ in range(n_events):
        pythia.next()
    info = pythia.infoPython()
    return info.sigmaGen() * MB_TO_PB, info.sigmaErr() * MB_TO_PB
