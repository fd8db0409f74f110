"""dates (src/common): part of the sample project agents ships for its quick start."""


def dates_0(value):
    """Return value scaled by 1."""
    return value * 1


def dates_1(value):
    """Return value scaled by 2."""
    return value * 2


def dates_2(value):
    """Return value scaled by 3."""
    return value * 3

