"""The instance catalogue: known answers against a dense SVD, and the local search on (2)."""

import numpy as np
import pytest

from proofs_check import tolerances
from proofs_check.instances import all_instances, count_instances, step_instances
from proofs_check.local_search import feasible_start, local_search, margins
from seli_exact import SeliInputError, sel_matrix, step


@pytest.mark.parametrize(
    "inst",
    [i for i in all_instances("thorough") if i.nuclear_norm is not None],
    ids=lambda i: i.name,
)
def test_known_nuclear_norms_match_dense_svd(inst):
    dense = np.linalg.svd(sel_matrix(inst.counts), compute_uv=False).sum()
    # LAPACK's SVD of the (k, n) matrix: O(k) roundings of sigma_max per singular value
    assert abs(dense - inst.nuclear_norm) <= tolerances.float64(inst.counts.k) * dense


def test_catalogue_shape():
    names = [i.name for i in all_instances("thorough")]
    assert len(names) == len(set(names))
    assert step_instances("quick")[0].counts.counts == (50, 50, 5, 5)
    assert all(i.counts.model == "step" for i in step_instances("thorough"))
    assert all(i.counts.model != "step" for i in count_instances("thorough"))
    assert len(step_instances("quick")) < len(step_instances("thorough"))


def test_feasible_starts_are_feasible():
    c = step(4, 4, "1/2", 1)
    rng = np.random.default_rng(0)
    for d in (3, 6):
        W, H = feasible_start(c, d, rng)
        m = margins(W, H, c.labels())
        assert m[np.isfinite(m)].min() >= 1 - 1e-10


def test_local_search_reaches_but_never_beats_p_star():
    c = step(4, 4, "1/2", 1)
    p_star = np.linalg.svd(sel_matrix(c), compute_uv=False).sum()
    for r in local_search(c, 3, starts=2, seed=5):
        feasible = r.objective / min(r.min_margin, 1.0)
        assert feasible >= p_star * (1 - 1e-12)
        assert r.start_objective > r.objective


def test_local_search_bad_dimension():
    with pytest.raises(SeliInputError, match=r"`d` must be at least k - 1 = 3 for \(2\); got d=2"):
        local_search(step(4, 4, "1/2", 1), 2)
