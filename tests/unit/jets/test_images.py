import math
from dataclasses import replace

import awkward as ak
import numpy as np
import pytest

from phenoflow.jets.images import ImageConfig, jet_images
from phenoflow.physics.kinematics import delta_phi, eta, phi

PLAIN = ImageConfig(center=False, rotate=False, flip=False, normalize=False)


def make_jets(jets):
    """Jets of (eta, phi, pt, charge) massless particles -> n_jets * var * record."""
    flat = np.array([p for jet in jets for p in jet], dtype=np.float64).reshape(-1, 4)
    counts = np.array([len(jet) for jet in jets], dtype=np.int64)
    p_eta, p_phi, p_pt, charge = flat.T
    record = ak.zip(
        {
            "px": p_pt * np.cos(p_phi),
            "py": p_pt * np.sin(p_phi),
            "pz": p_pt * np.sinh(p_eta),
            "E": p_pt * np.cosh(p_eta),
            "pid": np.where(charge != 0, 211, 22).astype(np.int32),
            "charge": charge.astype(np.int32),
        },
        with_name="Particle",
    )
    return ak.unflatten(record, counts)


def jet_axis(eta_values, phi_values):
    eta_values = np.asarray(eta_values, dtype=np.float64)
    return {"eta": eta_values, "phi": np.asarray(phi_values, dtype=np.float64)}


def random_jet(rng, n, eta0=0.4, phi0=-1.0, spread=0.35):
    return [
        (
            eta0 + rng.uniform(-spread, spread),
            phi0 + rng.uniform(-spread, spread),
            rng.exponential(10.0) + 0.5,
            float(rng.choice([-1, 0, 0, 1])),
        )
        for _ in range(n)
    ]


def pixel(value, config):
    return math.floor(value * config.size / (2 * config.half_width) + config.size / 2)


def test_shape_dtype_and_normalisation():
    rng = np.random.default_rng(1)
    cons = make_jets([random_jet(rng, 40), random_jet(rng, 25, eta0=-1.0, phi0=3.0)])
    config = ImageConfig(channels=("total", "charged", "neutral"), rotate=False, flip=False)
    images = jet_images(cons, jet_axis([0.4, -1.0], [-1.0, 3.0]), config)
    assert images.shape == (2, 3, 40, 40)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images.sum(axis=(2, 3)), 1.0, rtol=1e-5)
    # also with rotation and flipping (all particles stay within 0.35 * sqrt(2) < 0.8)
    images = jet_images(cons, jet_axis([0.4, -1.0], [-1.0, 3.0]), replace(config, rotate=True))
    np.testing.assert_allclose(images.sum(axis=(2, 3)), 1.0, rtol=1e-5)


def test_axis_convention_row_is_dphi_col_is_deta():
    config = replace(PLAIN, size=41)
    images = jet_images(make_jets([[(1.5, 0.7, 8.0, 0)]]), jet_axis([1.0], [1.0]), config)
    rows, cols = np.nonzero(images[0, 0])
    # deta = +0.5 -> right of centre, dphi = -0.3 -> below centre
    assert (rows.tolist(), cols.tolist()) == ([pixel(-0.3, config)], [pixel(0.5, config)])
    assert cols[0] > 20 > rows[0]
    assert images[0, 0, rows[0], cols[0]] == pytest.approx(8.0)


def test_centring_moves_given_centre_to_central_pixel():
    # leading particle at (1.3, 2.2), pT 100; softer one on the jet axis (1.0, 2.0)
    cons = make_jets([[(1.3, 2.2, 100.0, 1), (1.0, 2.0, 10.0, 0)]])
    axis = jet_axis([1.0], [2.0])
    config = replace(PLAIN, size=41, center=True)  # odd: the centre is mid-pixel (20, 20)
    images = jet_images(cons, axis, config, center_eta=np.array([1.3]), center_phi=np.array([2.2]))
    assert images[0, 0, 20, 20] == pytest.approx(100.0)
    assert images[0, 0, pixel(-0.2, config), pixel(-0.3, config)] == pytest.approx(10.0)
    # even size: the centre is the lower-left corner of pixel (size/2, size/2); use the exact
    # eta/phi of the particle as centre so its coordinates are exactly 0
    lead = cons[:, :1]
    c_eta = np.asarray(eta(lead.px, lead.py, lead.pz)[:, 0])
    c_phi = np.asarray(phi(lead.px, lead.py)[:, 0])
    config = replace(PLAIN, size=40, center=True)
    images = jet_images(cons, axis, config, center_eta=c_eta, center_phi=c_phi)
    assert images[0, 0, 20, 20] == pytest.approx(100.0)
    # without a given centre the jet axis is the centre, so the soft particle is central
    images = jet_images(cons, axis, replace(PLAIN, size=41, center=True))
    assert images[0, 0, 20, 20] == pytest.approx(10.0)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_rotation_puts_diagonal_pair_on_vertical_axis(sign):
    # pair along the diagonal (sign = 1) or the anti-diagonal (sign = -1) through the jet axis
    cons = make_jets([[(0.3, sign * 0.3, 60.0, 1), (-0.15, -sign * 0.15, 40.0, 0)]])
    config = replace(PLAIN, size=41, rotate=True)
    images = jet_images(cons, jet_axis([0.0], [0.0]), config)[0, 0]
    _, cols = np.nonzero(images)
    assert cols.tolist() == [20, 20]  # both on the vertical (dphi) axis through the centre
    # distances from the centre are preserved: 0.3 sqrt 2 and 0.15 sqrt 2, on opposite sides
    far, near = pixel(0.3 * math.sqrt(2), config), pixel(-0.15 * math.sqrt(2), config)
    if images[far, 20] == 0:  # the 180-degree ambiguity is resolved by the flip, not here
        far, near = pixel(-0.3 * math.sqrt(2), config), pixel(0.15 * math.sqrt(2), config)
    assert images[far, 20] == pytest.approx(60.0)
    assert images[near, 20] == pytest.approx(40.0)


def test_rotation_diagonalises_second_moments():
    rng = np.random.default_rng(5)
    # an elongated jet along a 30-degree line
    t = rng.normal(0.0, 0.25, 200)
    s = rng.normal(0.0, 0.04, 200)
    c30, s30 = math.cos(math.pi / 6), math.sin(math.pi / 6)
    particles = [
        (t_ * c30 - s_ * s30, t_ * s30 + s_ * c30, w, 0)
        for t_, s_, w in zip(t, s, rng.exponential(5.0, 200) + 0.1, strict=True)
    ]
    config = replace(PLAIN, size=201, half_width=2.0, rotate=True)
    image = jet_images(make_jets([particles]), jet_axis([0.0], [0.0]), config)[0, 0]
    centres = (np.arange(201) + 0.5) * (4.0 / 201) - 2.0
    y, x = np.meshgrid(centres, centres, indexing="ij")
    sxx, syy, sxy = (image * x * x).sum(), (image * y * y).sum(), (image * x * y).sum()
    assert abs(sxy) < 0.02 * syy
    assert syy > 10 * sxx


def test_flip_puts_heavier_side_at_positive_deta_and_dphi():
    heavy_negative = [(-0.3, -0.2, 70.0, 1), (0.1, 0.25, 30.0, 0)]
    config = replace(PLAIN, flip=True)
    axis = jet_axis([0.0], [0.0])
    plain = jet_images(make_jets([heavy_negative]), axis, PLAIN)[0, 0]
    flipped = jet_images(make_jets([heavy_negative]), axis, config)[0, 0]
    np.testing.assert_array_equal(flipped, plain[::-1, ::-1])
    row, col = np.unravel_index(np.argmax(flipped), flipped.shape)
    assert row >= 20
    assert col >= 20
    assert flipped[pixel(0.2, config), pixel(0.3, config)] == pytest.approx(70.0)
    # the mirrored jet is already flipped: the flip leaves it unchanged
    mirrored = [(0.3, 0.2, 70.0, 1), (-0.1, -0.25, 30.0, 0)]
    np.testing.assert_array_equal(
        jet_images(make_jets([mirrored]), axis, config),
        jet_images(make_jets([mirrored]), axis, PLAIN),
    )
    np.testing.assert_array_equal(jet_images(make_jets([mirrored]), axis, config)[0, 0], flipped)


def test_flip_acts_on_each_axis_separately():
    heavy_left_up = [(-0.3, 0.2, 70.0, 1), (0.1, -0.25, 30.0, 0)]
    axis = jet_axis([0.0], [0.0])
    plain = jet_images(make_jets([heavy_left_up]), axis, PLAIN)[0, 0]
    flipped = jet_images(make_jets([heavy_left_up]), axis, replace(PLAIN, flip=True))[0, 0]
    np.testing.assert_array_equal(flipped, plain[:, ::-1])


def test_charged_plus_neutral_is_total():
    rng = np.random.default_rng(3)
    cons = make_jets([random_jet(rng, 50), random_jet(rng, 30), random_jet(rng, 4)])
    config = ImageConfig(channels=("total", "charged", "neutral"), normalize=False)
    images = jet_images(cons, jet_axis([0.4] * 3, [-1.0] * 3), config)
    np.testing.assert_allclose(images[:, 1] + images[:, 2], images[:, 0], rtol=1e-6, atol=1e-6)
    assert images[:, 1].sum() > 0
    assert images[:, 2].sum() > 0


def test_all_switches_off_is_the_plain_histogram():
    rng = np.random.default_rng(11)
    particles = random_jet(rng, 60, eta0=-0.7, phi0=3.0, spread=0.9)  # wraps past pi; some outside
    cons = make_jets([particles])
    images = jet_images(cons, jet_axis([-0.7], [3.0]), PLAIN)
    x = np.asarray(ak.flatten(eta(cons.px, cons.py, cons.pz))) + 0.7
    y = np.asarray(delta_phi(ak.flatten(phi(cons.px, cons.py)), 3.0))
    w = np.hypot(np.asarray(ak.flatten(cons.px)), np.asarray(ak.flatten(cons.py)))
    expected, _, _ = np.histogram2d(y, x, bins=40, range=[[-0.8, 0.8], [-0.8, 0.8]], weights=w)
    np.testing.assert_allclose(images[0, 0], expected, rtol=1e-6)
    assert 0 < images.sum() < w.sum()  # particles outside the window are dropped
    # centring on: without a given centre this is the same image
    np.testing.assert_array_equal(
        jet_images(cons, jet_axis([-0.7], [3.0]), replace(PLAIN, center=True)), images
    )
    # a given centre is ignored while centring is off
    np.testing.assert_array_equal(
        jet_images(cons, jet_axis([-0.7], [3.0]), PLAIN, np.array([0.0]), np.array([0.0])), images
    )


def test_preprocessed_jet_is_a_fixed_point():
    # centred on the axis, principal axis along dphi, heavier halves at positive deta and dphi
    # (all away from pixel edges; the small off-axis pair tilts the axis by only ~0.004 rad)
    particles = [
        (0.0, 0.3, 50.0, 1),
        (0.0, -0.1, 20.0, 0),
        (0.0, 0.0, 30.0, 1),
        (0.1, 0.05, 5.0, 0),
        (-0.05, 0.05, 2.0, 1),
    ]
    cons = make_jets([particles])
    axis = jet_axis([0.0], [0.0])
    on = ImageConfig(size=41, normalize=False)
    np.testing.assert_allclose(
        jet_images(cons, axis, on), jet_images(cons, axis, replace(PLAIN, size=41)), atol=1e-5
    )


def test_empty_jet_gives_zero_image_without_nan():
    cons = make_jets([[], [(0.1, 0.1, 5.0, 1)]])
    config = ImageConfig(channels=("total", "charged", "neutral"))
    images = jet_images(cons, jet_axis([0.0, 0.0], [0.0, 0.0]), config)
    assert np.isfinite(images).all()
    assert not images[0].any()
    assert not images[1, 2].any()  # no neutral particles: empty channel stays zero
    assert images[1, 0].sum() == pytest.approx(1.0)
    none = jet_images(make_jets([]), jet_axis([], []), config)
    assert none.shape == (0, 3, 40, 40)


def test_bad_config_and_inputs_name_the_problem():
    with pytest.raises(ValueError, match="channels"):
        ImageConfig(channels=("total", "photons"))
    with pytest.raises(ValueError, match="size"):
        ImageConfig(size=0)
    with pytest.raises(ValueError, match="half_width"):
        ImageConfig(half_width=-1.0)
    cons = make_jets([[(0.1, 0.1, 5.0, 1)]])
    with pytest.raises(ValueError, match="center_phi"):
        jet_images(cons, jet_axis([0.0], [0.0]), ImageConfig(), center_eta=np.zeros(1))
    with pytest.raises(ValueError, match="center_eta"):
        jet_images(cons, jet_axis([0.0], [0.0]), ImageConfig(), np.zeros(2), np.zeros(2))
    with pytest.raises(KeyError, match="'phi'"):
        jet_images(cons, {"eta": np.zeros(1)}, ImageConfig(center=False))
