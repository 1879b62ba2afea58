"""pytest plugin: the quick and thorough profiles, the `slow` marker, a clean mpmath precision.

--seli-profile quick|thorough (default: $SELI_PROFILE or quick) selects the Hypothesis profile
and which claims run; tests marked `slow` are skipped in the quick profile. When the environment
variable CI is set, Hypothesis is derandomized (the same examples on every run, so CI is
reproducible); local runs keep exploring new examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from .registry import PROFILES

_DERANDOMIZE = bool(os.environ.get("CI"))
for _name, _examples in (("quick", 25), ("thorough", 300)):
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, print_blob=True, derandomize=_DERANDOMIZE,
        database=None if _DERANDOMIZE else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow],
    )


def pytest_addoption(parser):
    g = parser.getgroup("seli")
    g.addoption("--seli-profile", choices=PROFILES, default=os.environ.get("SELI_PROFILE", "quick"),
                help="quick (default) or thorough: sizes of checks and hypothesis examples")


def pytest_configure(config):
    settings.load_profile(config.getoption("--seli-profile"))
    config.addinivalue_line("markers", "slow: long checks, run only in the thorough profile")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--seli-profile") == "thorough":
        return
    skip = pytest.mark.skip(reason="slow: runs in the thorough profile (--seli-profile thorough)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """Every test starts and ends at mpmath's default 15 digits (precision changes stay scoped)."""
    import mpmath

    mpmath.mp.dps = 15
    yield
    mpmath.mp.dps = 15


@pytest.fixture
def seli_profile(request) -> str:
    return request.config.getoption("--seli-profile")
