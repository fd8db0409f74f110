"""test routes (tests): part of the sample project agents ships for its quick start."""


def test_routes_0(value):
    """Return value scaled by 1."""
    return value * 1


def test_routes_1(value):
    """Return value scaled by 2."""
    return value * 2


def test_routes_2(value):
    """Return value scaled by 3."""
    return value * 3

