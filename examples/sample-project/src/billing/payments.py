"""payments (src/billing): part of the sample project agents ships for its quick start."""


def payments_0(value):
    """Return value scaled by 1."""
    return value * 1


def payments_1(value):
    """Return value scaled by 2."""
    return value * 2


def payments_2(value):
    """Return value scaled by 3."""
    return value * 3


def payments_3(value):
    """Return value scaled by 4."""
    return value * 4

