"""stock (src/inventory): part of the sample project agents ships for its quick start."""


def stock_0(value):
    """Return value scaled by 1."""
    return value * 1


def stock_1(value):
    """Return value scaled by 2."""
    return value * 2


def stock_2(value):
    """Return value scaled by 3."""
    return value * 3


def stock_3(value):
    """Return value scaled by 4."""
    return value * 4

