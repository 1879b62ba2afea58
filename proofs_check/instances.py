"""A small catalogue of class-count instances for the Section 3 checks, with known answers.

Each instance names where it comes from and, where one is known by a route independent of
seli_exact, its nuclear norm ||Zhat||_* (= p* of Theorem 1):

* balanced, n_c = n0 for all c: Zhat Zhat^T = P D P = n0 P, so every singular value is sqrt(n0)
  and ||Zhat||_* = (k - 1) sqrt(n0);
* binary, counts (n1, n2): P D P = ((n1 + n2)/2) P with P of rank 1, so
  ||Zhat||_* = sqrt((n1 + n2)/2);
* the paper's Fig. 1 case (4, 10, 1/2, 5): the printed STEP singular values of Sec. A,
  sqrt(R n_min), sqrt(n_min (m + s R)/k), sqrt(n_min), each once: 5 sqrt 2 + sqrt(110)/2 + sqrt 5.
  (Checked against a dense SVD in tests/test_section3_instances.py.)

Others carry no printed value; the checks compare them against a dense SVD of Zhat.

>>> [i.name for i in step_instances("quick")][:2]
['fig1', 'balanced']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seli_exact import ClassCounts, from_counts, long_tailed, step


@dataclass(frozen=True)
class Instance:
    name: str
    counts: ClassCounts
    source: str
    nuclear_norm: float | None = None  # known answer, by the route in `source`


def _step(name, k, R, rho, n_min, source, nuc=None) -> Instance:
    return Instance(name, step(k, R, rho, n_min), source, nuc)


def step_instances(profile: str = "quick") -> list[Instance]:
    """(R, rho)-STEP instances; the thorough profile adds larger k and R."""
    out = [
        _step(
            "fig1",
            4,
            10,
            "1/2",
            5,
            "paper Fig. 1; Sec. A singular values",
            5 * math.sqrt(2) + math.sqrt(110) / 2 + math.sqrt(5),
        ),
        _step("balanced", 4, 1, "1/2", 5, "R = 1: (k-1) sqrt(n0)", 3 * math.sqrt(5)),
        _step("binary", 2, 10, "1/2", 3, "k = 2: sqrt((n1+n2)/2)", math.sqrt((30 + 3) / 2)),
        _step("one-minority", 3, 2, "1/3", 2, "odd k, a single minority"),
        _step("one-majority", 5, 100, "4/5", 1, "a single majority, R = 100"),
        _step("k10", 10, 100, "3/10", 2, "k = 10, rho = 0.3"),
    ]
    if profile == "thorough":
        out += [
            _step("k20-R1000", 20, 1000, "1/4", 1, "k = 20, R = 1000"),
            _step("k8-Rfrac", 8, "5/2", "1/2", 2, "rational R = 5/2"),
            _step("k30", 30, 10, "2/3", 3, "k = 30"),
            _step("R1e6", 6, 10**6, "1/2", 1, "extreme R = 10^6"),
            _step("balanced-k12", 12, 1, "1/4", 7, "R = 1, k = 12", 11 * math.sqrt(7)),
        ]
    return out


def count_instances(profile: str = "quick") -> list[Instance]:
    """Arbitrary count vectors, outside the paper's STEP model."""
    out = [
        Instance("mixed6", from_counts([1, 2, 3, 50, 7, 1000]), "arbitrary counts"),
        Instance("ladder5", from_counts([5, 4, 3, 2, 1]), "all counts distinct"),
        Instance("one-giant", from_counts([1000, 1, 1, 1]), "one class dominates"),
        Instance("long-tail10", long_tailed(10, 100, 500), "exp long tail, k = 10, ratio = 100"),
    ]
    if profile == "thorough":
        rng = np.random.default_rng(20221128)
        for j in range(8):
            k = int(rng.integers(3, 16))
            c = [int(v) for v in rng.integers(1, 10 ** int(rng.integers(1, 5)), size=k)]
            out.append(Instance(f"random{j}", from_counts(c), "seeded random counts"))
        out.append(Instance("ladder20", from_counts(list(range(1, 21))), "20 distinct counts"))
    return out


def all_instances(profile: str = "quick") -> list[Instance]:
    return step_instances(profile) + count_instances(profile)


def certificate_instances(profile: str = "quick") -> list[Instance]:
    """The instances the dual-certificate claims (Sec. 3.3) run: every instance, except that the
    quick profile leaves out those with more than 12 classes (their dense 50-digit references
    dominate its time)."""
    return [i for i in all_instances(profile) if profile != "quick" or i.counts.k <= 12]


def small_instances(profile: str = "quick") -> list[Instance]:
    """Instances small enough for local search on the non-convex (2) (n <= 12): STEP, and
    arbitrary counts with three distinct values (three secular roots' worth of structure)."""
    out = [
        _step("step-small", 4, 4, "1/2", 1, "(4, 1/2)-STEP, n_min = 1"),
        Instance("counts-321", from_counts([3, 2, 1]), "three distinct counts"),
    ]
    if profile == "thorough":
        out += [
            _step("step-k3", 3, 2, "1/3", 1, "odd k"),
            _step("step-k2", 2, 3, "1/2", 1, "binary"),
            _step("step-k6", 6, 3, "1/2", 1, "k = 6"),
            _step("step-k5", 5, 2, "2/5", 1, "k = 5"),
            Instance("counts-4321", from_counts([4, 3, 2, 1]), "four distinct counts"),
        ]
    return out
