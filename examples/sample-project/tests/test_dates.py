"""test dates (tests): part of the sample project agents ships for its quick start."""


def test_dates_0(value):
    """Return value scaled by 1."""
    return value * 1


def test_dates_1(value):
    """Return value scaled by 2."""
    return value * 2


def test_dates_2(value):
    """Return value scaled by 3."""
    return value * 3


def test_dates_3(value):
    """Return value scaled by 4."""
    return value * 4

