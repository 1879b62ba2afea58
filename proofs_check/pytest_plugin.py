"""pytest plugin: profiles, the `slow` marker, and the verdict report behind `seli check`.

Options: --seli-profile quick|thorough (default: $SELI_PROFILE or quick) selects the hypothesis
profile and which claims run; tests marked `slow` are skipped in the quick profile.
--seli-report FILE writes {"profile", "claims": [...]} with every verdict recorded.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, settings

from .registry import PROFILES

settings.register_profile(
    "quick", max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

_VERDICTS: list[dict] = []


def pytest_addoption(parser):
    g = parser.getgroup("seli")
    g.addoption("--seli-profile", choices=PROFILES, default=os.environ.get("SELI_PROFILE", "quick"),
                help="quick (default) or thorough: sizes of checks and hypothesis examples")
    g.addoption("--seli-report", default=None, help="write the recorded verdicts to this JSON file")


def pytest_configure(config):
    profile = config.getoption("--seli-profile")
    settings.load_profile(profile)
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


@pytest.fixture
def record_verdict():
    """Call with (verdict, reference) to put a verdict in the report."""

    def record(verdict, reference=""):
        _VERDICTS.append(verdict.to_json(reference))

    return record


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--seli-report")
    if path:
        from seli_exact.atomic import atomic_write

        report = {"profile": session.config.getoption("--seli-profile"), "claims": list(_VERDICTS)}
        atomic_write(path, json.dumps(report, indent=2))
