"""Hypothesis strategies that build valid class-count models (no filtering with assume)."""

from fractions import Fraction

from hypothesis import strategies as st

from seli_exact import from_counts, step


@st.composite
def step_params(draw, max_k: int = 12, max_R: int = 200, max_n_min: int = 50):
    """(k, R, rho, n_min) with 1 <= rho*k <= k-1 whole and R*n_min whole."""
    k = draw(st.integers(2, max_k))
    s = draw(st.integers(1, k - 1))
    n_min = draw(st.integers(1, max_n_min))
    n_maj = draw(st.integers(n_min, max_R * n_min))
    return k, Fraction(n_maj, n_min), Fraction(s, k), n_min


@st.composite
def step_counts(draw, **kw):
    k, R, rho, n_min = draw(step_params(**kw))
    return step(k, R, rho, n_min)


@st.composite
def any_counts(draw, max_k: int = 12, max_count: int = 1000):
    """An arbitrary count vector, often with repeated counts (drawn from a small pool)."""
    k = draw(st.integers(2, max_k))
    pool = draw(st.lists(st.integers(1, max_count), min_size=1, max_size=k))
    counts = draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k))
    return from_counts(counts)
