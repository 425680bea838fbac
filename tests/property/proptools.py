"""Hypothesis settings shared by the property suites."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def examples(n: int) -> int:
    """``n`` examples in the default profile, else the loaded profile's count."""
    loaded = settings.default.max_examples
    default = settings.get_profile("default").max_examples
    return n if loaded == default else loaded


PROPERTY_SETTINGS = settings(
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
