"""The cells of the 3D test function and the coverage metrics."""

import math

import numpy as np
import pytest

from phenoflow.scan.metrics import cosine_cell_labels, cosine_cells, coverage, grid_components
from phenoflow.scan.objectives import FUNCTION_2D_2_2, FUNCTION_2D_5_7, FUNCTION_3D


def test_3d_function_has_13_cells_on_a_dense_grid():
    n, centroids, sizes = grid_components(FUNCTION_3D.in_target, FUNCTION_3D.bounds, 96)
    assert n == 13
    # the components are 13 congruent shells (equal size up to grid effects) ...
    assert sizes.max() / sizes.min() < 1.05
    # ... centred on the maxima of the cosine product, one per predicted cell
    labels = cosine_cell_labels(FUNCTION_3D, centroids)
    assert sorted(labels.tolist()) == list(range(13))
    cells = cosine_cells(FUNCTION_3D)
    np.testing.assert_allclose(centroids, cells[labels] * 7 * math.pi, atol=0.5)


def test_cell_list_of_the_3d_function():
    cells = cosine_cells(FUNCTION_3D)
    assert len(cells) == 13
    assert np.all(np.abs(cells) <= 1)
    assert np.all(np.sum(np.abs(cells), axis=1) % 2 == 0)  # product of cosines = +1
    assert [0, 0, 0] in cells.tolist()
    assert np.count_nonzero(np.sum(np.abs(cells), axis=1) == 2) == 12


@pytest.mark.parametrize("f", [FUNCTION_2D_5_7, FUNCTION_2D_2_2])
def test_2d_cells_match_connected_components(f):
    n, _centroids, _ = grid_components(f.in_target, f.bounds, 800)
    assert n == len(cosine_cells(f))


def test_coverage_counts_and_deviation():
    rng = np.random.default_rng(0)
    x = rng.uniform(-10 * math.pi, 10 * math.pi, (300_000, 3))
    found = x[FUNCTION_3D.in_target(x)]
    report = coverage(FUNCTION_3D, found)
    assert report.n_cells == 13
    assert report.all_found
    assert report.unassigned == 0
    assert report.counts.sum() == len(found)
    np.testing.assert_allclose(report.deviation, report.counts / report.counts.mean())
    # uniform points populate the equal-volume cells evenly (Poisson: ~770 each)
    assert report.max_abs_deviation < 0.15
    # drop one cell: it is reported missing
    keep = cosine_cell_labels(FUNCTION_3D, found) != 6
    partial = coverage(FUNCTION_3D, found[keep])
    assert partial.n_found == 12
    assert not partial.all_found
    assert partial.counts[6] == 0
    assert partial.deviation[6] == 0.0
