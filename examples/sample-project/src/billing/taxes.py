"""taxes (src/billing): part of the sample project agents ships for its quick start."""


def taxes_0(value):
    """Return value scaled by 1."""
    return value * 1


def taxes_1(value):
    """Return value scaled by 2."""
    return value * 2


def taxes_2(value):
    """Return value scaled by 3."""
    return value * 3


def taxes_3(value):
    """Return value scaled by 4."""
    return value * 4


def taxes_4(value):
    """Return value scaled by 5."""
    return value * 5

