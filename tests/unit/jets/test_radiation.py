"""Radiation images of b bbar events: the event frame, the Riemann map and the pixel sums,
on hand-placed particles with known coordinates."""

import math

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.radiation import (
    RadiationImageConfig,
    bb_frame,
    event_frame,
    radiation_images,
    riemann_map,
)
from phenoflow.physics.kinematics import delta_phi

ALL = RadiationImageConfig(pt_min=0.0, charged_only=False, core_r=0.0)


def make_events(events):
    """Events of (eta, phi, pt, charge) massless particles -> n * var * particle record."""
    flat = np.array([p for ev in events for p in ev], dtype=np.float64).reshape(-1, 4)
    counts = np.array([len(ev) for ev in events], dtype=np.int64)
    p_eta, p_phi, p_pt, charge = flat.T
    record = ak.zip(
        {
            "px": p_pt * np.cos(p_phi),
            "py": p_pt * np.sin(p_phi),
            "pz": p_pt * np.sinh(p_eta),
            "E": p_pt * np.cosh(p_eta),
            "pid": np.where(charge != 0, 211, 22).astype(np.int32),
            "charge": charge.astype(np.int32),
        }
    )
    return ak.unflatten(record, counts)


def make_b_jets(jets):
    """(n, 2, 4) massless jets from [((eta, phi, pt), (eta, phi, pt)), ...]."""
    a = np.array(jets, dtype=np.float64).reshape(-1, 2, 3)
    j_eta, j_phi, j_pt = a[..., 0], a[..., 1], a[..., 2]
    return np.stack(
        [j_pt * np.cos(j_phi), j_pt * np.sin(j_phi), j_pt * np.sinh(j_eta), j_pt * np.cosh(j_eta)],
        axis=-1,
    )


# --- the Riemann map -------------------------------------------------------------------------


def test_riemann_known_points():
    r = 0.7
    u = np.array([r, -r, 0.0, 0.0, 0.0, 1e8])
    v = np.array([0.0, 0.0, r, -r, 0.0, 0.0])
    psi, z = riemann_map(u, v, r)
    # both jet axes and the whole circle through them -> z = 0; midpoint -> -1; far -> +1
    assert z[:4] == pytest.approx([0.0] * 4, abs=1e-15)
    assert z[4] == -1.0
    assert z[5] == pytest.approx(1.0, abs=1e-15)
    assert psi[0] == 0.0  # the leading jet
    assert psi[1] == pytest.approx(math.pi)
    assert psi[2:4] == pytest.approx([math.pi / 2, -math.pi / 2])


def test_riemann_range_and_monotonic_in_distance():
    d = np.linspace(0.0, 50.0, 1001)
    _, z = riemann_map(d, np.zeros_like(d), 1.3)
    assert np.all(np.diff(z) > 0)
    assert z.min() >= -1.0
    assert z.max() <= 1.0


@pytest.mark.parametrize("scale", [4.0, 0.25, 2.0**-7])
def test_riemann_is_invariant_under_a_common_rescaling(scale):
    """pT_bb independence: scaling u, v and R together (exactly, by a power of two) leaves
    psi and z bit-for-bit unchanged."""
    rng = np.random.default_rng(3)
    u, v = rng.normal(0, 2, 500), rng.normal(0, 2, 500)
    r = rng.uniform(0.2, 1.5, 500)
    psi, z = riemann_map(u, v, r)
    psi_s, z_s = riemann_map(scale * u, scale * v, scale * r)
    assert np.array_equal(psi, psi_s)
    assert np.array_equal(z, z_s)
    psi_3, z_3 = riemann_map(3.7 * u, 3.7 * v, 3.7 * r)
    assert np.allclose(psi, psi_3, rtol=0, atol=1e-14)
    assert np.allclose(z, z_3, rtol=0, atol=1e-14)


def test_riemann_on_jagged_arrays_matches_flat():
    u = ak.Array([[0.1, -2.0, 3.0], [], [0.5]])
    v = ak.Array([[0.0, 1.0, -0.2], [], [0.5]])
    r = np.array([0.5, 1.0, 2.0])
    psi, z = riemann_map(u, v, r)
    counts = ak.to_numpy(ak.num(u))
    flat_psi, flat_z = riemann_map(
        ak.to_numpy(ak.flatten(u)), ak.to_numpy(ak.flatten(v)), np.repeat(r, counts)
    )
    assert ak.to_list(ak.num(z)) == [3, 0, 1]
    assert np.array_equal(ak.to_numpy(ak.flatten(psi)), flat_psi)
    assert np.array_equal(ak.to_numpy(ak.flatten(z)), flat_z)


# --- the event frame -------------------------------------------------------------------------


def test_frame_puts_jets_on_the_horizontal_axis():
    jets = ((0.5, 1.0, 80.0), (-0.3, 2.0, 40.0))
    # particles exactly along the leading and subleading axes, and at the midpoint
    parts = [(0.5, 1.0, 5.0, 1), (-0.3, 2.0, 5.0, 1), (0.1, 1.5, 5.0, 1)]
    u, v, r = event_frame(make_events([parts]), make_b_jets([jets]))
    expected_r = 0.5 * math.hypot(0.8, 1.0)
    assert r[0] == pytest.approx(expected_r, rel=1e-14)
    assert ak.to_list(u[0]) == pytest.approx([expected_r, -expected_r, 0.0], abs=1e-12)
    assert ak.to_list(v[0]) == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


def test_phi_wraps_at_the_seam():
    # leading jet at phi = +3.0, subleading at -3.0: they are 2 pi - 6 apart across phi = pi
    jets = ((0.0, 3.0, 60.0), (0.0, -3.0, 40.0))
    frame = bb_frame(make_b_jets([jets]))
    assert abs(delta_phi(frame["phi_c"][0], math.pi)) < 1e-12  # the midpoint is pi, not 0
    r = math.pi - 3.0
    assert frame["half_distance"][0] == pytest.approx(r, rel=1e-12)
    # just across the seam from the midpoint, towards the subleading jet (-3.1) and the
    # leading one (+3.1); and a particle at phi = 0, as far as can be from both jets
    parts = [(0.0, -3.1, 2.0, 1), (0.0, 3.1, 2.0, 1), (0.0, 0.0, 2.0, 1)]
    u, v, _ = event_frame(make_events([parts]), make_b_jets([jets]))
    gap = math.pi - 3.1
    # the b bbar axis runs along phi, so it is rotated onto u
    assert ak.to_list(u[0])[:2] == pytest.approx([-gap, gap], abs=1e-12)
    assert abs(ak.to_list(u[0])[2]) == pytest.approx(math.pi, abs=1e-12)
    assert ak.to_list(v[0]) == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    _, z = riemann_map(u, v, frame["half_distance"])
    inside = (gap**2 - r**2) / (gap**2 + r**2)  # between the jets: inside the circle, z < 0
    assert ak.to_list(z[0])[:2] == pytest.approx([inside] * 2, abs=1e-12)


def _rotated_event(rng, alpha, eta_c=0.3, phi_c=3.0, r=0.9, theta=0.4):
    """Random particles and two jets about (eta_c, phi_c), all rotated by alpha about it."""
    offsets = rng.uniform(-2.0, 2.0, (60, 2))
    offsets = offsets[np.hypot(*offsets.T) < 2.0]
    jet_offsets = np.array([[r * math.cos(theta), r * math.sin(theta)]])
    jet_offsets = np.concatenate([jet_offsets, -jet_offsets])
    c, s = math.cos(alpha), math.sin(alpha)
    rot = np.array([[c, -s], [s, c]])
    p = offsets @ rot.T
    j = jet_offsets @ rot.T
    pts = rng.uniform(0.5, 10.0, len(p))
    charges = rng.choice([-1, 0, 1], len(p))
    parts = [(eta_c + x, phi_c + y, q, ch) for (x, y), q, ch in zip(p, pts, charges, strict=True)]
    jets = ((eta_c + j[0, 0], phi_c + j[0, 1], 70.0), (eta_c + j[1, 0], phi_c + j[1, 1], 50.0))
    return make_events([parts]), make_b_jets([jets])


@pytest.mark.parametrize("alpha", [0.7, -2.1, math.pi])
def test_rotating_the_event_gives_the_same_image(alpha):
    config = RadiationImageConfig(size=24, pt_min=1.0, charged_only=False, core_r=0.3)
    base = radiation_images(*_rotated_event(np.random.default_rng(5), 0.0), config)
    turned = radiation_images(*_rotated_event(np.random.default_rng(5), alpha), config)
    for kind in ("plain", "riemann"):
        assert base[kind].sum() > 0
        assert np.allclose(base[kind], turned[kind], rtol=1e-5, atol=1e-5)
    # and the coordinates themselves agree
    u0, v0, _ = event_frame(*_rotated_event(np.random.default_rng(5), 0.0))
    u1, v1, _ = event_frame(*_rotated_event(np.random.default_rng(5), alpha))
    assert np.allclose(ak.to_numpy(ak.flatten(u0)), ak.to_numpy(ak.flatten(u1)), atol=1e-12)
    assert np.allclose(ak.to_numpy(ak.flatten(v0)), ak.to_numpy(ak.flatten(v1)), atol=1e-12)


# --- the images ------------------------------------------------------------------------------


def _random_events(rng, n_events):
    events, jets = [], []
    for _ in range(n_events):  # builds test input, not library code
        k = int(rng.integers(0, 40))
        events.append(
            list(
                zip(
                    rng.uniform(-4.5, 4.5, k),
                    rng.uniform(-np.pi, np.pi, k),
                    rng.exponential(3.0, k),
                    rng.choice([-1, 0, 1], k),
                    strict=True,
                )
            )
        )
        e1, p1 = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)
        jets.append(((e1, p1, 90.0), (e1 + rng.uniform(-1, 1), p1 + rng.uniform(-2, 2), 50.0)))
    return make_events(events), make_b_jets(jets)


def test_image_sums_are_the_selected_pt():
    rng = np.random.default_rng(11)
    particles, b_jets = _random_events(rng, 30)
    config = RadiationImageConfig(size=16, pt_min=1.5, charged_only=True, core_r=0.4)
    images = radiation_images(particles, b_jets, config)
    u, v, r = event_frame(particles, b_jets)
    pt = np.hypot(particles.px, particles.py)
    r_b = ak.broadcast_arrays(r, u)[0]
    outside_cores = ((u - r_b) ** 2 + v**2 >= 0.16) & ((u + r_b) ** 2 + v**2 >= 0.16)
    selected = (pt > 1.5) & (particles.charge != 0) & outside_cores
    in_range = (abs(u) < 4.0) & (abs(v) < np.pi)
    want_all = ak.to_numpy(ak.sum(pt[selected], axis=1))
    want_plain = ak.to_numpy(ak.sum(pt[selected & in_range], axis=1))
    assert np.allclose(images["riemann"].sum(axis=(1, 2)), want_all, rtol=1e-5)
    assert np.allclose(images["plain"].sum(axis=(1, 2)), want_plain, rtol=1e-5)
    assert (want_plain < want_all).any()  # the range cut did something


def test_charged_only_and_pt_min():
    jets = [((0.0, 0.0, 80.0), (0.0, 2.0, 50.0))]
    parts = [(2.0, -2.0, 3.0, 1), (-2.0, -2.0, 4.0, 0), (1.0, -1.0, 0.5, -1)]
    config = RadiationImageConfig(size=8, pt_min=1.0, core_r=0.0)
    charged = radiation_images(make_events([parts]), make_b_jets(jets), config)
    everything = radiation_images(
        make_events([parts]),
        make_b_jets(jets),
        RadiationImageConfig(size=8, pt_min=1.0, charged_only=False, core_r=0.0),
    )
    no_cut = radiation_images(make_events([parts]), make_b_jets(jets), ALL)
    assert charged["riemann"].sum() == pytest.approx(3.0)
    assert everything["riemann"].sum() == pytest.approx(7.0)
    assert no_cut["riemann"].sum() == pytest.approx(7.5)


def test_core_r_drops_particles_near_either_jet():
    jets = [((0.0, 0.0, 80.0), (1.0, 1.0, 50.0))]
    parts = [(0.1, 0.1, 2.0, 1), (1.0, 0.75, 3.0, 1), (-1.5, -1.0, 5.0, 1), (0.5, 0.5, 7.0, 1)]
    kept = {}
    for core in (0.0, 0.3, 0.8):
        config = RadiationImageConfig(size=8, pt_min=0.0, core_r=core)
        kept[core] = radiation_images(make_events([parts]), make_b_jets(jets), config)
    assert kept[0.0]["riemann"].sum() == pytest.approx(17.0)
    assert kept[0.3]["riemann"].sum() == pytest.approx(12.0)  # 0.14 and 0.25 from a jet
    assert kept[0.8]["riemann"].sum() == pytest.approx(5.0)  # the midpoint is 0.71 from both


def test_pixels_of_known_points():
    size = 32
    jets = [((0.0, 0.0, 80.0), (0.0, -1.0, 50.0))]  # axis along phi: rotated onto u
    # the midpoint; 3 units beyond the leading jet along the axis; the leading jet itself
    parts = [(0.0, -0.5, 2.0, 1), (0.0, 2.5, 3.0, 1), (0.0, 0.0, 5.0, 1)]
    config = RadiationImageConfig(size=size, pt_min=0.0, core_r=0.0)
    images = radiation_images(make_events([parts]), make_b_jets(jets), config)
    plain, riemann = images["plain"][0], images["riemann"][0]
    # plain: row = v bin over [-pi, pi), col = u bin over [-4, 4)
    assert plain[16, 16] == pytest.approx(2.0)
    assert plain[16, 28] == pytest.approx(3.0)  # u = 3.0
    assert plain[16, 18] == pytest.approx(5.0)  # u = R = 0.5
    # riemann: col = psi bin (psi = 0 -> 16), row = arcsin(z) bin (midpoint: z = -1 -> row 0)
    assert riemann[0, 16] == pytest.approx(2.0)
    row_far = int(np.floor((math.asin((9.0 - 0.25) / (9.0 + 0.25)) / math.pi + 0.5) * size))
    assert riemann[row_far, 16] == pytest.approx(3.0)
    assert riemann[:, 16].sum() == pytest.approx(10.0)


def test_shapes_dtypes_and_empty_events():
    particles, b_jets = _random_events(np.random.default_rng(2), 4)
    empty = make_events([[], [(0.0, 0.0, 3.0, 1)]])
    images = radiation_images(empty, b_jets[:2], ALL)
    assert set(images) == {"plain", "riemann"}
    for image in images.values():
        assert image.shape == (2, 32, 32)
        assert image.dtype == np.float32
        assert not image[0].any()
    none = radiation_images(particles[:0], b_jets[:0], ALL)
    assert none["plain"].shape == (0, 32, 32)
    assert none["riemann"].dtype == np.float32
    u, v, r = event_frame(particles[:0], b_jets[:0])
    assert len(u) == len(v) == len(r) == 0


def test_bad_inputs_name_what_is_wrong():
    particles, b_jets = _random_events(np.random.default_rng(2), 3)
    with pytest.raises(ValueError, match="b_jets has shape"):
        radiation_images(particles, b_jets[:, 0], ALL)
    with pytest.raises(ValueError, match="3 events but b_jets has 2"):
        radiation_images(particles, b_jets[:2], ALL)
    same = b_jets.copy()
    same[1, 1] = same[1, 0]
    with pytest.raises(ValueError, match=r"coincide in events \[1\]"):
        event_frame(particles, same)
    with pytest.raises(ValueError, match="missing fields"):
        radiation_images(particles[["px", "py", "pz", "E"]], b_jets, ALL)
    with pytest.raises(TypeError, match="RadiationImageConfig"):
        radiation_images(particles, b_jets, {"size": 4})


@pytest.mark.parametrize(
    ("field", "value"),
    [("size", 0), ("pt_min", -1.0), ("core_r", float("nan")), ("eta_half_width", 0.0)],
)
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"RadiationImageConfig.{field}"):
        RadiationImageConfig(**{field: value})
